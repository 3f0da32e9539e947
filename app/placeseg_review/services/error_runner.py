"""The error analysis of the current evaluation, in a worker (progress, cancel, errors).

:class:`ErrorAnalysisRunner` runs ``placeseg_core.analysis.analyze`` whenever an evaluation
finishes (``auto``) or on demand, at the IoU threshold the window shows
(``session.threshold_index``); choosing another threshold re-analyses, reusing the IoU
matrices of the last run (``overlaps``), so only the classification and the AP sums run again.
The result lands in ``session.set_error_analysis``. Never on the GUI thread.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QObject, QTimer

from placeseg_core.analysis import ErrorAnalysis, Overlaps, analyze
from placeseg_core.evaluation import EvaluationCancelled, EvaluationResult, GroundTruth
from placeseg_core.submissions import Submission

from ..model.evaluation import Evaluation
from .checks import AnalysisController
from .controller import ReviewController
from .runner import AnalysisRunner
from .session import ReviewSession
from .workers import Cancelled, Task

ERRORS = "errors"  # the job's key (status bar, controller.jobs)
PROGRESS_TOTAL = 1000
AUTO_DELAY_MS = 250  # see ErrorAnalysisRunner.__init__


class ErrorAnalysisRunner(AnalysisRunner):
    key = ERRORS

    def __init__(self, session: ReviewSession, controller: ReviewController, analysis: AnalysisController,
                 parent: QObject | None = None) -> None:
        super().__init__(session, controller, analysis, parent)
        self.auto = True  # analyse every finished evaluation, and again at each chosen threshold
        self.last_seconds: float | None = None  # wall time of the last finished run (worker + delivery)
        self.was_cancelled = False
        self._overlaps: tuple[int, Overlaps] | None = None  # (id of the records, IoU matrices)
        self._started_at = 0.0
        # The automatic run starts a moment after the evaluation is on screen: started at once,
        # its first steps hold the GIL while the window draws the new results (a 130 ms
        # freeze instead of 60 ms, measured with benchmarks/gui_responsiveness.py).
        self._auto_timer = QTimer(self, singleShot=True, interval=AUTO_DELAY_MS)
        self._auto_timer.timeout.connect(self._auto_run)
        session.evaluationChanged.connect(self._on_evaluation)
        session.thresholdChanged.connect(self._on_threshold)

    # ---------------------------------------------------------------- state
    def can_run(self) -> bool:
        ev, preds = self.session.evaluation, self.session.predictions
        return (ev is not None and preds is not None and self.analysis.ground_truth is not None
                and len(preds.submission) == len(ev.result.records.image_ids))

    def wanted_iou(self) -> float | None:
        ev = self.session.evaluation
        if ev is None:
            return None
        thresholds = ev.result.params.iou_thrs
        return float(thresholds[min(self.session.threshold_index, len(thresholds) - 1)])

    def current(self) -> bool:
        """The session's analysis is of this evaluation at the chosen threshold."""
        a, ev = self.session.error_analysis, self.session.evaluation
        return (a is not None and ev is not None and a.records is ev.result.records
                and a.iou_threshold == self.wanted_iou())

    def _on_evaluation(self, evaluation: Evaluation | None) -> None:
        self.cancel()
        if evaluation is None or (self._overlaps is not None and self._overlaps[0] != id(evaluation.result.records)):
            self._overlaps = None
        if evaluation is not None and self.auto:
            self._auto_timer.start()
        else:
            self._auto_timer.stop()

    def stop_auto(self) -> None:
        """No automatic run from now on (the window is closing)."""
        self.auto = False
        self._auto_timer.stop()

    def _auto_run(self) -> None:
        if self.auto and self.session.evaluation is not None and not self.current() and not self.running():
            self.run()

    def _on_threshold(self, _index: int) -> None:
        if self.current():
            self.cancel()  # back at the analysed threshold: a run for another one is moot
        elif self.auto and self.session.evaluation is not None:
            self.run()

    # ----------------------------------------------------------------- runs
    def run(self) -> None:
        """Analyse the current evaluation at the chosen threshold (cancels a run in progress)."""
        if not self.can_run():
            self.failed.emit("evaluate the predictions first")
            return
        ev, preds, gt = self.session.evaluation, self.session.predictions, self.analysis.ground_truth
        assert ev is not None and preds is not None and gt is not None
        records = ev.result.records
        overlaps = self._overlaps[1] if self._overlaps is not None and self._overlaps[0] == id(records) else None
        iou = self.wanted_iou()
        self.was_cancelled = False
        self._started_at = time.perf_counter()
        self.controller.start_job(
            ERRORS, "Analyse errors", _analyze, ev.result, gt, preds.submission, iou, overlaps,
            on_returned=lambda a, e=ev: self._done(a, e), total=PROGRESS_TOTAL,
            pool=self.controller.analysis_pool, on_cancelled=self._on_cancelled,
            on_error=lambda exc: self.failed.emit(f"{type(exc).__name__}: {exc}"),
            on_progress=self.progressed.emit,
            on_finished=lambda: self.runningChanged.emit(self.running()))
        self.runningChanged.emit(True)

    def _on_cancelled(self) -> None:
        self.was_cancelled = True
        self.cancelled.emit()

    def _done(self, a: ErrorAnalysis, evaluation: Evaluation) -> None:
        if self.session.evaluation is not evaluation:
            return  # another evaluation came meanwhile
        self._overlaps = (id(a.records), a.overlaps)
        self.session.set_error_analysis(a)
        self.last_seconds = time.perf_counter() - self._started_at
        if self.auto and not self.current():  # the threshold moved while it ran
            self.run()


# ------------------------------------------------------------------ worker function (no Qt)


def _analyze(task: Task, result: EvaluationResult, gt: GroundTruth, submission: Submission, iou: float,
             overlaps: Overlaps | None) -> ErrorAnalysis:
    last = [-1]

    def progress(done: int, total: int) -> None:
        value = int(PROGRESS_TOTAL * done / total) if total > 0 else 0
        if value != last[0]:
            last[0] = value
            try:
                task.progress(value, PROGRESS_TOTAL)
            except Cancelled:
                pass  # the core polls ``cancel`` itself and stops cleanly

    kwargs: dict[str, Any] = {"iou_threshold": iou, "overlaps": overlaps, "progress": progress,
                              "cancel": lambda: task.cancelled}
    try:
        return analyze(result, gt, submission, **kwargs)
    except EvaluationCancelled:
        raise Cancelled from None
