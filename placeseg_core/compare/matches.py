"""Where two files differ at IoU 0.5: which objects each found, and per-image counts.

Read from each evaluation's match records (area "all", maxDets[-1], the first IoU
threshold), with the official outcomes: an object counts as found when a prediction is a true
positive on it -- a match with ground-truth id 0 is not one (pycocotools counts it as a false
positive and the object as missed). Crowd regions (ignored ground truth) are left out; a
prediction matched to one is neither a true nor a false positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..evaluation.records import MatchRecords, Outcome


@dataclass
class ImageCounts:
    """Per evaluated image (sorted by id): true positives, false positives, missed objects."""

    image_ids: np.ndarray
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray


def image_counts(records: MatchRecords, image_ids: np.ndarray, t: int = 0) -> tuple[ImageCounts, np.ndarray]:
    """Counts per image at threshold index ``t``, and which GT rows a true positive found."""
    rows, _, code = records.threshold_columns(t)
    n = len(image_ids)
    pred_img = np.searchsorted(image_ids, records.image_ids)
    is_tp = code == Outcome.TP
    is_fp = (code == Outcome.FP) | (code == Outcome.FP_ID0)
    found = np.zeros(len(records.gt_ids), dtype=bool)
    found[rows[is_tp]] = True
    counted = ~records.gt_ignored
    gt_img = np.searchsorted(image_ids, records.gt_image_ids)
    tp = np.bincount(pred_img[is_tp], minlength=n)
    fp = np.bincount(pred_img[is_fp], minlength=n)
    objects = np.bincount(gt_img[counted], minlength=n)
    found_per_image = np.bincount(gt_img[counted & found], minlength=n)
    return ImageCounts(image_ids, tp, fp, objects - found_per_image), found


@dataclass
class MatchBreakdown:
    """Objects found by both files, by one only, by neither; per-image counts of both."""

    iou: float
    both: int
    a_only: int
    b_only: int
    neither: int
    a: ImageCounts
    b: ImageCounts
    found_by_one: np.ndarray  # (n,) per image: objects found by exactly one of the files
    # per GT row of the records: a true positive of A / of B found it (crowd regions: False)
    found_a: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=bool))
    found_b: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0, dtype=bool))

    def changed_images(self, top: int) -> np.ndarray:
        """Indices of the images that changed most: objects found by one file only, plus the
        change in false positives; ties by image id."""
        change = self.found_by_one + np.abs(self.b.fp - self.a.fp)
        order = np.lexsort((self.a.image_ids, -change))
        return order[change[order] > 0][:top]

    def to_json(self) -> dict[str, Any]:
        a, b = self.a, self.b
        return {
            "iou": self.iou,
            "ground_truth": {"both": self.both, "a_only": self.a_only, "b_only": self.b_only,
                             "neither": self.neither},
            "images": [
                {"image_id": i, "tp_a": ta, "fp_a": fa, "fn_a": na, "tp_b": tb, "fp_b": fb, "fn_b": nb}
                for i, ta, fa, na, tb, fb, nb in zip(
                    a.image_ids.tolist(), a.tp.tolist(), a.fp.tolist(), a.fn.tolist(),
                    b.tp.tolist(), b.fp.tolist(), b.fn.tolist(), strict=True)
            ],
        }


def match_breakdown(records_a: MatchRecords, records_b: MatchRecords, image_ids: np.ndarray,
                    iou: float = 0.5, t: int = 0) -> MatchBreakdown:
    """Compare two evaluations of the same ground truth (same GT rows) at threshold ``t``."""
    if not np.array_equal(records_a.gt_ids, records_b.gt_ids):
        raise ValueError("the two evaluations have different ground truth")
    counts_a, found_a = image_counts(records_a, image_ids, t)
    counts_b, found_b = image_counts(records_b, image_ids, t)
    counted = ~records_a.gt_ignored
    fa, fb = found_a & counted, found_b & counted
    one = fa ^ fb
    gt_img = np.searchsorted(image_ids, records_a.gt_image_ids)
    return MatchBreakdown(
        iou=float(iou),
        both=int((fa & fb).sum()), a_only=int((fa & ~fb).sum()), b_only=int((fb & ~fa).sum()),
        neither=int((counted & ~fa & ~fb).sum()), a=counts_a, b=counts_b,
        found_by_one=np.bincount(gt_img[one], minlength=len(image_ids)), found_a=fa, found_b=fb,
    )
