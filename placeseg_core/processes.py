"""Forked helper processes: one way to start them (:func:`start_helper`: fork, daemon, dies
with its parent, None when the system refuses) and one policy for when (:func:`choose_workers`),
shared by the split submission loader and the fast engine's parts (:func:`run_parts`).

Core-level, not under ``evaluation``: :mod:`placeseg_core.submissions` needs it, and the
evaluation package is built on the submissions package.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, Protocol, TypeVar


class Control(Protocol):
    """What :func:`run_parts` needs of ``evaluation.control.Control``: progress and cancel."""

    def advance(self, steps: int = 1) -> None: ...

    def check(self) -> None: ...


def die_with_parent(parent_pid: int) -> None:
    """In a forked helper, first thing: be killed when the parent dies.

    A helper blocked on a pipe to a parent that was killed (SIGKILL, or SIGTERM mid-load)
    would otherwise wait for ever. Linux's ``PR_SET_PDEATHSIG`` has the kernel send it SIGKILL;
    a parent already gone before that call is caught by comparing ``getppid()``.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: the helpers' pipes end when the parent does
        pass
    if os.getppid() != parent_pid:
        os._exit(0)


_PR_SET_PDEATHSIG = 1

#: Below this many scored predictions a helper process costs more than it saves.
PARALLEL_MIN_PREDICTIONS = 20_000

T = TypeVar("T")


def fork_is_safe() -> bool:
    """2+ cores, ``fork`` available, and a single-threaded main thread (a GUI calls from a
    worker thread: forking a multi-threaded process is unsafe)."""
    if (os.cpu_count() or 1) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return False
    return threading.current_thread() is threading.main_thread() and threading.active_count() == 1


