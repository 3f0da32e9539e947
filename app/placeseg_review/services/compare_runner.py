"""Comparing the open predictions (A) with a second file (B), in a worker (progress, cancel).

B is scored exactly as A is (the same ground truth, ``placeseg_core.evaluation.evaluate``), and
``placeseg_core.compare.compare_results`` compares the two evaluations as ``placeseg compare``
does; the paired bootstrap reuses both evaluations' per-image match records (nothing is
matched again). The result lands in ``session.set_comparison``. Never on the GUI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from placeseg_core.errors import InputError, located_failures
from placeseg_core.evaluation import EvaluationCancelled, EvaluationResult, evaluate

from ..model.comparison import found_status
from ..model.data import PredictionIndex, ReviewDataset, load_predictions
from ..model.ground_truth import ScoringTruth, build_scoring_truth
from ..model.render import GtStatus
from .checks import AnalysisController
from .controller import ReviewController
from .runner import AnalysisRunner
from .session import ComparisonState, ReviewSession
from .workers import Cancelled, Task

if TYPE_CHECKING:  # (the compare package loads in the worker, not at start-up)
    from placeseg_core.compare import Comparison

COMPARE = "compare"  # the job's key (status bar, controller.jobs)
PROGRESS_TOTAL = 1000


@dataclass(frozen=True)
class _Scored:
    """File B, loaded and scored (kept so that a bootstrap does not score it again)."""

    path: Path
    index: PredictionIndex
    result: EvaluationResult


class CompareRunner(AnalysisRunner):
    key = COMPARE

    def __init__(self, session: ReviewSession, controller: ReviewController, analysis: AnalysisController,
                 parent: QObject | None = None) -> None:
        super().__init__(session, controller, analysis, parent)
        self.b_path: Path | None = None
        self.resamples = 1000
        self.seed = 0
        self._b: _Scored | None = None
        self._requested: Path | None = None  # asked for before the open predictions (A) were loaded
        session.datasetChanged.connect(self._forget)
        session.predictionsChanged.connect(self._on_predictions)
        controller.compareRequested.connect(self.request)

    def request(self, path: str | Path) -> None:
        """Compare with ``path`` as soon as predictions are open (now, if they are)."""
        if self.session.predictions is not None:
            self.open_b(path)
        else:
            self._requested = Path(path)

    def can_run(self) -> bool:
        return self.session.dataset is not None and self.session.predictions is not None and self.b_path is not None

    def open_b(self, path: str | Path) -> None:
        """Compare the open predictions with ``path`` (scores it, no bootstrap yet)."""
        self.b_path = Path(path)
        self._b = None
        self.run()

    def run(self, resamples: int = 0) -> None:
        """Score B (once) and compare; ``resamples`` > 0 adds the paired bootstrap."""
        if not self.can_run():
            self.failed.emit("open a data set, predictions (A) and a file to compare (B) first")
            return
        ds, preds = self.session.dataset, self.session.predictions
        assert ds is not None and preds is not None and self.b_path is not None
        ev = self.session.evaluation
        result_a = ev.result if ev is not None else None
        self.controller.start_job(
            COMPARE, "Compare", _compare, ds, preds, result_a, self.analysis.truth, self.b_path, self._b,
            resamples, self.seed, on_returned=lambda out, p=preds: self._done(out, p), total=PROGRESS_TOTAL,
            pool=self.controller.analysis_pool, on_cancelled=self.cancelled.emit,
            on_error=lambda exc: self.failed.emit(str(exc) if isinstance(exc, InputError) else f"{type(exc).__name__}: {exc}"),
            on_progress=self.progressed.emit, on_finished=lambda: self.runningChanged.emit(self.running()))
        self.runningChanged.emit(True)

    def bootstrap(self) -> None:
        self.run(self.resamples)

    def _done(self, out: tuple[Comparison, _Scored, GtStatus], preds: PredictionIndex) -> None:
        comparison, scored, found = out
        if self.session.predictions is not preds or scored.path != self.b_path:
            return  # other files came meanwhile
        self._b = scored
        names = (preds.path.name if preds.path else "A", scored.path.name)
        self.session.set_comparison(ComparisonState(comparison, names[0], names[1], scored.index, found))

    def _forget(self) -> None:
        self.cancel()
        self.b_path, self._b = None, None

    def _on_predictions(self) -> None:
        """New predictions (A): the comparison is of the old ones; compare again with B."""
        self.cancel()
        if self._requested is not None and self.session.predictions is not None:
            self.b_path, self._requested, self._b = self._requested, None, None
        if self.b_path is not None and self.can_run():
            self.run()


# ------------------------------------------------------------------ worker function (no Qt)


def _compare(task: Task, ds: ReviewDataset, preds: PredictionIndex, result_a: EvaluationResult | None,
             truth: ScoringTruth | None, b_path: Path, scored: _Scored | None, resamples: int,
             seed: int) -> tuple[Comparison, _Scored, GtStatus]:
    steps = [0, 250]  # where this phase starts, how much of the bar it has

    def progress(done: int, total: int) -> None:
        try:
            task.progress(min(PROGRESS_TOTAL, steps[0] + (int(steps[1] * done / total) if total else 0)),
                          PROGRESS_TOTAL)
        except Cancelled:
            pass  # the core polls ``cancel`` itself

    from placeseg_core.compare import compare_results  # noqa: PLC0415

    kwargs: dict[str, Any] = {"cancel": lambda: task.cancelled, "workers": 1}
    try:
        if truth is None or truth.dataset_key != id(ds):
            truth = build_scoring_truth(ds, preds, cancelled=lambda: task.cancelled)
        if result_a is None:
            result_a = evaluate(truth.gt, preds.submission, progress=progress, **kwargs)
        steps[0] = 250
        if scored is None or scored.path != b_path:
            with located_failures(b_path):
                index = load_predictions(b_path, ds)
            task.check()
            scored = _Scored(b_path, index, evaluate(truth.gt, index.submission, progress=progress, **kwargs))
        steps[:] = [500, 500]
        task.check()
        comparison = compare_results(truth.gt, result_a, scored.result, preds.submission, scored.index.submission,
                                     resamples=resamples, seed=seed, progress=progress, **kwargs)
        found = found_status(comparison, truth.instance_ids(comparison.a.records.gt_ids))
    except (EvaluationCancelled, InterruptedError):
        raise Cancelled from None
    return comparison, scored, found
