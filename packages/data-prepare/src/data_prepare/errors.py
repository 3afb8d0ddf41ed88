"""The one exception type the CLI turns into a message and a non-zero exit."""


class PrepareError(Exception):
    """A dataset could not be fetched, verified or published; the message says why and what to do."""
