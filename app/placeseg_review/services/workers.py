"""Long work off the GUI thread, in the manner of napari's ``qthreading``.

A :class:`FunctionWorker` runs ``fn(task, *args)`` in a :class:`WorkerPool`'s thread pool;
``task`` lets the function report progress and notice cancellation. Results, errors and
progress come back as Qt signals, delivered on the GUI thread (queued connections). The pool
knows its live workers, so the window can cancel them and wait for them on exit: no thread
is left running.
"""

from __future__ import annotations

import functools
import gc
import heapq
import itertools
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal


class Cancelled(Exception):
    """Raised inside a worker function by :meth:`Task.check` once the worker is cancelled."""


class WorkerSignals(QObject):
    started = Signal()
    progress = Signal(int, int)  # done, total (total 0 = unknown)
    returned = Signal(object)
    errored = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal()  # always last, whatever happened


#: Progress reaches the GUI at most this often: each update repaints the progress bar, and
#: the GUI thread waits for the GIL on every step of that while the worker computes.
PROGRESS_INTERVAL_S = 0.05


class Task:
    """Handed to the worker function: progress reporting and cooperative cancellation."""

    def __init__(self, worker: FunctionWorker) -> None:
        self._worker = worker
        self._last_progress = float("-inf")
        self._pending: tuple[int, int] | None = None  # the latest update not sent yet

    @property
    def cancelled(self) -> bool:
        return self._worker.is_cancelled

    def check(self) -> None:
        if self._worker.is_cancelled:
            raise Cancelled

    def progress(self, done: int, total: int) -> None:
        """Report ``done`` of ``total``; updates closer than PROGRESS_INTERVAL_S are dropped
        (never the last one, done == total)."""
        self.check()
        now = time.monotonic()
        if now - self._last_progress < PROGRESS_INTERVAL_S and done < total:
            self._pending = (int(done), int(total))
            return
        self._last_progress = now
        self._pending = None
        _emit(self._worker.signals.progress, int(done), int(total))

    def flush(self) -> None:
        """Send the last update if it was held back (the function has returned)."""
        if self._pending is not None:
            _emit(self._worker.signals.progress, *self._pending)
            self._pending = None


def _emit(signal: Any, *args: Any) -> None:
    """Emit, unless the window (and with it the signal's object) is already gone."""
    try:
        signal.emit(*args)
    except RuntimeError:  # "Signal source has been deleted": nobody is listening any more
        pass


class FunctionWorker:
    """Runs ``fn(task, *args, **kwargs)`` once in a pool thread.

    A plain Python object, not a ``QRunnable``: a ``QThreadPool`` touches its runnable after
    ``run()`` returns, and a Python-owned runnable can be gone by then (the GUI thread drops it
    on ``finished``), which crashed the process now and then. Python threads hold their own
    references, so there is nothing to race.
    """

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str = "", **kwargs: Any) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.name = name or getattr(fn, "__name__", "worker")
        self.signals = WorkerSignals()  # created on the GUI thread, so it lives there
        self._cancel = threading.Event()
        self.error_text = ""
        self.running = False  # set by the pool thread when it starts the work

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        self.running = True
        sig = self.signals
        _emit(sig.started)
        try:
            if self.is_cancelled:
                raise Cancelled
            task = Task(self)
            result = self.fn(task, *self.args, **self.kwargs)
            if self.is_cancelled:
                raise Cancelled
            task.flush()
            _emit(sig.returned, result)
        except Cancelled:
            _emit(sig.cancelled)
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI as data
            self.error_text = traceback.format_exc()
            _emit(sig.errored, exc)
        finally:
            _emit(sig.finished)


_IDLE_SECONDS = 2.0  # a pool thread with nothing to do for this long ends