def choose_workers(requested: int | None, worth_it: bool) -> int:
    """How many processes: automatically 2 when it pays (``worth_it``) and :func:`fork_is_safe`.
    An explicit number is the caller's word that forking is safe; without ``fork`` it is 1."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if requested is not None:
        return max(1, int(requested))
    return 2 if worth_it and fork_is_safe() else 1


def start_helper(target: Callable[..., None], *args: Any) -> tuple[BaseProcess, Connection] | None:
    """Fork a daemon helper that runs ``target(conn, *args)``, ``conn`` being the sending end of
    a one-way pipe; returns the process and the receiving end. The helper first arranges to die
    with this process (:func:`die_with_parent`). None when the system refuses (no memory,
    processes or file descriptors left): the caller then does the work itself."""
    ctx = multiprocessing.get_context("fork")
    try:
        receiver, sender = ctx.Pipe(duplex=False)
    except OSError:
        return None
    try:
        process = ctx.Process(target=_helper_entry, args=(target, sender, os.getpid(), args), daemon=True)
        process.start()
    except OSError:
        receiver.close()
        return None
    finally:
        sender.close()
    return process, receiver


def _helper_entry(target: Callable[..., None], conn: Connection, parent_pid: int, args: tuple[Any, ...]) -> None:
    die_with_parent(parent_pid)
    target(conn, *args)


def stop_helper(process: BaseProcess) -> None:
    """Kill a helper whose work is no longer wanted, and reap it."""
    process.kill()
    process.join()


#: A helper still silent this long after this process finished its own part (and at least
#: this many times as long as that part took) is taken for stuck -- a forked child can
#: deadlock on a lock another thread held at the fork -- and its part runs here instead.
HELPER_PATIENCE_S = 60.0
HELPER_PATIENCE_FACTOR = 20.0


def run_parts(task: Callable[[int, Callable[[], None]], T], parts: int, control: Control,
              patience_s: float = HELPER_PATIENCE_S) -> list[T]:
    """``task(p, tick)`` for every part ``p``: part 0 here, the others in forked helpers.

    ``tick()`` marks one step of progress. A helper sends its ticks and then its result
    through a pipe; this process passes the ticks on to ``control`` while it works and while it
    waits, so progress and cancel keep working. A helper that fails in any way (an exception,
    killed for memory, silent for too long: ``patience_s``) has its part run again here: the
    part is deterministic, so the result is the same -- or the same exception is raised, with
    a traceback from this process.
    """
    if parts <= 1:
        return [task(0, control.advance)]
    helpers: list[_Helper] = []
    results: list[T | None] = [None] * parts

    def drain_all() -> None:
        for helper in helpers:
            helper.drain()

    try:
        for p in range(1, parts):
            # not forked (no memory, processes or descriptors left): a helper that has already
            # failed, so that its part runs here
            process, conn = start_helper(_helper_main, task, p) or (None, None)
            helpers.append(_Helper(process, conn, control))

        def tick() -> None:
            drain_all()
            control.advance()

        started = time.monotonic()
        results[0] = task(0, tick)
        own = time.monotonic() - started
        for p, helper in enumerate(helpers, start=1):
            last_word = time.monotonic()
            while not helper.finished:
                ticks = helper.ticks
                helper.wait_briefly()
                drain_all()  # the others' ticks too, so progress does not come in bursts
                control.check()
                if helper.ticks != ticks:
                    last_word = time.monotonic()
                elif time.monotonic() - last_word > max(patience_s, HELPER_PATIENCE_FACTOR * own):
                    helper.stop()  # stuck: killed, and its part runs here
                    helper.finished = True
            if helper.result[0]:
                results[p] = helper.result[1]
            else:  # run it here; its ticks already counted are not counted twice
                control.check()
                results[p] = task(p, _skip_first(helper.ticks, control.advance))
    finally:
        for helper in helpers:
            helper.stop()
        multiprocessing.active_children()  # reaps the helpers that have exited (never blocks)
    return results  # type: ignore[return-value]


def _skip_first(n: int, advance: Callable[[], None]) -> Callable[[], None]:
    skipped = 0

    def tick() -> None:
        nonlocal skipped
        if skipped < n:
            skipped += 1
        else:
            advance()

    return tick


def _helper_main(conn: Connection, task: Callable[[int, Callable[[], None]], Any], part: int) -> None:
    """In a forked helper: run the part, sending a tick per step, then the result."""
    try:
        result = task(part, lambda: conn.send(_TICK))
        conn.send((_DONE, result))
    except BaseException:  # noqa: BLE001 -- the parent runs the part itself and sees the error
        try:
            conn.send((_FAILED, None))
        except OSError:
            pass
    conn.close()


_TICK, _DONE, _FAILED = "tick", "done", "failed"


class _Helper:
    """The parent's side of one helper: its ticks, its result, stopping it."""

    def __init__(self, process: BaseProcess | None, conn: Connection | None, control: Control) -> None:
        self.process, self.conn, self.control = process, conn, control
        self.finished = process is None or conn is None
        self.result: tuple[bool, Any] = (False, None)
        self.ticks = 0

    def _take(self) -> None:
        assert self.conn is not None
        try:
            message = self.conn.recv()
        except (EOFError, OSError):  # died without a word
            self.finished = True
            return
        if message == _TICK:
            self.ticks += 1
            self.control.advance()
        else:
            self.finished = True
            self.result = (message[0] == _DONE, message[1])

    def drain(self) -> None:
        """Take whatever the helper has sent so far, without waiting."""
        while not self.finished and self.conn is not None and self.conn.poll():
            self._take()

    def wait_briefly(self) -> None:
        """Take the next message if one comes within 50 ms."""
        if not self.finished and self.conn is not None and self.conn.poll(0.05):
            self._take()

    def stop(self) -> None:
        if self.process is not None and not self.result[0]:
            stop_helper(self.process)
        # a helper that delivered exits by itself and is reaped by active_children() (joining
        # here would wait for the kernel to free its memory)
        if self.conn is not None:
            self.conn.close()
