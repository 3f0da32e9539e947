"""Validation and evaluation of the open predictions, in workers (progress, cancel, errors).

:class:`AnalysisController` runs ``placeseg_core.validate.validate_submission`` when a
predictions file is opened (and on demand), and ``placeseg_core.evaluation.evaluate`` (fast
engine) on demand; results land in the session (``set_validation`` / ``set_evaluation``).
The worker functions at the bottom are Qt-free.

Ground truth for the evaluation is what ``placeseg evaluate`` would score against
(:mod:`..model.ground_truth`); it is built once per data set and kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from placeseg_core.errors import InputError
from placeseg_core.evaluation import EvaluationCancelled, GroundTruth, evaluate
from placeseg_core.isolated import IsolatedCallCancelled, IsolatedCallNotStarted, call_isolated
from placeseg_core.validate import PROGRESS_TOTAL, ValidationReport

from ..model.data import PredictionIndex, ReviewDataset
from ..model.evaluation import Evaluation
from ..model.ground_truth import (
    ScoringTruth,
    build_scoring_truth,
    catalog_source,
    expected_images,
    validate_against,
)
from .controller import ReviewController
from .session import ReviewSession
from .workers import Cancelled, Task

VALIDATE, EVALUATE = "validate", "evaluate"


class AnalysisController(QObject):
    """Starts, cancels and reports validation and evaluation runs of the open predictions."""

    runningChanged = Signal(str, bool)  # kind ("validate" / "evaluate"), running
    progressed = Signal(str, int, int)  # kind, done, total
    cancelled = Signal(str)  # kind: the run stopped on the user's request
    failed = Signal(str, str)  # kind, message (also shown by the window as an error)

    def __init__(self, session: ReviewSession, controller: ReviewController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.controller = controller
        self.auto_validate = True  # validate every predictions file when it is opened
        self.auto_evaluate = False  # evaluate too (the evaluation view turns it on)
        self._truth: ScoringTruth | None = None  # the ground truth of the open data set, once built
        self.cancel_requested_at: dict[str, float] = {}
        self.last_cancel_latency: dict[str, float] = {}  # seconds from cancel() to the cancelled signal
        session.predictionsChanged.connect(self._on_predictions)
        controller.predictionsRejected.connect(self.validate_file)
        session.datasetChanged.connect(self._on_dataset)

    # ---------------------------------------------------------------- state
    def running(self, kind: str) -> bool:
        return kind in self.controller.jobs

    def can_validate(self) -> bool:
        p = self.session.predictions
        return self.session.dataset is not None and p is not None and p.path is not None

    def can_evaluate(self) -> bool:
        return self.session.dataset is not None and self.session.predictions is not None

    @property
    def truth(self) -> ScoringTruth | None:
        """The ground truth of the open data set with its instance ids, once an evaluation built it."""
        return self._truth

    @property
    def ground_truth(self) -> GroundTruth | None:
        """The ground truth the last evaluation of the open data set scored against."""
        return self._truth.gt if self._truth is not None else None

    def _on_dataset(self) -> None:
        self._truth = None
        for kind in (VALIDATE, EVALUATE):
            self.cancel(kind)

    def _on_predictions(self) -> None:
        for kind in (VALIDATE, EVALUATE):
            self.cancel(kind)
        if self.auto_validate and self.can_validate():
            self.validate()
        if self.auto_evaluate and self.can_evaluate():
            self.evaluate()

    # ----------------------------------------------------------------- runs
    def validate(self) -> None:
        """Check the open predictions file against the data set's catalogue and images."""
        if not self.can_validate():
            self.failed.emit(VALIDATE, "open a data set and a predictions file first")
            return
        ds, preds = self.session.dataset, self.session.predictions
        assert ds is not None and preds is not None and preds.path is not None
        self._start(VALIDATE, "Validate predictions", _validate, preds.path, ds, preds,
                    on_returned=lambda report, p=preds: self._validated(report, p))

    def validate_file(self, path: Path) -> None:
        """Check a predictions file that could not be opened: the report says every problem."""
        ds = self.session.dataset
        if ds is None:
            return
        self._start(VALIDATE, "Validate predictions", _validate, Path(path), ds, self.session.predictions,
                    on_returned=lambda report: self._rejected_validated(Path(path), report))

    def _rejected_validated(self, path: Path, report: ValidationReport) -> None:
        """The report belongs to the rejected file, not to the predictions still open."""
        rejected = self.session.rejected
        if rejected is not None and rejected.path == path:
            self.session.set_rejected(replace(rejected, report=report))

    def evaluate(self) -> None:
        """Score the open predictions (fast engine, official rule, README rule beside it)."""
        if not self.can_evaluate():
            self.failed.emit(EVALUATE, "open a data set and predictions first")
            return
        ds, preds = self.session.dataset, self.session.predictions
        assert ds is not None and preds is not None
        self._start(EVALUATE, "Evaluate", _evaluate, ds, preds, self._truth,
                    on_returned=lambda out, p=preds: self._evaluated(out, p))

    def cancel(self, kind: str) -> None:
        if self.running(kind):
            self.cancel_requested_at[kind] = time.perf_counter()
            self.controller.cancel_job(kind)

    def _start(self, kind: str, label: str, fn: Callable[..., Any], *args: Any,
               on_returned: Callable[[Any], None]) -> None:
        self.cancel_requested_at.pop(kind, None)
        self.controller.start_job(kind, label, fn, *args, on_returned=on_returned, total=PROGRESS_TOTAL,
                                  pool=self.controller.analysis_pool,
                                  on_cancelled=lambda: self._on_cancelled(kind),
                                  on_error=lambda exc: self.failed.emit(kind, _message(exc)),
                                  on_progress=lambda d, t: self.progressed.emit(kind, d, t),
                                  on_finished=lambda: self.runningChanged.emit(kind, self.running(kind)))
        self.runningChanged.emit(kind, True)

    def _on_cancelled(self, kind: str) -> None:
        asked = self.cancel_requested_at.pop(kind, None)
        if asked is not None:
            self.last_cancel_latency[kind] = time.perf_counter() - asked
        self.cancelled.emit(kind)

    def _validated(self, report: ValidationReport, preds: PredictionIndex) -> None:
        if self.session.predictions is preds:
            self.session.set_validation(report)

    def _evaluated(self, out: tuple[Evaluation, ScoringTruth], preds: PredictionIndex) -> None:
        evaluation, truth = out
        if self.session.dataset is not None and truth.dataset_key == id(self.session.dataset):
            self._truth = truth
        if self.session.predictions is preds:
            self.session.set_evaluation(evaluation)


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"


