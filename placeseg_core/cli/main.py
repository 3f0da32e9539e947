"""``placeseg``: the command-line entry point.

Each subcommand lives in its own module exposing ``register(subparsers)``, which adds its parser
and sets ``func`` to a callable ``(args) -> int``. Errors the user must fix are
:class:`~placeseg_core.errors.InputError` and end as one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

from ..errors import InputError
from ..safety.files import DEFAULT_MAX_BYTES, forget_inputs, set_max_input_bytes
from . import cmd_convert, cmd_demo
from .options import OneLineParser, end_without_teardown, size_limit_bytes

# Subcommand modules in the order `placeseg --help` lists them. Optional ones are imported
# lazily so that a missing optional module never breaks the others.
_MODULES = [cmd_convert, cmd_demo]
_OPTIONAL = ["cmd_validate", "cmd_evaluate", "cmd_matches", "cmd_compare"]


def _version() -> str:
    """The installed distribution's version (the package metadata), "unknown" in a bare tree."""
    from importlib import metadata

    try:
        return metadata.version("placeseg-review")
    except metadata.PackageNotFoundError:
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="placeseg",
        description="Convert, check and score Places Challenge 2017 instance-segmentation data.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=OneLineParser)
    sub.required = True
    import importlib

    modules = list(_MODULES)
    for name in _OPTIONAL:
        try:
            modules.append(importlib.import_module(f"{__package__}.{name}"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{__package__}.{name}":
                raise
    for module in modules:
        module.register(sub)
    return parser


def _exit_cleanly_on_termination() -> None:
    """SIGTERM and SIGHUP end the command through SystemExit (as Ctrl-C does through
    KeyboardInterrupt), so that clean-up code runs: no temporary file is left beside an output,
    forked helpers are stopped. Only the main thread may install handlers."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) in (signal.SIG_DFL, None):
            signal.signal(signum, _raise_exit)


def _raise_exit(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    # each command is a session of its own (also when the tests run several in one process):
    # its own record of the files it read, its own input size ceiling (--max-size-mb). In
    # validate a lower value applies only to the submission it judges (reported as a problem of
    # the file); its reference files keep the default.
    forget_inputs()
    _exit_cleanly_on_termination()
    limit = size_limit_bytes(args)
    set_max_input_bytes(max(limit, DEFAULT_MAX_BYTES) if args.command == "validate" else limit)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"placeseg {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (| head): not an error of ours (an OSError too)
        return 0
    except OSError as exc:  # a file system failure the command did not foresee: still one line
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        print(f"placeseg {args.command}: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"placeseg {args.command}: interrupted", file=sys.stderr)
        return 130


class _ReaderMayLeave:
    """stdout for the ``placeseg`` command: once its reader has gone (``| head``), what is
    printed is dropped and the command carries on, so that its files (``--json``,
    ``--report``) are still written; a broken pipe cut ``evaluate`` short before its JSON."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._gone = False

    def write(self, text: str) -> int:
        if not self._gone:
            try:
                return self._stream.write(text)
            except BrokenPipeError:
                self._gone = True
        return len(text)

    def flush(self) -> None:
        if not self._gone:
            try:
                self._stream.flush()
            except BrokenPipeError:
                self._gone = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def console_main() -> NoReturn:
    """The ``placeseg`` command: :func:`main`, then the process ends at once.

    Tearing the interpreter down frees every object one by one: after parsing a large
    submission, a third of a second or more for memory the system takes back anyway. Every
    output is written and closed before :func:`main` returns (atomically, files first); the
    streams are flushed here; forked helpers end with this process (processes.die_with_parent).
    """
    end_without_teardown()
    sys.stdout = _ReaderMayLeave(sys.stdout)
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (| head): nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":
    console_main()
