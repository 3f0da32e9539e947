"""``compare()``: two submissions scored on one ground truth, what changed, and whether it is real."""

from __future__ import annotations

import os
import time
from typing import Any

from ..evaluation.api import evaluate
from ..evaluation.control import Control, ProgressCallback
from ..evaluation.groundtruth import GroundTruth
from ..evaluation.inputs import load_inputs
from ..evaluation.notes import quirk_notes, size_notes
from ..evaluation.params import EvalParams, challenge_params
from ..evaluation.results import EvaluationResult
from ..jsonio import paused_gc
from ..submissions import Submission, format_note
from .bootstrap import bootstrap
from .matches import match_breakdown
from .result import Comparison

#: Progress units per phase (evaluate A, evaluate B, bootstrap): one bar for the whole run.
_UNITS = 1000


class _Phases:
    """Maps each phase's ``(done, total)`` onto one monotonic ``(done, total)`` for the caller."""

    def __init__(self, progress: ProgressCallback | None, phases: int) -> None:
        self.progress = progress
        self.total = phases * _UNITS

    def phase(self, index: int) -> ProgressCallback | None:
        if self.progress is None:
            return None
        report = self.progress

        def callback(done: int, total: int) -> None:
            share = _UNITS * done // total if total else _UNITS
            report(index * _UNITS + min(share, _UNITS), self.total)

        return callback


def compare(
    gt: GroundTruth | dict[str, Any] | str | os.PathLike[str],
    a: Submission | list[Any] | str | os.PathLike[str],
    b: Submission | list[Any] | str | os.PathLike[str],
    readme_rule: bool = False,
    params: EvalParams | None = None,
    resamples: int = 0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    workers: int | None = None,
    engine: str = "fast",
) -> Comparison:
    """Score A and B exactly as ``evaluate()`` does (the ground truth loaded once), compare
    them, and with ``resamples`` > 0 run the paired bootstrap (docs/compare.md).

    ``progress(done, total)`` covers the whole run; ``cancel`` as for ``evaluate()``.
    Raises :class:`~placeseg_core.errors.InputError` for unusable inputs (the message names
    the file); :class:`~placeseg_core.evaluation.control.EvaluationCancelled` when cancelled.
    """
    started = time.perf_counter()
    with paused_gc():  # as evaluate(): two files' acyclic containers, no cycles to find
        comparison = _compare(gt, a, b, readme_rule, params, resamples, seed, progress, cancel, workers, engine)
    comparison.elapsed = time.perf_counter() - started
    return comparison


def _compare(gt: GroundTruth | dict[str, Any] | str | os.PathLike[str],
             a: Submission | list[Any] | str | os.PathLike[str],
             b: Submission | list[Any] | str | os.PathLike[str], readme_rule: bool,
             params: EvalParams | None, resamples: int, seed: int, progress: ProgressCallback | None,
             cancel: Any, workers: int | None, engine: str) -> Comparison:
    timings: dict[str, float] = {}
    Control(None, cancel).check()
    # a large file: a forked helper parses its tail while the ground truth loads (evaluate's
    # own sequence); the second file reuses the loaded ground truth
    truth, sub_a, _ = load_inputs(gt, a, workers if engine == "fast" else 1, timings)
    mark = time.perf_counter()
    _, sub_b, _ = load_inputs(truth, b, workers if engine == "fast" else 1)
    timings["load_submission_b"] = time.perf_counter() - mark
    params = params or challenge_params()
    phases = _Phases(progress, 3 if resamples else 2)
    results = []
    for index, sub in enumerate((sub_a, sub_b)):
        mark = time.perf_counter()
        results.append(evaluate(truth, sub, engine=engine, readme_rule=readme_rule,
                                progress=phases.phase(index), cancel=cancel, params=params,
                                workers=workers))
        timings["evaluate_" + "ab"[index]] = time.perf_counter() - mark
    comparison = compare_results(truth, results[0], results[1], sub_a, sub_b, resamples=resamples,
                                 seed=seed, progress=phases.phase(2), cancel=cancel, workers=workers)
    comparison.timings = {**timings, **comparison.timings}
    return comparison


def evaluate_notes(gt: GroundTruth, result: EvaluationResult, sub: Submission | None) -> list[str]:
    """The notes ``placeseg evaluate`` prints (and writes as ``notes``) for one file: its
    format, the quirks and the README rule, mask sizes (these two need the submission)."""
    if sub is None:
        return quirk_notes(result)
    return [line for line in (format_note(sub),) if line] + quirk_notes(result) + size_notes(gt, sub)


def compare_results(
    gt: GroundTruth,
    result_a: EvaluationResult,
    result_b: EvaluationResult,
    sub_a: Submission | None = None,
    sub_b: Submission | None = None,
    resamples: int = 0,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    workers: int | None = None,
) -> Comparison:
    """The comparison of two evaluations already made on ``gt`` (the window has them);
    ``sub_a`` / ``sub_b`` add the mask-size notes ``evaluate`` prints."""
    mark = time.perf_counter()
    matches = match_breakdown(result_a.records, result_b.records, gt.image_ids,
                              iou=float(result_a.params.iou_thrs[0]))
    notes = [evaluate_notes(gt, result_a, sub_a), evaluate_notes(gt, result_b, sub_b)]
    timings = {"matches": time.perf_counter() - mark}
    boot = None
    if resamples:
        boot = bootstrap(result_a, result_b, gt.image_ids, resamples, seed, progress=progress,
                         cancel=cancel, workers=workers)
        timings["bootstrap"] = boot.elapsed
    return Comparison(a=result_a, b=result_b, image_ids=gt.image_ids, matches=matches,
                      bootstrap=boot, notes_a=notes[0], notes_b=notes[1], timings=timings)
