"""``analyze()``: TIDE-style error analysis of one evaluation, per image and overall."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..evaluation.control import Control, ProgressCallback
from ..evaluation.groundtruth import GroundTruth
from ..evaluation.records import MatchRecords, Outcome
from ..evaluation.results import EvaluationResult
from ..evaluation.summary import mean_defined
from ..submissions import Submission
from .apcalc import category_ap, image_gains, precision_table, score_rank
from .confusion import ConfusionMatrix, confusion_matrix
from .errors import (
    ALL_ERROR_TYPES,
    BACKGROUND,
    BOTH,
    CLASSIFICATION,
    DUPLICATE,
    ERROR_TYPES,
    GT_MATCHED,
    GT_MISSED,
    ID0_QUIRK,
    LOCALISATION,
    NOT_SCORED,
    TRUE_POSITIVE,
    ErrorColumns,
    classify,
    fixed_state,
)
from .explain import Explainer, GroundTruthWhy, ImageExplanation, PredictionWhy
from .overlaps import Overlaps, compute_overlaps

#: Columns of :class:`ImageTable`, the keys the image list can sort by.
IMAGE_COLUMNS = ("lost_ap", "false_positives", "missed", "duplicate", "classification", "localisation",
                 "both", "background", "id0_quirk", "unmatched_gt", "true_positives", "predictions", "gt")


@dataclass
class ImageTable:
    """Per-image counts at the foreground threshold, one row per evaluated image.

    ``false_positives``: official false positives (id-0 quirk included); ``unmatched_gt``: GT the
    official score counts as not found (missed + claimed + id-0); ``lost_ap``: gain in mean AP at
    the threshold when only this image's errors are all fixed (exact, see docs/error-analysis.md).
    """

    image_ids: np.ndarray  # (I,) sorted
    columns: dict[str, np.ndarray]

    def row(self, image_id: int) -> dict[str, float]:
        i = int(np.searchsorted(self.image_ids, image_id))
        if i >= len(self.image_ids) or self.image_ids[i] != image_id:
            raise KeyError(f"image {image_id} is not in the evaluation")
        return {k: (float(v[i]) if k == "lost_ap" else int(v[i])) for k, v in self.columns.items()}

    def order(self, key: str = "lost_ap") -> np.ndarray:
        """Image ids, worst first by ``key`` (ties: more false positives + misses, then id)."""
        if key not in self.columns:
            raise KeyError(f"unknown column {key!r}; known: {IMAGE_COLUMNS}")
        tie = self.columns["false_positives"] + self.columns["missed"]
        return self.image_ids[np.lexsort((self.image_ids, -tie, -self.columns[key]))]


@dataclass
class ErrorAnalysis:
    """The analysis of one evaluation at one foreground threshold (see :func:`analyze`)."""

    iou_threshold: float
    background_threshold: float
    category_ids: np.ndarray
    category_names: dict[int, str]
    max_det: int
    records: MatchRecords
    overlaps: Overlaps
    columns: ErrorColumns
    ap: float | None  # mean AP at the threshold, as officially computed (AP50 by default)
    fixed_ap: dict[str, float | None]  # mean AP with each error type fixed alone, and "all"
    dap: dict[str, float]  # fixed_ap - ap per error type (0 when undefined)
    category_ap: np.ndarray  # (K,) AP per category at the threshold, NaN undefined
    counts: dict[str, int]
    images: ImageTable
    confusion: ConfusionMatrix
    timings: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._explainer = Explainer(self)

    # --- per image, on demand ----------------------------------------------------------------
    def explain_prediction(self, index: int) -> PredictionWhy:
        return self._explainer.prediction(int(index))

    def explain_ground_truth(self, row: int) -> GroundTruthWhy:
        return self._explainer.ground_truth(int(row))

    def explain_image(self, image_id: int) -> ImageExplanation:
        """Every prediction (scored ones by score, then the others) and GT of one image."""
        r = self.records
        idx = r.image_prediction_indices(image_id)
        scored = self.columns.kind[idx] != NOT_SCORED
        first = idx[scored][np.lexsort((idx[scored], -r.scores[idx[scored]]))]
        rest = idx[~scored][np.lexsort((idx[~scored], -r.scores[idx[~scored]]))]
        preds = [self._explainer.prediction(int(i)) for i in np.concatenate((first, rest))]
        gts = [self._explainer.ground_truth(int(g)) for g in r.image_gt_rows(image_id)]
        try:
            counts: dict[str, float] = self.images.row(image_id)
        except KeyError:
            counts = {}
        return ImageExplanation(int(image_id), self.iou_threshold, preds, gts, counts)

    def worst_images(self, key: str = "lost_ap", limit: int | None = None) -> np.ndarray:
        ids = self.images.order(key)
        return ids if limit is None else ids[:limit]

    def confusion_at(self, iou_threshold: float) -> ConfusionMatrix:
        """The confusion matrix at another IoU (vectorised, milliseconds)."""
        return confusion_matrix(self.records, self.overlaps, self.category_ids, iou_threshold)

    # --- output -------------------------------------------------------------------------------
    def to_json(self, per_image: bool = True) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "iou_threshold": self.iou_threshold,
            "background_threshold": self.background_threshold,
            "ap": self.ap,
            "ap_all_fixed": self.fixed_ap.get("all"),
            "types": [{"type": t, "count": self.counts[t], "dap": self.dap[t], "ap_fixed": self.fixed_ap[t]}
                      for t in ALL_ERROR_TYPES],
            "true_positives": self.counts["true_positives"],
            "confusion": self.confusion.to_json(),
        }
        if per_image:
            cols = self.images.columns
            doc["images"] = [
                {"image_id": int(i), **{k: (float(cols[k][n]) if k == "lost_ap" else int(cols[k][n])) for k in cols}}
                for n, i in enumerate(self.images.image_ids.tolist())
            ]
        return doc

    def text_lines(self, worst: int = 10) -> list[str]:
        pct = f"{self.iou_threshold:.2f}"

        def num(v: float | None) -> str:
            return "  n/a" if v is None else f"{100 * v:6.2f}"

        lines = [f"error analysis (TIDE, masks) at IoU {pct}, background {self.background_threshold:.2f}: "
                 f"AP{round(100 * self.iou_threshold)} {num(self.ap).strip()}, all errors fixed "
                 f"{num(self.fixed_ap.get('all')).strip()}",
                 f"  {'type':<16} {'count':>8} {'dAP':>7}"]
        for t in ALL_ERROR_TYPES:
            if t == "id0_quirk" and self.counts[t] == 0:
                continue
            lines.append(f"  {t:<16} {self.counts[t]:>8} {num(self.dap[t])}")
        lines.append(f"  {'true positives':<16} {self.counts['true_positives']:>8}")
        ids = [i for i in self.worst_images("lost_ap", worst).tolist() if self.images.row(i)["lost_ap"] > 0]
        if ids:
            lines.append(f"  worst images (AP{round(100 * self.iou_threshold)} gained by fixing only that image):")
            for i in ids:
                row = self.images.row(i)
                lines.append(f"    image {i}: +{100 * row['lost_ap']:.3f}  fp {row['false_positives']}, "
                             f"missed {row['missed']}, dup {row['duplicate']}, cls {row['classification']}, "
                             f"loc {row['localisation']}")
        return lines


def analyze(result: EvaluationResult, gt: GroundTruth, submission: Submission, iou_threshold: float = 0.5,
            background_threshold: float = 0.1, overlaps: Overlaps | None = None, per_image_ap: bool = True,
            progress: ProgressCallback | None = None, cancel: Any = None) -> ErrorAnalysis:
    """TIDE-style error analysis of ``result`` (from ``evaluate(gt, submission)``).

    ``iou_threshold`` (t_f) must be one of the evaluation's IoU thresholds; pass ``overlaps``
    from an earlier analysis of the same result to skip the IoU computation (to re-analyse
    at another threshold). ``per_image_ap``: compute each image's exact share of lost AP.
    ``cancel`` / ``progress`` as in ``evaluate``.
    """
    params, r = result.params, result.records
    t_index = params.threshold_index(iou_threshold)
    if not 0 <= background_threshold <= iou_threshold:
        raise ValueError("background_threshold must be between 0 and the IoU threshold")
    if len(r.image_ids) != len(submission) or len(r.gt_ids) != len(gt):
        raise ValueError("result, ground truth and submission do not belong together")
    control = Control(progress, cancel)
    timings: dict[str, float] = {}
    mark = time.perf_counter()
    if overlaps is None:
        overlaps = compute_overlaps(r, gt.ann_rles, submission.rles, control)
    timings["overlaps"] = time.perf_counter() - mark
    mark = time.perf_counter()
    cols = classify(r, overlaps, t_index, float(params.iou_thrs[t_index]), background_threshold)
    timings["classify"] = time.perf_counter() - mark
    control.check()

    mark = time.perf_counter()
    cats = result.category_ids
    usable = ~r.gt_ignored
    npig = np.bincount(np.searchsorted(cats, r.gt_category_ids[usable]), minlength=len(cats))[: len(cats)]
    rec = params.rec_thrs
    rank = score_rank(r.image_ids, r.scores)

    def mean_ap(fix: tuple[str, ...]) -> tuple[float | None, np.ndarray]:
        state = fixed_state(r, cols, fix)
        n_pos = npig - np.bincount(np.searchsorted(cats, r.gt_category_ids[state.removed_gt]),
                                   minlength=len(cats))[: len(cats)]
        prec = precision_table(state, rank, cats, n_pos, rec)
        return mean_defined(prec), prec

    ap, base_prec = mean_ap(())
    fixed_ap: dict[str, float | None] = {}
    dap: dict[str, float] = {}
    for t in ALL_ERROR_TYPES:
        fixed = fixed_ap[t] = mean_ap((t,))[0]
        dap[t] = 0.0 if fixed is None or ap is None else fixed - ap
        control.check()
    fixed_ap["all"] = mean_ap(ALL_ERROR_TYPES)[0]
    base_cat_ap = category_ap(base_prec)
    timings["dap"] = time.perf_counter() - mark

    mark = time.perf_counter()
    images = _image_table(r, cols, gt.image_ids)
    if per_image_ap:
        base_state = fixed_state(r, cols, ())
        all_state = fixed_state(r, cols, ALL_ERROR_TYPES)
        images.columns["lost_ap"] = image_gains(
            base_state, all_state, r.image_ids, rank, cats, npig, r.gt_image_ids, r.gt_category_ids,
            rec, base_cat_ap, images.image_ids)
    timings["per_image_ap"] = time.perf_counter() - mark
    mark = time.perf_counter()
    confusion = confusion_matrix(r, overlaps, cats, cols.t_f)
    timings["confusion"] = time.perf_counter() - mark
    counts = {t: cols.count(t) for t in ALL_ERROR_TYPES}
    counts["true_positives"] = int((cols.kind == TRUE_POSITIVE).sum())
    control.finish()
    return ErrorAnalysis(
        iou_threshold=cols.t_f, background_threshold=background_threshold, category_ids=cats,
        category_names=result.category_names, max_det=params.max_det, records=r, overlaps=overlaps,
        columns=cols, ap=ap, fixed_ap=fixed_ap, dap=dap, category_ap=base_cat_ap, counts=counts,
        images=images, confusion=confusion, timings=timings,
    )


def _image_table(r: MatchRecords, cols: ErrorColumns, image_ids: np.ndarray) -> ImageTable:
    I = len(image_ids)  # noqa: E741
    p_at = np.searchsorted(image_ids, r.image_ids)
    g_at = np.searchsorted(image_ids, r.gt_image_ids)

    def per_pred(mask: np.ndarray) -> np.ndarray:
        return np.bincount(p_at[mask], minlength=I)[:I].astype(np.int64)

    def per_gt(mask: np.ndarray) -> np.ndarray:
        return np.bincount(g_at[mask], minlength=I)[:I].astype(np.int64)

    k = cols.kind
    columns = {
        "lost_ap": np.zeros(I),
        "false_positives": per_pred((cols.outcome == Outcome.FP) | (cols.outcome == Outcome.FP_ID0)),
        "missed": per_gt(cols.gt_kind == GT_MISSED),
        "duplicate": per_pred(k == DUPLICATE),
        "classification": per_pred(k == CLASSIFICATION),
        "localisation": per_pred(k == LOCALISATION),
        "both": per_pred(k == BOTH),
        "background": per_pred(k == BACKGROUND),
        "id0_quirk": per_pred(k == ID0_QUIRK),
        "unmatched_gt": per_gt(~r.gt_ignored & (cols.gt_kind != GT_MATCHED)),
        "true_positives": per_pred(k == TRUE_POSITIVE),
        "predictions": per_pred(k != NOT_SCORED),
        "gt": per_gt(~r.gt_ignored),
    }
    assert tuple(columns) == IMAGE_COLUMNS
    return ImageTable(image_ids, columns)


__all__ = ["ERROR_TYPES", "ErrorAnalysis", "ImageTable", "analyze"]
