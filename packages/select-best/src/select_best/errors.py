"""The one exception type the CLI turns into a message and a non-zero exit."""


class SelectError(Exception):
    """The trials could not be compared or the outputs not written; the message says why."""
