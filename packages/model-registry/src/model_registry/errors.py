"""The one exception type the CLIs turn into a message and a non-zero exit."""


class RegistryError(Exception):
    """A bad input, a refused request or a failed operation; the message says which, in one line."""


MAX_MESSAGE = 400


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` with its whitespace runs as single spaces, cut to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
