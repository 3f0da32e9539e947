"""One call in a fresh Python process, with progress and cancel: for a GUI's long work.

A worker *thread* that runs seconds of Python -- validating 855k predictions does -- shares
the GIL with the GUI thread: every call the GUI makes into Qt then waits for it, and a list
of a few hundred rows took 120 ms to fill (benchmarks/test_split.py). In a process of its own
the work shares nothing with the window; the calling thread only waits on a pipe.

The process is *spawned* (a new interpreter), never forked: forking a process that has other
threads can copy a lock in the locked state into the child. It dies with its parent
(:func:`~placeseg_core.processes.die_with_parent`), is killed on cancel, and its failure is an
exception in the caller (the callee's own exception when it can travel back).

``fn`` must be a module-level function that takes ``progress=`` (a ``(done, total)``
callable); its arguments and result travel by pickle. A frozen application must call
``multiprocessing.freeze_support()`` first thing (packaging/pyinstaller/entry.py does).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from .processes import die_with_parent

T = TypeVar("T")

#: Progress messages are sent at most this often (a pipe message per step would cost more
#: than some steps).
PROGRESS_INTERVAL_S = 0.05


class IsolatedCallFailed(RuntimeError):
    """The process could not be started, or ended without a result (killed, crashed)."""


class IsolatedCallNotStarted(IsolatedCallFailed):
    """No process could be started (no memory, processes or file descriptors left): the
    caller may do the work itself."""


class IsolatedCallCancelled(Exception):
    """``cancelled()`` said so: the process was killed."""


def call_isolated(fn: Callable[..., T], *args: Any, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None, **kwargs: Any) -> T:
    """``fn(*args, progress=..., **kwargs)`` in a spawned process; its result, or its exception."""
    ctx = multiprocessing.get_context("spawn")
    try:
        receiver, sender = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(sender, os.getpid(), fn, args, kwargs), daemon=True)
        process.start()
    except OSError as exc:
        raise IsolatedCallNotStarted(f"cannot start a worker process: {exc.strerror or exc}") from None
    sender.close()
    done = False
    try:
        while True:
            if cancelled is not None and cancelled():
                raise IsolatedCallCancelled()
            if not receiver.poll(PROGRESS_INTERVAL_S):
                if not process.is_alive() and not receiver.poll():
                    raise IsolatedCallFailed(_ended(process.exitcode))
                continue
            try:
                kind, payload = receiver.recv()
            except (EOFError, OSError):
                process.join(1.0)
                raise IsolatedCallFailed(_ended(process.exitcode)) from None
            if kind == _PROGRESS:
                if progress is not None:
                    progress(*payload)
            elif kind == _RESULT:
                done = True
                return payload
            else:
                raise payload
    finally:
        receiver.close()
        if process.is_alive() and not done:
            process.kill()
            process.join(5.0)
        # after its result the process exits by itself; multiprocessing reaps it later


def _ended(code: int | None) -> str:
    if code is not None and code < 0:
        return f"the worker process ended without a result (it was killed by signal {-code}; out of memory?)"
    return f"the worker process ended without a result (it exited with code {code})"


_PROGRESS, _RESULT, _ERROR = "progress", "result", "error"


def _child(conn: Connection, parent_pid: int, fn: Callable[..., Any], args: tuple[Any, ...],
           kwargs: dict[str, Any]) -> None:
    die_with_parent(parent_pid)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_INTERVAL_S or done >= total:
            last[0] = now
            conn.send((_PROGRESS, (done, total)))

    global _KEPT
    _KEPT = []
    try:
        result = fn(*args, progress=progress, **kwargs)
    except BaseException as exc:  # noqa: BLE001 -- handed to the caller, which raises it
        try:
            conn.send((_ERROR, exc))
        except Exception:  # noqa: BLE001 -- an exception that does not pickle: its text
            conn.send((_ERROR, IsolatedCallFailed(f"{type(exc).__name__}: {exc}")))
        return
    conn.send((_RESULT, result))
    conn.close()
    # Done: the process ends without tearing Python down (freeing what the work built, one
    # object at a time, is wasted time; see kept_in_child). Its result is in the pipe.
    os._exit(0)


_KEPT: list[Any] | None = None


def kept_in_child() -> list[Any] | None:
    """In a process started by :func:`call_isolated`, a list whose contents are never freed
    (the process ends without tearing Python down once its result is sent); None elsewhere."""
    return _KEPT
