"""Per-image match records, kept after the run so that any image can be shown without
re-running the evaluation: area range "all", maxDets[-1], every IoU threshold.

A geometric match with ground-truth id 0 is reported as the match it is (``matched_gt`` = 0),
with the outcome ``fp_gt_id_0``: pycocotools stores matches as GT ids and tests them for truth,
so the official score counts it as a false positive and the GT as missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np


class PredStatus(IntEnum):
    """Why a prediction is or is not scored (the uint8 codes of ``MatchRecords.status``)."""

    SCORED = 0
    UNKNOWN_CATEGORY = 1  # category not in the GT's categories: pycocotools never loads it
    BEYOND_MAX_DETS = 2  # past maxDets[-1] in its (image, category): pycocotools drops it
    REMOVED_BY_README_RULE = 3  # past the 255 best of its image, with the README rule applied

    @property
    def json_name(self) -> str:
        """The name written to JSON (``placeseg matches``, ``evaluate --json``)."""
        return self.name.lower()


class Outcome(IntEnum):
    """Outcome of a prediction at one IoU threshold (area "all"): the int8 codes of
    :meth:`MatchRecords.threshold_columns` and of the application's outcome table."""

    NOT_SCORED = -1
    TP = 0
    FP = 1
    IGNORED = 2  # crowd match, or area outside the range
    FP_ID0 = 3  # geometric match with GT id 0: pycocotools counts a false positive

    @property
    def json_name(self) -> str | None:
        """The name written to JSON; None when not scored."""
        return None if self < 0 else OUTCOME_CODES[self]


#: JSON name of each scored outcome (index by an :class:`Outcome` >= 0).
OUTCOME_CODES = ("tp", "fp", "ignored", "fp_gt_id_0")
#: JSON name of each status (index by a :class:`PredStatus` / ``MatchRecords.status``).
STATUS_NAMES = tuple(s.json_name for s in PredStatus)


@dataclass(frozen=True)
class PredictionRecord:
    index: int  # position in the submission file
    image_id: int
    category_id: int
    score: float
    status: str
    rank: int | None  # rank in its (image, category) group, None if not in one
    matched_gt: tuple[int | None, ...]  # GT id per threshold (geometric match)
    iou: tuple[float | None, ...]
    outcome: tuple[str | None, ...]  # tp / fp / ignored / fp_gt_id_0; None when not scored

    @property
    def matched_gt_id_zero(self) -> bool:
        return any(g == 0 for g in self.matched_gt)

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index, "category_id": self.category_id, "score": self.score,
            "matched_gt": list(self.matched_gt), "iou": list(self.iou), "status": self.status,
            "outcome": list(self.outcome), "rank": self.rank,
            "matched_gt_id_zero": self.matched_gt_id_zero,
        }


@dataclass(frozen=True)
class GroundTruthRecord:
    row: int
    id: int
    category_id: int
    area: float
    iscrowd: bool
    ignored: bool  # pycocotools' gtIgnore for area "all" (crowd)
    matched_pred: tuple[int | None, ...]  # submission index per threshold

    def to_json(self) -> dict[str, Any]:
        area: float | int = int(self.area) if float(self.area).is_integer() else self.area
        return {"id": self.id, "category_id": self.category_id, "area": area,
                "iscrowd": self.iscrowd, "ignored": self.ignored,
                "matched_pred": list(self.matched_pred)}


@dataclass(frozen=True)
class ImageMatches:
    image_id: int
    predictions: list[PredictionRecord]
    ground_truth: list[GroundTruthRecord]

    def to_json(self) -> dict[str, Any]:
        return {"image_id": self.image_id,
                "predictions": [p.to_json() for p in self.predictions],
                "ground_truth": [g.to_json() for g in self.ground_truth]}


