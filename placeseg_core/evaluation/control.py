"""Progress reporting and cancellation shared by both engines (for GUI worker threads)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ProgressCallback = Callable[[int, int], None]


class EvaluationCancelled(Exception):
    """The caller asked to stop; no partial result is returned."""


class Control:
    """Wraps ``progress(done, total)`` and ``cancel`` (a callable returning bool, or anything
    with ``is_set()`` such as :class:`threading.Event`)."""

    def __init__(self, progress: ProgressCallback | None = None, cancel: Any = None) -> None:
        self._progress = progress
        if cancel is None:
            self._cancelled: Callable[[], bool] = lambda: False
        elif hasattr(cancel, "is_set"):
            self._cancelled = cancel.is_set
        elif callable(cancel):
            self._cancelled = cancel
        else:
            raise TypeError("cancel must be a callable returning bool or an object with is_set()")
        self.done = 0
        self.total = 0

    def check(self) -> None:
        """Raise :class:`EvaluationCancelled` if cancellation was requested."""
        if self._cancelled():
            raise EvaluationCancelled("evaluation cancelled")

    def set_total(self, total: int) -> None:
        self.total = max(int(total), 1)
        self.report()

    def add_total(self, extra: int) -> None:
        self.total += int(extra)

    def advance(self, steps: int = 1) -> None:
        self.done = min(self.done + steps, self.total)
        self.report()
        self.check()

    def report(self) -> None:
        if self._progress is not None:
            self._progress(self.done, self.total)

    def finish(self) -> None:
        self.done = self.total
        self.report()