# ------------------------------------------------------------------ worker functions (no Qt)


def _progress_of(task: Task, lo: int = 0, hi: int = PROGRESS_TOTAL) -> Callable[[int, int], None]:
    """A progress callback for core code mapping (done, total) onto [lo, hi]; it never raises
    (the core polls the cancel token itself and stops cleanly)."""
    last = [-1]

    def report(done: int, total: int) -> None:
        value = lo + int((hi - lo) * (done / total)) if total > 0 else lo
        if value == last[0]:
            return
        last[0] = value
        try:
            task.progress(value, PROGRESS_TOTAL)
        except Cancelled:
            pass

    return report


def _validate(task: Task, path: Path, ds: ReviewDataset, preds: PredictionIndex | None) -> ValidationReport:
    # In a process of its own: seconds of Python work in a thread here would share the GIL with
    # the GUI thread (a 150 ms freeze at 855k predictions, benchmarks/test_split.py). This
    # thread only waits on the pipe. Where no process can be started, it runs here.
    catalog, expected = catalog_source(ds), expected_images(ds, preds) or None
    try:
        return call_isolated(validate_against, path, catalog, expected, progress=_progress_of(task),
                             cancelled=lambda: task.cancelled)
    except IsolatedCallCancelled:
        raise Cancelled from None
    except IsolatedCallNotStarted:
        pass
    try:
        return validate_against(path, catalog, expected, progress=_progress_of(task), cancel=lambda: task.cancelled)
    except InterruptedError:  # ValidationCancelled
        raise Cancelled from None


def _evaluate(task: Task, ds: ReviewDataset, preds: PredictionIndex,
              cached: ScoringTruth | None) -> tuple[Evaluation, ScoringTruth]:
    from placeseg_core.evaluation.notes import quirk_notes as notes  # noqa: PLC0415
    from placeseg_core.submissions import format_note  # noqa: PLC0415

    layout = ds.kind == "layout"
    try:
        truth = cached
        if truth is None or truth.dataset_key != id(ds):
            truth = build_scoring_truth(ds, preds, _progress_of(task, 0, 400 if layout else 50),
                                        cancelled=lambda: task.cancelled)
            task.check()
        result = evaluate(truth.gt, preds.submission, engine="fast", readme_rule=False,
                          progress=_progress_of(task, 400 if layout else 50, PROGRESS_TOTAL - 20),
                          cancel=lambda: task.cancelled, workers=1)
    except (EvaluationCancelled, InterruptedError):
        raise Cancelled from None
    task.check()
    source = f"{preds.path.name if preds.path else 'predictions'} against {Path(truth.source).name}"
    # as `placeseg evaluate` prints them: a file not in the challenge's format says so first
    lines = [line for line in (format_note(preds.submission),) if line] + notes(result)
    evaluation = Evaluation.from_result(result, lines, source, truth.gt.image_ids,
                                        truth.instance_ids(result.records.gt_ids))
    return evaluation, truth
