"""Long work off the GUI thread, in the manner of napari's ``qthreading``.

A :class:`FunctionWorker` runs ``fn(task, *args)`` in a :class:`WorkerPool`'s thread pool;
``task`` lets the function report progress and notice cancellation. Results, errors and
progress come back as Qt signals, delivered on the GUI thread (queued connections). The pool
knows its live workers, so the window can cancel them and wait for them on exit: no thread
is left running.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal


class Cancelled(Exception):
    """Raised inside a worker function by :meth:`Task.check` once the worker is cancelled."""


class WorkerSignals(QObject):
    started = Signal()
    progress = Signal(int, int)  # done, total (total 0 = unknown)
    returned = Signal(object)
    errored = Signal(object)  # the exception
    cancelled = Signal()
    finished = Signal()  # always last, whatever happened


class Task:
    """Handed to the worker function: progress reporting and cooperative cancellation."""

    def __init__(self, worker: FunctionWorker) -> None:
        self._worker = worker

    @property
    def cancelled(self) -> bool:
        return self._worker.is_cancelled

    def check(self) -> None:
        if self._worker.is_cancelled:
            raise Cancelled

    def progress(self, done: int, total: int) -> None:
        self.check()
        self._worker.signals.progress.emit(int(done), int(total))


class FunctionWorker(QRunnable):
    """Runs ``fn(task, *args, **kwargs)`` once in a pool thread."""

    def __init__(self, fn: Callable[..., Any], *args: Any, name: str = "", **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the pool's Python reference owns it
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.name = name or getattr(fn, "__name__", "worker")
        self.signals = WorkerSignals()
        self._cancel = threading.Event()
        self.error_text = ""

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        sig = self.signals
        sig.started.emit()
        try:
            if self.is_cancelled:
                raise Cancelled
            result = self.fn(Task(self), *self.args, **self.kwargs)
            if self.is_cancelled:
                raise Cancelled
            sig.returned.emit(result)
        except Cancelled:
            sig.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the GUI as data
            self.error_text = traceback.format_exc()
            sig.errored.emit(exc)
        finally:
            sig.finished.emit()


class WorkerPool(QObject):
    """A thread pool that tracks its workers; ``shutdown`` cancels and waits for them all."""

    activeChanged = Signal(int)

    def __init__(self, max_threads: int = 2, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max(1, max_threads))
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
        if self._closed:
            raise RuntimeError("worker pool is shut down")
        worker = FunctionWorker(fn, *args, name=name, **kwargs)
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
        sig.finished.connect(lambda w=worker: self._forget(w), queued)
        self._workers.add(worker)
        self.activeChanged.emit(len(self._workers))
        self._pool.start(worker, priority)
        return worker

    def _forget(self, worker: FunctionWorker) -> None:
        self._workers.discard(worker)
        self.activeChanged.emit(len(self._workers))

    @property
    def pending(self) -> int:
        """Workers submitted whose ``finished`` has not been delivered yet."""
        return len(self._workers)

    def active_thread_count(self) -> int:
        return self._pool.activeThreadCount()

    def cancel_all(self) -> None:
        for worker in list(self._workers):
            worker.cancel()

    def shutdown(self, timeout_ms: int = 10000) -> bool:
        """Cancel everything, drop what has not started, wait for the rest. True if all ended."""
        self._closed = True
        self.cancel_all()
        self._pool.clear()
        done = self._pool.waitForDone(timeout_ms)
        return bool(done)
