"""Match outcomes of an evaluation as arrays the window can colour and count with (Qt-free).

:class:`~placeseg_core.evaluation.MatchRecords` answers per prediction (``prediction(i)``);
the canvas, the image list and later views need the same answer for every prediction at once.
:func:`outcome_table` computes it vectorised, with the very rules of ``MatchRecords.prediction``
(a test compares the two), and :func:`image_counts` turns it into true / false positives and
missed objects per image at one IoU threshold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from placeseg_core.evaluation import EvaluationResult, MatchRecords
from placeseg_core.evaluation.records import Outcome, PredStatus

# What the window says of each outcome (the JSON names are ``Outcome.json_name``).
OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.NOT_SCORED: "not scored",
    Outcome.TP: "true positive",
    Outcome.FP: "false positive",
    Outcome.IGNORED: "ignored",
    Outcome.FP_ID0: "false positive (matched GT id 0: pycocotools counts no match)",
}
# Colours of the canvas' "colour by match" mode: green / red / grey-blue; id-0 "FP" orange.
OUTCOME_COLOURS: dict[Outcome, tuple[int, int, int]] = {
    Outcome.NOT_SCORED: (120, 120, 120),
    Outcome.TP: (40, 210, 80),
    Outcome.FP: (235, 50, 50),
    Outcome.IGNORED: (120, 160, 230),
    Outcome.FP_ID0: (255, 150, 30),
}


def outcome_table(records: MatchRecords) -> np.ndarray:
    """(N, T) int8: the :class:`Outcome` of every prediction at every IoU threshold (area "all")."""
    n, t_count = len(records.status), records.num_thresholds
    out = np.full((n, t_count), Outcome.NOT_SCORED, dtype=np.int8)
    scored = records.status == PredStatus.SCORED
    unmatched = np.where(records.outside_all, Outcome.IGNORED, Outcome.FP).astype(np.int8)
    out[scored] = unmatched[scored, None]
    cand = records.cand_index
    if len(cand):
        rows = records.cand_gt_row
        has = rows >= 0
        safe = np.where(has, rows, 0)
        gid = records.gt_ids[safe]
        ignored = records.gt_ignored[safe]
        outside = records.outside_all[cand][:, None]
        matched = np.where(gid != 0, np.where(ignored, Outcome.IGNORED, Outcome.TP),
                           np.where(ignored | outside, Outcome.IGNORED, Outcome.FP_ID0)).astype(np.int8)
        block = np.where(has, matched, out[cand])
        keep = scored[cand]
        out[cand[keep]] = block[keep]
    return out


def counted_fp(codes: np.ndarray) -> np.ndarray:
    """Outcomes the official score counts as false positives (plain, and matches with GT id 0)."""
    return (codes == Outcome.FP) | (codes == Outcome.FP_ID0)


@dataclass(frozen=True)
class ImageCounts:
    """True positives, false positives and missed ground truth per image, at one threshold."""

    image_ids: np.ndarray  # sorted unique
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray

    def get(self, image_id: int) -> tuple[int, int, int] | None:
        k = int(np.searchsorted(self.image_ids, image_id))
        if k < len(self.image_ids) and self.image_ids[k] == image_id:
            return int(self.tp[k]), int(self.fp[k]), int(self.fn[k])
        return None


def image_counts(records: MatchRecords, outcomes: np.ndarray, threshold_index: int,
                 categories: Iterable[int] | None = None) -> ImageCounts:
    """Per image: TP and FP (scored predictions; a match with GT id 0 is an FP, as officially)
    and FN (ground truth not ignored and not officially matched), of some categories or all."""
    codes = outcomes[:, threshold_index]
    gt_missed = ~records.gt_ignored & ((records.gt_matched[:, threshold_index] < 0) | (records.gt_ids == 0))
    pred_sel = np.ones(len(codes), dtype=bool)
    gt_sel = np.ones(len(records.gt_ids), dtype=bool)
    if categories is not None:
        wanted = np.fromiter(categories, dtype=np.int64)
        pred_sel = np.isin(records.category_ids, wanted)
        gt_sel = np.isin(records.gt_category_ids, wanted)
    ids = np.union1d(records.image_ids[pred_sel], records.gt_image_ids[gt_sel]).astype(np.int64)
    n = len(ids)
    p_pos = np.searchsorted(ids, records.image_ids[pred_sel])
    g_pos = np.searchsorted(ids, records.gt_image_ids[gt_sel])
    sel_codes = codes[pred_sel]
    tp = np.bincount(p_pos, weights=(sel_codes == Outcome.TP), minlength=n).astype(np.int64)
    fp = np.bincount(p_pos, weights=counted_fp(sel_codes), minlength=n).astype(np.int64)
    fn = np.bincount(g_pos, weights=gt_missed[gt_sel], minlength=n).astype(np.int64)
    return ImageCounts(ids, tp, fp, fn)


def images_with_categories(records: MatchRecords, categories: Iterable[int]) -> np.ndarray:
    """Sorted ids of the images whose ground truth or predictions hold one of the categories."""
    wanted = np.fromiter(categories, dtype=np.int64)
    return np.union1d(records.image_ids[np.isin(records.category_ids, wanted)],
                      records.gt_image_ids[np.isin(records.gt_category_ids, wanted)]).astype(np.int64)


@dataclass
class Evaluation:
    """One finished evaluation of the open predictions, with what the views derive from it."""

    result: EvaluationResult
    outcomes: np.ndarray  # outcome_table(result.records)
    notes: list[str]  # the quirk notes, as ``placeseg evaluate`` prints them
    gt_per_category: dict[int, int]  # ground-truth annotations per category id
    preds_per_category: dict[int, int]  # predictions per category id (whole file)
    source: str = ""  # what was evaluated ("predictions.json against gt.json")
    image_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # evaluated images
    # per GT row of the records: the viewer's id of that object (a PNG's instance id, the green
    # value; a COCO file's annotation id), by which rows and drawn objects are matched
    gt_instance_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def from_result(cls, result: EvaluationResult, notes: list[str], source: str = "",
                    image_ids: np.ndarray | None = None, gt_instance_ids: np.ndarray | None = None) -> Evaluation:
        """``gt_instance_ids``: see the field; None when they are the annotation ids (COCO)."""
        rec = result.records
        gt_ids, gt_n = np.unique(rec.gt_category_ids, return_counts=True)
        p_ids, p_n = np.unique(rec.category_ids, return_counts=True)
        ids = rec.image_ids_with_records() if image_ids is None else np.asarray(image_ids, dtype=np.int64)
        instances = rec.gt_ids if gt_instance_ids is None else gt_instance_ids
        return cls(result, outcome_table(rec), notes,
                   dict(zip(gt_ids.tolist(), gt_n.tolist(), strict=True)),
                   dict(zip(p_ids.tolist(), p_n.tolist(), strict=True)), source, np.sort(ids),
                   np.asarray(instances, dtype=np.int64).copy())

    def evaluated(self, image_id: int) -> bool:
        k = int(np.searchsorted(self.image_ids, image_id))
        return k < len(self.image_ids) and int(self.image_ids[k]) == image_id

    @property
    def thresholds(self) -> list[float]:
        return [float(t) for t in self.result.params.iou_thrs]
