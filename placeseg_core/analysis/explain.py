"""Per-prediction and per-GT "why", in plain words, assembled on demand from the columns."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from ..evaluation.records import STATUS_NAMES, MatchRecords
from .errors import (
    BACKGROUND,
    BOTH,
    CLASSIFICATION,
    DUPLICATE,
    GT_CLAIMED,
    GT_ID0,
    GT_IGNORED,
    GT_KIND_NAMES,
    GT_MATCHED,
    ID0_QUIRK,
    IGNORED,
    LOCALISATION,
    NOT_SCORED,
    PRED_KIND_NAMES,
    TRUE_POSITIVE,
    ErrorColumns,
)
from .overlaps import Overlaps


class ExplainedAnalysis(Protocol):
    """What the explanations read of an error analysis (``report.ErrorAnalysis`` has it; a
    protocol, so that this module does not import the report that uses it)."""

    category_names: dict[int, str]
    max_det: int
    records: MatchRecords
    overlaps: Overlaps
    columns: ErrorColumns


def _opt(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) or v < 0 else float(v)


@dataclass(frozen=True)
class PredictionWhy:
    index: int  # position in the submission file
    image_id: int
    category_id: int
    score: float
    status: str  # scored / unknown_category / beyond_max_dets / removed_by_readme_rule
    rank: int | None  # rank in its (image, category) group
    kind: str | None  # true_positive, an error type, id0_quirk, ignored; None when not scored
    matched_gt: int | None  # GT id of the geometric match at the threshold
    matched_iou: float | None
    target_gt: int | None  # GT id the kind refers to (matched, or the error's GT)
    target_row: int | None
    target_iou: float | None
    best_same_gt: int | None  # best same-category GT id and IoU
    best_same_iou: float | None
    best_other_gt: int | None  # best GT of another category, its category and IoU
    best_other_category: int | None
    best_other_iou: float | None
    suppressor: int | None  # duplicate: the higher-scoring prediction that took the GT
    fixed_by_tide: str | None  # what fixing this error does: "true_positive" or "suppressed"
    text: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GroundTruthWhy:
    row: int
    id: int
    category_id: int
    kind: str  # matched / missed / claimed / id0_quirk / ignored
    matched_pred: int | None  # prediction matching it at the threshold (geometric)
    matched_iou: float | None
    claimed_by: int | None  # for claimed: the error a fix would turn into its match
    best_pred: int | None  # highest-IoU scored prediction of any category
    best_pred_category: int | None
    best_pred_iou: float | None
    text: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ImageExplanation:
    image_id: int
    iou_threshold: float
    predictions: list[PredictionWhy]  # scored ones by score (highest first), then the others
    ground_truth: list[GroundTruthWhy]
    counts: dict[str, float]

    def to_json(self) -> dict[str, Any]:
        return {"image_id": self.image_id, "iou_threshold": self.iou_threshold, "counts": self.counts,
                "predictions": [p.to_json() for p in self.predictions],
                "ground_truth": [g.to_json() for g in self.ground_truth]}


class Explainer:
    """Builds the explanations of one error analysis (no computation beyond lookups)."""

    def __init__(self, a: ExplainedAnalysis) -> None:
        self.a = a
        self.r = a.records
        self.c = a.columns

    def _name(self, cat: int) -> str:
        return f"'{self.a.category_names.get(int(cat), str(cat))}'"

    def _gt(self, row: int) -> str:
        return f"GT {int(self.r.gt_ids[row])} ({self._name(self.r.gt_category_ids[row])})"

    def _pred(self, idx: int) -> str:
        return f"prediction #{idx} ({self._name(self.r.category_ids[idx])}, score {self.r.scores[idx]:.3g})"

    def _gt_id(self, row: int) -> int | None:
        return int(self.r.gt_ids[row]) if row >= 0 else None

    def prediction(self, idx: int) -> PredictionWhy:
        r, c, ov = self.r, self.c, self.a.overlaps
        t_f, t_b = c.t_f, c.t_b
        kind = int(c.kind[idx])
        target = int(c.target[idx])
        same, other = int(ov.same_row[idx]), int(ov.other_row[idx])
        s_iou, o_iou = float(ov.same_iou[idx]), float(ov.other_iou[idx])
        sup = int(c.suppressor[idx])
        mrow = int(c.match_row[idx])
        fixed = None
        if kind in (CLASSIFICATION, LOCALISATION):
            fixed = "true_positive" if c.fix_wins[idx] else "suppressed"
        elif kind in (BOTH, DUPLICATE, BACKGROUND):
            fixed = "suppressed"
        elif kind == ID0_QUIRK:
            fixed = "true_positive"
        if kind == NOT_SCORED:
            text = {
                "unknown_category": "not scored: its category is not in the ground truth's categories",
                "beyond_max_dets": f"not scored: beyond the {self.a.max_det} best of its image and category",
                "removed_by_readme_rule": "not scored: beyond its image's 255 best (README rule applied)",
            }.get(STATUS_NAMES[int(r.status[idx])], "not scored")
        elif kind == TRUE_POSITIVE:
            text = f"true positive: matches {self._gt(target)} with IoU {c.target_iou[idx]:.3f}"
        elif kind == IGNORED:
            text = ("ignored: matches a crowd region" if mrow >= 0
                    else "ignored: its area is outside the area range")
        elif kind == ID0_QUIRK:
            text = (f"official id-0 quirk: matches {self._gt(target)} with IoU {c.target_iou[idx]:.3f}, but "
                    "pycocotools stores a match as the GT id and counts id 0 as no match (false positive)")
        elif kind == DUPLICATE:
            who = self._pred(sup) if sup >= 0 else "another prediction"
            text = (f"duplicate: its best same-category GT, {self._gt(target)} (IoU {s_iou:.3f}), "
                    f"was already taken by higher-scoring {who}")
        elif kind == LOCALISATION:
            text = (f"localisation: best same-category GT is {self._gt(target)} with IoU {s_iou:.3f} "
                    f"< {t_f:.2f}")
        elif kind == CLASSIFICATION:
            text = (f"classification: overlaps {self._gt(target)} of another category with IoU "
                    f"{o_iou:.3f} >= {t_f:.2f}")
        elif kind == BOTH:
            text = (f"classification and localisation: overlaps {self._gt(target)} of another category "
                    f"with IoU {o_iou:.3f} (< {t_f:.2f}), no same-category GT with IoU >= {t_b:.2f}")
        else:
            best = max(s_iou, o_iou, 0.0)
            text = f"background: overlaps no GT with IoU >= {t_b:.2f} (best {best:.3f})"
        if fixed is not None and kind in (CLASSIFICATION, LOCALISATION) and fixed == "suppressed":
            text += "; its GT is already matched or claimed by a higher-scoring error, so a fix suppresses it"
        rank = int(r.rank[idx])
        return PredictionWhy(
            index=int(idx), image_id=int(r.image_ids[idx]), category_id=int(r.category_ids[idx]),
            score=float(r.scores[idx]), status=STATUS_NAMES[int(r.status[idx])],
            rank=rank if rank >= 0 else None,
            kind=None if kind == NOT_SCORED else PRED_KIND_NAMES[kind],
            matched_gt=self._gt_id(mrow), matched_iou=_opt(c.match_iou[idx]) if mrow >= 0 else None,
            target_gt=self._gt_id(target), target_row=target if target >= 0 else None,
            target_iou=_opt(c.target_iou[idx]),
            best_same_gt=self._gt_id(same), best_same_iou=_opt(s_iou),
            best_other_gt=self._gt_id(other),
            best_other_category=int(r.gt_category_ids[other]) if other >= 0 else None,
            best_other_iou=_opt(o_iou),
            suppressor=sup if sup >= 0 else None, fixed_by_tide=fixed, text=text,
        )

    def ground_truth(self, row: int) -> GroundTruthWhy:
        r, c, ov = self.r, self.c, self.a.overlaps
        kind = int(c.gt_kind[row])
        by = int(c.gt_by[row])
        best = int(ov.gt_best_pred[row])
        best_iou = float(ov.gt_best_iou[row])
        t = c.t_index
        matched = int(r.gt_matched[row, t]) if r.gt_matched.shape[1] else -1
        m_iou = None
        if matched >= 0:
            m_iou = _opt(c.match_iou[matched])
        if kind == GT_MATCHED:
            text = f"matched by {self._pred(by)} with IoU {m_iou:.3f}" if m_iou is not None else "matched"
        elif kind == GT_ID0:
            text = (f"official id-0 quirk: matched by {self._pred(by)}, which pycocotools counts as no "
                    "match (this GT is counted as missed)")
        elif kind == GT_IGNORED:
            text = "ignored (crowd region)"
        elif kind == GT_CLAIMED:
            k = PRED_KIND_NAMES[int(c.kind[by])]
            text = (f"not matched; claimed by {k} error {self._pred(by)} (IoU "
                    f"{ov.pair(by, row, int(r.gt_image_ids[row])):.3f}): fixing that error would find it")
        else:
            text = "missed: " + self._missed_reason(row, best, best_iou)
        return GroundTruthWhy(
            row=int(row), id=int(r.gt_ids[row]), category_id=int(r.gt_category_ids[row]),
            kind=GT_KIND_NAMES[kind], matched_pred=matched if matched >= 0 else None, matched_iou=m_iou,
            claimed_by=by if kind == GT_CLAIMED else None,
            best_pred=best if best >= 0 else None,
            best_pred_category=int(r.category_ids[best]) if best >= 0 else None,
            best_pred_iou=_opt(best_iou) if best >= 0 else None, text=text,
        )

    def _missed_reason(self, row: int, best: int, best_iou: float) -> str:
        c = self.c
        if best < 0:
            return "no scored prediction overlaps it"
        if best_iou < c.t_b:
            # a prediction barely touching the object explains nothing: not named as its candidate
            closest = f" (the closest reaches IoU {best_iou:.3f})" if best_iou >= 0.0005 else ""
            return f"no scored prediction overlaps it by IoU >= {c.t_b:.2f}{closest}"
        who = f"best candidate {self._pred(best)}, IoU {best_iou:.3f}"
        same_cat = self.r.category_ids[best] == self.r.gt_category_ids[row]
        kind = int(c.kind[best])
        tgt = int(c.target[best])
        if kind == TRUE_POSITIVE and tgt != row:
            return f"{who}, is the true positive of {self._gt(tgt)}"
        if not same_cat and best_iou < c.t_f:
            reason = f"{who}, is of another category and under {c.t_f:.2f}"
        elif not same_cat:
            reason = f"{who}, is of another category"
        elif best_iou < c.t_f:
            reason = f"{who}, is under {c.t_f:.2f}"
        else:
            reason = f"{who}"
        if kind not in (TRUE_POSITIVE, NOT_SCORED) and tgt >= 0 and tgt != row:
            reason += f"; it is counted as a {PRED_KIND_NAMES[kind]} error on {self._gt(tgt)}"
        elif kind in (BOTH, BACKGROUND):
            reason += f"; it is counted as a {PRED_KIND_NAMES[kind]} error"
        return reason
