"""Loopback fakes of the services submit and publish talk to: each a real HTTP server on 127.0.0.1 that
records what it was sent and answers like the real service. The fixtures in ../conftest.py start them."""
