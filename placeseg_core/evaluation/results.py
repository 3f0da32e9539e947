"""Typed results of an evaluation. Nothing here prints; ``to_json`` gives plain data.

Raw arrays keep pycocotools' convention (-1 = no ground truth for that setting) so that they
compare element for element with ``COCOeval.eval``; every derived number is ``None`` instead of
-1 or NaN.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .accumulate import Accumulated
from .params import EvalParams
from .records import MatchRecords
from .summary import mean_ap, mean_defined, per_category_ap, summarize

#: Variant: the same predictions, with a match to GT id 0 counted (pycocotools counts none).
VARIANT_ID0_COUNTED = "id0_counted"
#: Variant: areas from the masks, where pycocotools took them from the boxes (first item bbox).
VARIANT_MASK_AREAS = "mask_areas"
#: Variant: only each image's 255 best predictions (the README rule), when not applied.
VARIANT_README_RULE = "readme_rule"
#: Variant: every prediction, when the README rule was applied and removed some.
VARIANT_ALL_PREDICTIONS = "all_predictions"


@dataclass
class Scores:
    """One set of numbers: precision / recall arrays and what the challenge reports from them."""

    params: EvalParams
    category_ids: np.ndarray
    precision: np.ndarray  # [T, R, K, A, M], -1 where the category has no GT in that setting
    recall: np.ndarray  # [T, K, A, M], -1 likewise
    scores: np.ndarray  # [T, R, K, A, M]: detection score at each recall threshold
    mean_ap: float | None
    summary: dict[str, float | None]
    category_ap: list[float | None]  # aligned with category_ids

    @classmethod
    def from_arrays(cls, params: EvalParams, category_ids: np.ndarray, acc: Accumulated) -> Scores:
        return cls(
            params=params,
            category_ids=category_ids,
            precision=acc.precision,
            recall=acc.recall,
            scores=acc.scores,
            mean_ap=mean_ap(params, acc.precision),
            summary=summarize(params, acc.precision, acc.recall),
            category_ap=per_category_ap(params, acc.precision),
        )

    @property
    def per_category_ap(self) -> dict[int, float | None]:
        return dict(zip(self.category_ids.tolist(), self.category_ap, strict=True))

    def _k(self, category_id: int) -> int:
        k = int(np.searchsorted(self.category_ids, category_id))
        if k >= len(self.category_ids) or self.category_ids[k] != category_id:
            raise KeyError(f"category {category_id} is not in the ground truth")
        return k

    def ap(self, category_id: int | None = None, iou: float | None = None, area: str = "all",
           max_det: int | None = None) -> float | None:
        """AP of one category or of all (mean over defined entries); None when undefined."""
        p = self.params
        m = p.max_dets.index(p.max_det if max_det is None else max_det)
        s = self.precision[:, :, :, p.area_index(area), m]
        if iou is not None:
            s = s[p.threshold_index(iou) : p.threshold_index(iou) + 1]
        if category_id is not None:
            s = s[:, :, self._k(category_id)]
        return mean_defined(s)

    def pr_curve(self, category_id: int | None = None, iou: float = 0.5, area: str = "all",
                 max_det: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(recall thresholds, interpolated precision) for a PR plot; None when undefined.

        For all categories, the mean over the categories defined at each recall threshold.
        """
        p = self.params
        m = p.max_dets.index(p.max_det if max_det is None else max_det)
        s = self.precision[p.threshold_index(iou), :, :, p.area_index(area), m]  # (R, K)
        if category_id is not None:
            curve = s[:, self._k(category_id)]
            return p.rec_thrs, (None if np.all(curve <= -1) else curve.copy())
        defined = s > -1
        if not defined.any():
            return p.rec_thrs, None
        sums = np.where(defined, s, 0.0).sum(axis=1)
        counts = defined.sum(axis=1)
        return p.rec_thrs, np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)

    def recall_at(self, category_id: int, iou: float | None = None, area: str = "all",
                  max_det: int | None = None) -> float | None:
        p = self.params
        m = p.max_dets.index(p.max_det if max_det is None else max_det)
        s = self.recall[:, self._k(category_id), p.area_index(area), m]
        if iou is not None:
            s = s[p.threshold_index(iou) : p.threshold_index(iou) + 1]
        return mean_defined(s)

    def same_numbers(self, other: Scores) -> bool:
        """Bit-identical arrays (NaN-free by construction)."""
        return (np.array_equal(self.precision, other.precision)
                and np.array_equal(self.recall, other.recall))


