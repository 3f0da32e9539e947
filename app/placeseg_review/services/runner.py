"""What every runner of one kind of background analysis shares (error analysis, compare).

A runner starts its work through the controller (one job key at a time), reports through the
four signals below, and is bound to a panel's run / cancel / progress bar by
``jobs.JobFeed.of_runner``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:
    from .checks import AnalysisController
    from .controller import ReviewController
    from .session import ReviewSession


class AnalysisRunner(QObject):
    runningChanged = Signal(bool)
    progressed = Signal(int, int)  # done, total
    cancelled = Signal()
    failed = Signal(str)

    key = ""  # the job's key (status bar, controller.jobs)

    def __init__(self, session: ReviewSession, controller: ReviewController, analysis: AnalysisController,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.controller, self.analysis = session, controller, analysis

    def running(self) -> bool:
        return self.key in self.controller.jobs

    def cancel(self) -> None:
        if self.running():
            self.controller.cancel_job(self.key)
