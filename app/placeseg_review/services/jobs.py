"""One kind of background work as a panel sees it: whether it runs, how far it is, and how to
cancel it (:class:`JobFeed`), whichever runner does the work.

The runners (``checks.AnalysisController`` for validation and evaluation, ``error_runner``
for the error analysis) start their jobs through the controller, which connects progress,
errors and the end of a job before the worker is queued; a feed passes those on, for one kind
of work, to the one run / cancel / progress bar every panel uses (``widgets.job_bar``).
Everything here lives on the GUI thread (the runners' signals are queued there).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal


class JobFeed(QObject):
    """Running state, progress and cancel of one kind of work."""

    runningChanged = Signal(bool)
    progressed = Signal(int, int)  # done, total

    def __init__(self, running: Callable[[], bool], cancel: Callable[[], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._running = running
        self._cancel = cancel

    def running(self) -> bool:
        return bool(self._running())

    def cancel(self) -> None:
        self._cancel()

    @classmethod
    def of_checks(cls, checks: Any, kind: str) -> JobFeed:
        """The feed of one kind (``"validate"``, ``"evaluate"``) of the validation and
        evaluation runner, whose signals carry the kind first."""
        feed = cls(lambda: checks.running(kind), lambda: checks.cancel(kind), checks)
        checks.runningChanged.connect(lambda k, on: k == kind and feed.runningChanged.emit(on))
        checks.progressed.connect(lambda k, d, t: k == kind and feed.progressed.emit(d, t))
        return feed

    @classmethod
    def of_runner(cls, runner: Any) -> JobFeed:
        """The feed of a runner of one kind of work (``running()``, ``cancel()``,
        ``runningChanged(bool)``, ``progressed(int, int)``), such as the error analysis."""
        feed = cls(runner.running, runner.cancel, runner)
        runner.runningChanged.connect(feed.runningChanged)
        runner.progressed.connect(feed.progressed)
        return feed