class WorkerPool(QObject):
    """Python threads that run workers by priority; ``shutdown`` cancels and waits for them all.

    Every reference to a finished worker (and so to its signals ``QObject``) is released on the
    GUI thread: pool threads hand finished workers back through ``_done`` instead of dropping
    the last reference themselves, so a ``QObject`` is never destroyed off its own thread.
    """

    activeChanged = Signal(int)

    def __init__(self, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._max = max(1, max_threads)
        self._cond = threading.Condition()
        self._queue: list[tuple[int, int, FunctionWorker]] = []  # (-priority, sequence, worker)
        self._seq = itertools.count()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._running = 0
        self._done: list[FunctionWorker] = []
        self._workers: set[FunctionWorker] = set()
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_returned: Callable[[Any], None] | None = None,
               on_error: Callable[[Exception], None] | None = None,
               on_progress: Callable[[int, int], None] | None = None,
               on_finished: Callable[[], None] | None = None,
               on_cancelled: Callable[[], None] | None = None,
               priority: int = 0, name: str = "", **kwargs: Any) -> FunctionWorker:
        """Start ``fn(task, *args, **kwargs)``; callbacks run on this object's (GUI) thread."""
        worker = FunctionWorker(fn, *args, name=name, **kwargs)
        if self._closed:
            # the window is closing: a callback queued before the shutdown asked for more work;
            # it never starts (and never reports), instead of raising into the event loop
            return worker
        queued = Qt.ConnectionType.QueuedConnection
        sig = worker.signals
        if on_returned:
            sig.returned.connect(on_returned, queued)
        if on_error:
            sig.errored.connect(on_error, queued)
        if on_progress:
            sig.progress.connect(on_progress, queued)
        if on_cancelled:
            sig.cancelled.connect(on_cancelled, queued)
        if on_finished:
            sig.finished.connect(on_finished, queued)
        # A partial on the id, not a closure over the worker: no reference cycle through it.
        sig.finished.connect(functools.partial(self._forget, id(worker)), queued)
        self._workers.add(worker)
        self.activeChanged.emit(len(self._workers))
        with self._cond:
            self._release_done()
            heapq.heappush(self._queue, (-priority, next(self._seq), worker))
            if self._idle == 0 and len(self._threads) < self._max:
                thread = threading.Thread(target=self._loop, name=f"placeseg-worker-{name or 'job'}", daemon=True)
                self._threads.append(thread)
                thread.start()
            else:
                self._cond.notify()
        return worker

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                while not self._queue and not self._closed:
                    if not self._cond.wait(_IDLE_SECONDS) and not self._queue:
                        break
                self._idle -= 1
                if not self._queue:
                    self._threads.remove(threading.current_thread())
                    return
                worker = heapq.heappop(self._queue)[2]
                self._running += 1
            with _BUSY_LOCK:
                _BUSY[0] += 1
            try:
                worker.run()
            finally:
                # A finished job leaves up to millions of new containers (a parsed submission,
                # its columns): frozen, the collector's young passes on the GUI thread skip them
                # (each pass would otherwise walk them all: seen as 0.7 s freezes); the next
                # idle full pass unfreezes and looks at them once.
                gc.freeze()
                with _BUSY_LOCK:
                    _BUSY[0] -= 1
                with self._cond:
                    self._running -= 1
                    self._done.append(worker)  # released later, on the GUI thread
                    self._cond.notify_all()
                del worker

    def _release_done(self) -> None:
        self._done.clear()  # called with the lock held, on the GUI thread

    def _forget(self, worker_id: int) -> None:
        for worker in list(self._workers):
            if id(worker) == worker_id:
                self._workers.discard(worker)
        with self._cond:
            self._release_done()
        self.activeChanged.emit(len(self._workers))

    @property
    def pending(self) -> int:
        """Workers submitted whose ``finished`` has not been delivered yet."""
        return len(self._workers)

    def active_thread_count(self) -> int:
        """Workers running right now."""
        with self._cond:
            return self._running

    def cancel_all(self) -> None:
        for worker in list(self._workers):
            worker.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything, drop what has not started, wait for the rest. True if all ended."""
        self._closed = True
        self.cancel_all()
        deadline = time.monotonic() + timeout_ms / 1000
        with self._cond:
            dropped = [entry[2] for entry in self._queue]
            self._queue.clear()
            self._cond.notify_all()
        for worker in dropped:
            self._workers.discard(worker)
        for thread in list(self._threads):
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._cond:
            self._release_done()
            return self._running == 0 and not any(t.is_alive() for t in self._threads)


_COLLECTOR: Any = None
_BUSY = [0]  # workers running in any pool (a full collection waits until it is 0)
_BUSY_LOCK = threading.Lock()
_FULL_EVERY_S = 60.0


class _GuiThreadCollector(QObject):
    """Collects only while no worker runs: young generations on a tick, a full pass at most every
    ``_FULL_EVERY_S``. Walking every container of a 200k-prediction session takes 0.2-0.7 s,
    which must not land in the middle of an evaluation (a frozen window)."""

    def __init__(self, interval_ms: int = 500) -> None:
        super().__init__()
        self.threshold = gc.get_threshold()
        self._last_full = time.monotonic()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        if _BUSY[0]:
            return  # a worker runs: no pass now (it would walk what the worker just made)
        l0, l1, l2 = gc.get_count()
        if l0 > self.threshold[0]:
            gc.collect(0)
            if l1 > self.threshold[1]:
                gc.collect(1)
        now = time.monotonic()
        if l2 > self.threshold[2] and now - self._last_full > _FULL_EVERY_S:
            gc.unfreeze()  # what finished workers left frozen is looked at again, now
            gc.collect(2)
            self._last_full = now


def collect_garbage_on_gui_thread() -> None:
    """Let the cyclic garbage collector run only on the GUI thread (pyqtgraph's recipe).

    Python's collector runs in whichever thread happens to allocate when a threshold is
    crossed. A worker thread that collects a reference cycle holding Qt objects destroys them
    off their thread, and a collection while a worker emits through a dying object crashes the
    process (seen in the test suite as rare segfaults "Garbage-collecting"). Automatic
    collection is switched off and a GUI-thread timer collects instead (see
    :class:`_GuiThreadCollector`). Call once a ``QApplication`` exists; later calls do nothing.
    """
    global _COLLECTOR
    if _COLLECTOR is None:
        _COLLECTOR = _GuiThreadCollector()


#: How long a Python thread may run before another that waits for the GIL gets it (CPython's
#: default is 5 ms). The GUI thread needs the GIL for every call into a Python model or paint
#: method -- hundreds per repaint of the image list -- and waits up to this long each time a
#: worker is busy: measured with a 2,000-image set opening, the longest freeze fell from
#: 640-750 ms to 120-500 ms at 0.5 ms (benchmarks/gui_responsiveness.py, "opening the set").
GUI_SWITCH_INTERVAL_S = 0.0005


def share_gil_with_gui_thread() -> None:
    """Hand the GIL to a waiting thread sooner (see GUI_SWITCH_INTERVAL_S); for GUI processes."""
    if sys.getswitchinterval() > GUI_SWITCH_INTERVAL_S:
        sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