@dataclass
class Quirks:
    """pycocotools behaviour that moved (or could move) this submission's score."""

    gt_has_id_zero: bool = False
    id0_matches: int = 0  # (prediction, threshold) pairs at area "all" matched to GT id 0
    id0_predictions: int = 0  # predictions with such a match at some threshold
    uses_bbox_areas: bool = False
    bbox_area_moves: int = 0  # scored predictions whose area range differs box vs mask
    unknown_category: int = 0  # predictions of a category the GT does not list (not scored)
    beyond_max_dets: int = 0  # predictions past maxDets in their (image, category)
    gt_dropped_annotations: int = 0
    gt_duplicate_ids: int = 0


@dataclass
class ReadmeRule:
    """The challenge text's limit: at most ``limit`` predictions per image, all categories."""

    limit: int
    applied: bool
    broken: bool
    images_over: dict[int, int] = field(default_factory=dict)  # image id -> predictions
    removed: int = 0  # predictions beyond each image's limit


@dataclass
class EvaluationResult:
    """Everything one evaluation found. ``scores`` is the official score of the predictions
    scored (all of them, or the README rule's selection when it was applied)."""

    engine: str
    params: EvalParams
    category_ids: np.ndarray
    category_names: dict[int, str]
    scores: Scores
    variants: dict[str, Scores]
    quirks: Quirks
    readme: ReadmeRule
    records: MatchRecords
    num_predictions: int
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per phase

    @property
    def mean_ap(self) -> float | None:
        return self.scores.mean_ap

    @property
    def summary(self) -> dict[str, float | None]:
        return self.scores.summary

    @property
    def per_category_ap(self) -> dict[int, float | None]:
        return self.scores.per_category_ap

    @property
    def precision(self) -> np.ndarray:
        return self.scores.precision

    @property
    def recall(self) -> np.ndarray:
        return self.scores.recall

    def changed_by(self, variant: str) -> bool:
        """True when the variant's numbers differ from the official ones."""
        other = self.variants.get(variant)
        return other is not None and not self.scores.same_numbers(other)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` document (undefined numbers are null)."""
        def block(s: Scores) -> dict[str, Any]:
            return {"mean_ap": s.mean_ap, "summary": dict(s.summary)}

        return {
            "mean_ap": self.mean_ap,
            "summary": dict(self.summary),
            "per_category": [
                {"id": int(c), "name": self.category_names.get(int(c), str(c)), "ap": ap}
                for c, ap in zip(self.category_ids.tolist(), self.scores.category_ap, strict=True)
            ],
            "engine": self.engine,
            "num_predictions": self.num_predictions,
            "params": {
                "max_dets": list(self.params.max_dets),
                "iou_thresholds": [float(t) for t in self.params.iou_thrs],
                "area_ranges": {lbl: list(r) for lbl, r in zip(self.params.area_labels, self.params.area_rngs, strict=True)},
            },
            "readme_rule": {
                "limit": self.readme.limit,
                "applied": self.readme.applied,
                "broken": self.readme.broken,
                "images_over_limit": len(self.readme.images_over),
                "predictions_over_limit": self.readme.removed,
            },
            "quirks": {
                "gt_has_id_zero": self.quirks.gt_has_id_zero,
                "id0_matches": self.quirks.id0_matches,
                "id0_predictions": self.quirks.id0_predictions,
                "uses_bbox_areas": self.quirks.uses_bbox_areas,
                "bbox_area_moves": self.quirks.bbox_area_moves,
                "unknown_category_predictions": self.quirks.unknown_category,
                "beyond_max_dets_predictions": self.quirks.beyond_max_dets,
            },
            "variants": {
                name: {**block(s), "changed": self.changed_by(name)} for name, s in self.variants.items()
            },
        }
