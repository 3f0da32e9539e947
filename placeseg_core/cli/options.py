"""Options several commands share, parsed once, with argparse's own usage errors (exit 2)."""

from __future__ import annotations

import argparse
import math
from typing import Any, NoReturn

from ..safety.files import DEFAULT_MAX_BYTES


class OneLineParser(argparse.ArgumentParser):
    """argparse with its usage errors on one line (``placeseg CMD: error: ...``, exit 2), like
    every other error of the command line; ``--help`` still prints the full usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def megabytes(text: str) -> float:
    """An argparse type: a positive, finite number of megabytes (``nan``, ``inf``, 0 refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of megabytes") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: give a positive number of megabytes")
    return value


def add_size_limit(p: argparse.ArgumentParser, what: str = "input files") -> None:
    """``--max-size-mb``: the ceiling on input files, checked before any is read."""
    p.add_argument(
        "--max-size-mb",
        type=megabytes,
        default=DEFAULT_MAX_BYTES / 1e6,
        metavar="MB",
        help=f"refuse {what} larger than this, before reading them (default {DEFAULT_MAX_BYTES / 1e6:.0f})",
    )


def size_limit_bytes(args: argparse.Namespace) -> int:
    """The ``--max-size-mb`` of a command in bytes (the default when it has none)."""
    return int(getattr(args, "max_size_mb", DEFAULT_MAX_BYTES / 1e6) * 1e6)


# What a command parsed and built, kept until the process ends (see kept_until_exit).
_KEPT: list[Any] | None = None


def end_without_teardown() -> None:
    """Called by the ``placeseg`` command (cli.main.console_main), which ends its process
    without tearing Python down: from now on :func:`kept_until_exit` gives a list."""
    global _KEPT
    _KEPT = []


def kept_until_exit() -> list[Any] | None:
    """A list whose contents are never freed one by one, when the process ends without tearing
    Python down (the ``placeseg`` command); None otherwise (``main()`` called in a test or a
    program, which gets its memory back as usual). Freeing the 505k parsed predictions of a
    large submission takes a third of a second, for memory the system takes back at exit."""
    return _KEPT
