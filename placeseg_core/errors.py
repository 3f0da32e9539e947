"""Exceptions for input the user must fix; the CLI turns them into one-line messages."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


class InputError(Exception):
    """An input file or folder cannot be used at all (missing, unreadable, malformed).

    The message names the file and, where it helps, the item and the field, so that the CLI can
    print it as it is (exit code 2) and the GUI can show it in a dialog.
    """


def describe_failure(exc: BaseException) -> str:
    """A failure in words for a message: an InputError's own text (it names file, item and
    field), else what went wrong, never an empty string."""
    if isinstance(exc, InputError):
        return str(exc)
    if isinstance(exc, MemoryError):
        return "not enough memory to hold it"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextmanager
def located_failures(path: str | os.PathLike[str]) -> Iterator[None]:
    """Turn a failure nobody foresaw while reading ``path`` into an :class:`InputError` that
    names the file (the window shows it in a dialog instead of a bare exception name)."""
    try:
        yield
    except InputError:
        raise
    except (MemoryError, OverflowError, ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
        raise InputError(f"{os.fspath(path)}: cannot use this file ({describe_failure(exc)})") from exc
