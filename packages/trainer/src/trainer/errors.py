"""Errors the trainer reports to users as one line (``trainer: error: ...``) instead of a traceback."""

from __future__ import annotations


class TrainerError(Exception):
    """A problem the user can fix: bad input, bad configuration, an unwritable output directory."""


class DatasetError(TrainerError):
    """The dataset directory is missing, incomplete or malformed."""


class NonFiniteLossError(TrainerError):
    """Training produced a NaN or infinite loss."""
