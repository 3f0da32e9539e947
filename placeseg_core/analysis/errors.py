"""TIDE error types for masks, as columns over every prediction and ground truth.

Definitions (docs/error-analysis.md): a scored prediction that is not a true positive at the
foreground threshold t_f (official matching) is, tested in TIDE's order (``tidecv/quantify.py``):

1. localisation: best same-category GT IoU in [t_b, t_f);
2. classification: some GT of another category with IoU >= t_f;
3. duplicate: best same-category GT IoU >= t_f (a higher-scoring prediction took it);
4. background: IoU < t_b with every GT;
5. both: the rest (another category, IoU in [t_b, t_f)).

A geometric match with GT id 0 (officially no match) is its own type, ``id0_quirk``; a
prediction whose official outcome is "ignored" (crowd match, area outside the range) is no
error. A non-ignored GT is *missed* when it is matched by no prediction and no classification
or localisation error points at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..evaluation.records import MatchRecords, Outcome
from .overlaps import Overlaps

# Prediction kinds (int8 codes).
NOT_SCORED = -1
TRUE_POSITIVE = 0
CLASSIFICATION = 1
LOCALISATION = 2
BOTH = 3
DUPLICATE = 4
BACKGROUND = 5
ID0_QUIRK = 6
IGNORED = 7
PRED_KIND_NAMES = ("true_positive", "classification", "localisation", "both", "duplicate",
                   "background", "id0_quirk", "ignored")

# Ground-truth kinds.
GT_MATCHED = 0
GT_MISSED = 1
GT_CLAIMED = 2  # unmatched, but a classification / localisation error points at it
GT_ID0 = 3  # matched geometrically by a prediction, which id 0 makes no match officially
GT_IGNORED = 4  # crowd: pycocotools ignores it
GT_KIND_NAMES = ("matched", "missed", "claimed", "id0_quirk", "ignored")

#: The error types of the breakdown, in TIDE's table order, plus this project's quirk.
ERROR_TYPES = ("classification", "localisation", "both", "duplicate", "background", "missed")
ALL_ERROR_TYPES = (*ERROR_TYPES, "id0_quirk")
KIND_OF_TYPE = {"classification": CLASSIFICATION, "localisation": LOCALISATION, "both": BOTH,
                "duplicate": DUPLICATE, "background": BACKGROUND, "id0_quirk": ID0_QUIRK}


@dataclass
class ErrorColumns:
    """Per prediction (N,) and per GT row (G,), at one foreground threshold."""

    t_index: int
    t_f: float
    t_b: float
    outcome: np.ndarray  # int8 (N,): records' Outcome at t_f (Outcome.NOT_SCORED -1)
    match_row: np.ndarray  # int64 (N,): geometric match at t_f, -1
    match_iou: np.ndarray  # float64 (N,), NaN
    kind: np.ndarray  # int8 (N,): NOT_SCORED .. IGNORED
    target: np.ndarray  # int64 (N,): GT row the kind refers to (match for TP / id0), -1
    target_iou: np.ndarray  # float64 (N,), NaN
    suppressor: np.ndarray  # int64 (N,): duplicate -> prediction that took the GT, -1
    fix_wins: np.ndarray  # bool (N,): classification / localisation error that its fix makes a TP
    gt_kind: np.ndarray  # int8 (G,)
    gt_by: np.ndarray  # int64 (G,): matching prediction (matched / id0) or winning claim, -1
    gt_claims: np.ndarray  # int32 (G,): how many classification / localisation errors point at it

    def count(self, name: str) -> int:
        if name == "missed":
            return int((self.gt_kind == GT_MISSED).sum())
        return int((self.kind == KIND_OF_TYPE[name]).sum())


def classify(records: MatchRecords, ov: Overlaps, t_index: int, t_f: float, t_b: float) -> ErrorColumns:
    """Kinds of every prediction and GT at threshold index ``t_index`` (value ``t_f``)."""
    n, g = len(records.image_ids), len(records.gt_ids)
    rows, ious, outcome = records.threshold_columns(t_index)
    kind = np.full(n, NOT_SCORED, dtype=np.int8)
    target = np.full(n, -1, dtype=np.int64)
    target_iou = np.full(n, np.nan)
    suppressor = np.full(n, -1, dtype=np.int64)
    kind[outcome == Outcome.TP] = TRUE_POSITIVE
    kind[outcome == Outcome.IGNORED] = IGNORED
    kind[outcome == Outcome.FP_ID0] = ID0_QUIRK
    matched = (outcome == Outcome.TP) | (outcome == Outcome.FP_ID0)
    target[matched] = rows[matched]
    target_iou[matched] = ious[matched]

    fp = outcome == Outcome.FP
    s, o = ov.same_iou, ov.other_iou
    loc = fp & (s >= t_b) & (s < t_f)
    cls = fp & ~loc & (o >= t_f)
    dup = fp & ~loc & ~cls & (s >= t_f)
    bkg = fp & ~loc & ~cls & ~dup & (np.maximum(s, o) < t_b)
    both = fp & ~loc & ~cls & ~dup & ~bkg
    for mask, code, src_row, src_iou in ((loc, LOCALISATION, ov.same_row, s), (cls, CLASSIFICATION, ov.other_row, o),
                                         (dup, DUPLICATE, ov.same_row, s), (both, BOTH, ov.other_row, o)):
        kind[mask] = code
        target[mask] = src_row[mask]
        target_iou[mask] = src_iou[mask]
    kind[bkg] = BACKGROUND

    # GT side: who matched each GT at t_f (records keep the geometric match, id 0 included)
    gt_by = np.full(g, -1, dtype=np.int64)
    gt_kind = np.full(g, GT_MISSED, dtype=np.int8)
    if g:
        by = records.gt_matched[:, t_index]
        has = by >= 0
        gt_by[has] = by[has]
        gt_kind[has & (records.gt_ids != 0)] = GT_MATCHED
        gt_kind[has & (records.gt_ids == 0)] = GT_ID0
        gt_kind[records.gt_ignored] = GT_IGNORED
    if dup.any():
        suppressor[dup] = gt_by[target[dup]]

    # Claims (TIDE's BestGTMatch): classification and localisation errors point at a GT; if it
    # is unused, the highest-scoring one is the error a fix turns into a true positive.
    claim = np.flatnonzero((loc | cls) & (target >= 0))
    gt_claims = np.bincount(target[claim], minlength=g).astype(np.int32) if g else np.zeros(0, np.int32)
    fix_wins = np.zeros(n, dtype=bool)
    free = claim[gt_kind[target[claim]] == GT_MISSED]
    if len(free):
        order = free[np.lexsort((free, -records.scores[free], target[free]))]
        first = np.ones(len(order), dtype=bool)
        first[1:] = target[order][1:] != target[order][:-1]
        winners = order[first]
        fix_wins[winners] = True
        gt_kind[target[winners]] = GT_CLAIMED
        gt_by[target[winners]] = winners
    return ErrorColumns(t_index, t_f, t_b, outcome, rows, ious, kind, target, target_iou, suppressor,
                        fix_wins, gt_kind, gt_by, gt_claims)


@dataclass
class FixedState:
    """The scored detections after some fixes: category, true / false positive, and the
    non-ignored GT count per category (the recall denominator)."""

    category: np.ndarray  # int64 (N,) category id
    tp: np.ndarray  # bool (N,)
    fp: np.ndarray  # bool (N,)
    removed_gt: np.ndarray  # bool (G,): GT taken out of the denominator


def fixed_state(records: MatchRecords, cols: ErrorColumns, fix: tuple[str, ...] | frozenset[str] = ()) -> FixedState:
    """Detections with the errors of the named types fixed as TIDE fixes them.

    classification: relabelled to the GT's category, a true positive if it wins the GT's claim
    (the GT was unused and it is the highest-scoring claim), else suppressed; localisation: a
    true positive with its GT on the same terms, else suppressed; both, duplicate, background:
    suppressed; id0_quirk: counted as the true positive it is geometrically; missed: those GT
    leave the recall denominator.
    """
    unknown = set(fix) - set(ALL_ERROR_TYPES)
    if unknown:
        raise ValueError(f"unknown error types {sorted(unknown)}; known: {ALL_ERROR_TYPES}")
    kind = cols.kind
    category = records.category_ids.copy()
    tp = kind == TRUE_POSITIVE
    fp = cols.outcome == 1
    fp |= cols.outcome == 3
    for name in fix:
        if name == "missed":
            continue
        sel = kind == KIND_OF_TYPE[name]
        fp &= ~sel
        if name == "id0_quirk":
            tp |= sel
        elif name in ("classification", "localisation"):
            win = sel & cols.fix_wins
            tp |= win
            if name == "classification":
                category[win] = records.gt_category_ids[cols.target[win]]
    removed = cols.gt_kind == GT_MISSED if "missed" in fix else np.zeros(len(cols.gt_kind), dtype=bool)
    return FixedState(category, tp, fp, removed)