@dataclass
class MatchRecords:
    """Columns for every prediction and GT; ``image(id)`` assembles one image's records."""

    num_thresholds: int
    image_ids: np.ndarray  # (N,) per prediction
    category_ids: np.ndarray
    scores: np.ndarray
    status: np.ndarray  # uint8 (N,)
    rank: np.ndarray  # int64 (N,), -1 if not in a group
    outside_all: np.ndarray  # bool (N,): area outside the "all" range (box areas can be < 0)
    cand_index: np.ndarray  # int64 (C,), sorted: predictions with a match at some threshold
    cand_gt_row: np.ndarray  # int32 (C, T)
    cand_iou: np.ndarray  # float64 (C, T), NaN where unmatched
    gt_ids: np.ndarray
    gt_image_ids: np.ndarray  # sorted
    gt_category_ids: np.ndarray
    gt_areas: np.ndarray
    gt_iscrowd: np.ndarray
    gt_ignored: np.ndarray  # bool: ignored in area "all"
    gt_matched: np.ndarray  # int64 (G, T): submission index, -1

    def __post_init__(self) -> None:
        self._pred_order = np.argsort(self.image_ids, kind="stable")
        self._pred_images = self.image_ids[self._pred_order]

    def image_ids_with_records(self) -> np.ndarray:
        return np.union1d(np.unique(self.image_ids), np.unique(self.gt_image_ids))

    def threshold_columns(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every prediction at threshold index ``t``, as columns (what :meth:`prediction` gives
        one by one): matched GT row (-1 none), its IoU (NaN none) and the outcome code
        (an :class:`Outcome`: tp 0, fp 1, ignored 2, fp_gt_id_0 3; -1 when not scored)."""
        n = len(self.image_ids)
        rows = np.full(n, -1, dtype=np.int64)
        ious = np.full(n, np.nan)
        rows[self.cand_index] = self.cand_gt_row[:, t]
        ious[self.cand_index] = self.cand_iou[:, t]
        code = np.full(n, Outcome.NOT_SCORED, dtype=np.int8)
        scored = self.status == PredStatus.SCORED
        matched = rows >= 0
        safe = np.maximum(rows, 0)
        id0 = matched & (self.gt_ids[safe] == 0) if len(self.gt_ids) else np.zeros(n, dtype=bool)
        gt_ig = matched & self.gt_ignored[safe] if len(self.gt_ids) else np.zeros(n, dtype=bool)
        code[scored & ~matched] = Outcome.FP
        code[scored & ~matched & self.outside_all] = Outcome.IGNORED
        code[scored & matched & ~id0] = Outcome.TP
        code[scored & matched & ~id0 & gt_ig] = Outcome.IGNORED
        code[scored & id0] = Outcome.FP_ID0
        code[scored & id0 & (gt_ig | self.outside_all)] = Outcome.IGNORED
        return rows, ious, code

    def image_prediction_indices(self, image_id: int) -> np.ndarray:
        """Submission indices of one image's predictions, ascending."""
        lo = np.searchsorted(self._pred_images, image_id, "left")
        hi = np.searchsorted(self._pred_images, image_id, "right")
        return np.sort(self._pred_order[lo:hi])

    def image_gt_rows(self, image_id: int) -> np.ndarray:
        """GT rows of one image (rows are grouped by image)."""
        lo = np.searchsorted(self.gt_image_ids, image_id, "left")
        hi = np.searchsorted(self.gt_image_ids, image_id, "right")
        return np.arange(int(lo), int(hi))

    def prediction(self, index: int) -> PredictionRecord:
        t_count = self.num_thresholds
        status = int(self.status[index])
        matched: list[int | None] = [None] * t_count
        ious: list[float | None] = [None] * t_count
        outcome: list[Outcome] = [Outcome.NOT_SCORED] * t_count
        if status == PredStatus.SCORED:
            c = int(np.searchsorted(self.cand_index, index))
            has = c < len(self.cand_index) and self.cand_index[c] == index
            for t in range(t_count):
                row = int(self.cand_gt_row[c, t]) if has else -1
                if row < 0:
                    outcome[t] = Outcome.IGNORED if self.outside_all[index] else Outcome.FP
                    continue
                gid = int(self.gt_ids[row])
                matched[t] = gid
                ious[t] = float(self.cand_iou[c, t])
                if gid != 0:
                    outcome[t] = Outcome.IGNORED if self.gt_ignored[row] else Outcome.TP
                else:  # dtm == 0: officially unmatched, yet dtIgnore took the GT's flag
                    ig = self.gt_ignored[row] or self.outside_all[index]
                    outcome[t] = Outcome.IGNORED if ig else Outcome.FP_ID0
        rank = int(self.rank[index])
        return PredictionRecord(
            index=int(index), image_id=int(self.image_ids[index]),
            category_id=int(self.category_ids[index]), score=float(self.scores[index]),
            status=STATUS_NAMES[status], rank=rank if rank >= 0 else None,
            matched_gt=tuple(matched), iou=tuple(ious), outcome=tuple(o.json_name for o in outcome),
        )

    def ground_truth(self, row: int) -> GroundTruthRecord:
        return GroundTruthRecord(
            row=int(row), id=int(self.gt_ids[row]), category_id=int(self.gt_category_ids[row]),
            area=float(self.gt_areas[row]), iscrowd=bool(self.gt_iscrowd[row]),
            ignored=bool(self.gt_ignored[row]),
            matched_pred=tuple(int(v) if v >= 0 else None for v in self.gt_matched[row].tolist()),
        )

    def image(self, image_id: int) -> ImageMatches:
        lo = np.searchsorted(self._pred_images, image_id, "left")
        hi = np.searchsorted(self._pred_images, image_id, "right")
        preds = [self.prediction(int(i)) for i in np.sort(self._pred_order[lo:hi])]
        g_lo = np.searchsorted(self.gt_image_ids, image_id, "left")
        g_hi = np.searchsorted(self.gt_image_ids, image_id, "right")
        gts = [self.ground_truth(r) for r in range(int(g_lo), int(g_hi))]
        return ImageMatches(int(image_id), preds, gts)


def gt_matches_from_dt(cand_index: np.ndarray, cand_gt_row: np.ndarray, cand_rank: np.ndarray,
                       num_gt: int) -> np.ndarray:
    """Invert detection -> GT matches (pycocotools' gtMatches). A crowd GT matched by several
    detections keeps the last one in score order, as ``gtm[tind, m] = d['id']`` leaves it."""
    num_thr = cand_gt_row.shape[1] if cand_gt_row.ndim == 2 else 0
    out = np.full((num_gt, num_thr), -1, dtype=np.int64)
    for t in range(num_thr):
        rows = cand_gt_row[:, t]
        hit = np.flatnonzero(rows >= 0)
        best_rank = np.full(num_gt, -1, dtype=np.int64)
        np.maximum.at(best_rank, rows[hit], cand_rank[hit])
        winner = hit[cand_rank[hit] == best_rank[rows[hit]]]
        out[rows[winner], t] = cand_index[winner]
    return out
