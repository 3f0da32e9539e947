"""The paired bootstrap of two evaluations' mean AP, from their match records alone.

Definition (docs/compare.md): the evaluated images sorted by id,
``idx = numpy.random.default_rng(seed).integers(0, n, size=(resamples, n))``; resample r is
the image list ``ids[idx[r]]`` in draw order, each drawn copy a distinct image. A sample is the
headline mean AP of that list -- what pycocotools gives on a data set made of those copies,
numbered in draw order -- for each file, with the same draws for both (paired). ``ci95`` is
``numpy.percentile(values, [2.5, 97.5])``.

Nothing is matched again: each copy keeps its original's matches (``table.py``), and only
``accumulate`` is redone, for all resamples of a batch at once (``resample.py``). A match with
ground-truth id 0 stays what the file's evaluation made it (a false positive) in every copy.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InputError
from ..evaluation.control import Control, ProgressCallback
from ..evaluation.results import EvaluationResult
from ..processes import PARALLEL_MIN_PREDICTIONS, choose_workers, run_parts
from .resample import RecallSteps, mean_ap_rows, resampled_precision
from .table import BootstrapTable, build_table

#: Bytes of precision kept per batch of resamples (categories x thresholds x recall points).
BATCH_BYTES = 64_000_000
MAX_BATCH = 128


def draw_resamples(num_images: int, resamples: int, seed: int) -> np.ndarray:
    """The draws: ``default_rng(seed).integers(0, n, size=(resamples, n))``, image indices."""
    return np.random.default_rng(seed).integers(0, num_images, size=(resamples, num_images))


def batch_size(table: BootstrapTable) -> int:
    """Resamples per batch: the precision of a batch stays near :data:`BATCH_BYTES`."""
    p = table.params
    per_row = max(table.num_categories, 1) * p.num_thresholds * len(p.rec_thrs) * 8
    return int(max(1, min(MAX_BATCH, BATCH_BYTES // per_row)))


def resampled_mean_ap(table: BootstrapTable, draws: np.ndarray,
                      tick: Callable[[], None] | None = None) -> np.ndarray:
    """Headline mean AP of each resample (rows of ``draws``); NaN where no category has
    ground truth. ``tick()`` is called after each batch (progress, cancellation)."""
    out = np.full(len(draws), np.nan)
    step = batch_size(table)
    steps = RecallSteps(table.params.rec_thrs)
    buffer: np.ndarray | None = None
    for lo in range(0, len(draws), step):
        precision, defined = resampled_precision(table, draws[lo : lo + step], steps, out=buffer)
        buffer = precision
        out[lo : lo + len(precision)] = mean_ap_rows(precision, defined)
        if tick is not None:
            tick()
    return out


def _interval(values: np.ndarray) -> tuple[float, float] | None:
    defined = values[~np.isnan(values)]
    if defined.size == 0:
        return None
    lo, hi = np.percentile(defined, [2.5, 97.5])
    return float(lo), float(hi)


def _number(v: float) -> float | None:
    return None if np.isnan(v) else float(v)


@dataclass
class BootstrapResult:
    """Paired samples of both files' mean AP, their 95% intervals and how often B beat A."""

    resamples: int
    seed: int
    a: np.ndarray  # (N,) mean AP of A per resample, NaN where undefined
    b: np.ndarray
    elapsed: float = 0.0

    @property
    def delta(self) -> np.ndarray:
        return self.b - self.a

    @property
    def ci95(self) -> dict[str, tuple[float, float] | None]:
        """``numpy.percentile(values, [2.5, 97.5])`` of the defined samples (None if none)."""
        return {"a": _interval(self.a), "b": _interval(self.b), "delta": _interval(self.delta)}

    @property
    def b_better(self) -> float:
        """Fraction of the resamples in which B's mean AP is above A's."""
        return float(np.count_nonzero(self.b > self.a) / len(self.a)) if len(self.a) else 0.0

    def to_json(self) -> dict[str, Any]:
        ci = self.ci95
        return {
            "resamples": self.resamples,
            "seed": self.seed,
            "samples": [{"a": _number(a), "b": _number(b)} for a, b in zip(self.a.tolist(), self.b.tolist(), strict=True)],
            "ci95": {k: (list(v) if v is not None else None) for k, v in ci.items()},
            "b_better": self.b_better,
        }


def tables_for(result_a: EvaluationResult, result_b: EvaluationResult,
               image_ids: np.ndarray) -> tuple[BootstrapTable, BootstrapTable]:
    """Both evaluations laid out for resampling (same images and categories required)."""
    if not np.array_equal(result_a.category_ids, result_b.category_ids):
        raise ValueError("the two evaluations have different categories")
    return (build_table(result_a.records, image_ids, result_a.category_ids, result_a.params),
            build_table(result_b.records, image_ids, result_b.category_ids, result_b.params))


def bootstrap(
    result_a: EvaluationResult,
    result_b: EvaluationResult,
    image_ids: np.ndarray,
    resamples: int,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    workers: int | None = None,
    tables: tuple[BootstrapTable, BootstrapTable] | None = None,
) -> BootstrapResult:
    """Paired bootstrap of two evaluations of the same ground truth (``image_ids``: its
    evaluated images, sorted). ``progress(done, total)`` / ``cancel`` as for ``evaluate()``
    (cancel raises :class:`~placeseg_core.evaluation.control.EvaluationCancelled`);
    ``workers``: 2 resamples half of the draws in a forked helper (None: when it pays and
    forking is safe; a GUI worker thread passes 1)."""
    started = time.perf_counter()
    if resamples < 1:
        raise ValueError("resamples must be at least 1")
    table_a, table_b = tables or tables_for(result_a, result_b, np.asarray(image_ids))
    if table_a.num_images == 0:
        raise InputError("the ground truth lists no images: there is nothing to resample")
    draws = draw_resamples(table_a.num_images, resamples, seed)
    control = Control(progress, cancel)
    work = table_a.num_detections + table_b.num_detections
    parts = min(2, resamples, choose_workers(workers, worth_it=work * resamples >= 50 * PARALLEL_MIN_PREDICTIONS))
    # each part takes a share of the resamples for both files (balanced however the files differ)
    cuts = np.linspace(0, resamples, parts + 1).round().astype(int)
    step = batch_size(table_a)
    control.set_total(2 * sum(-(-(hi - lo) // step) for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)))

    def task(part: int, tick: Callable[[], None]) -> tuple[np.ndarray, np.ndarray]:
        rows = draws[cuts[part] : cuts[part + 1]]
        return resampled_mean_ap(table_a, rows, tick), resampled_mean_ap(table_b, rows, tick)

    results = run_parts(task, parts, control)
    control.finish()
    return BootstrapResult(resamples=resamples, seed=seed, a=np.concatenate([r[0] for r in results]),
                           b=np.concatenate([r[1] for r in results]), elapsed=time.perf_counter() - started)
