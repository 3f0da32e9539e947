"""Confusion matrix of categories at one IoU, with the predictions (and GT) behind each cell.

Rows: GT category, then ``background``; columns: predicted category, then ``missed``. Every
scored prediction is counted once, in the row of its best-IoU GT (any category, ignored GT left
out) when that IoU is >= the threshold, else in the background row. A non-ignored GT that is
nobody's best GT at that IoU is counted in the missed column of its category's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..evaluation.records import MatchRecords, PredStatus
from .overlaps import Overlaps

BACKGROUND = "background"
MISSED = "missed"


@dataclass
class ConfusionMatrix:
    iou_threshold: float
    category_ids: np.ndarray  # (K,) rows 0..K-1 and columns 0..K-1
    counts: np.ndarray  # int64 (K+1, K+1): [K, :] background row, [:, K] missed column
    _pred_cell: np.ndarray  # cell key (row * (K+1) + col) per listed prediction, sorted
    _pred_index: np.ndarray  # submission indices, by cell then score (highest first)
    _pred_gt_row: np.ndarray  # their best GT row (-1 in the background row)
    _missed_cat: np.ndarray  # category position of each missed GT, sorted
    _missed_rows: np.ndarray  # GT rows

    @property
    def size(self) -> int:
        return len(self.category_ids) + 1

    @property
    def labels(self) -> tuple[list[Any], list[Any]]:
        """(row labels, column labels): category ids then 'background' / 'missed'."""
        ids = self.category_ids.tolist()
        return [*ids, BACKGROUND], [*ids, MISSED]

    def position(self, category_id: int | str) -> int:
        """Row / column position of a category id, or of 'background' / 'missed'."""
        if category_id in (BACKGROUND, MISSED):
            return len(self.category_ids)
        k = int(np.searchsorted(self.category_ids, category_id))
        if k >= len(self.category_ids) or self.category_ids[k] != category_id:
            raise KeyError(f"category {category_id} is not in the ground truth")
        return k

    def cell(self, gt_category: int | str, pred_category: int | str) -> tuple[np.ndarray, np.ndarray]:
        """(prediction indices, GT rows) in one cell; for the missed column, prediction indices
        are empty and the GT rows are the missed ground truth. Highest scores first."""
        r, c = self.position(gt_category), self.position(pred_category)
        return self.cell_at(r, c)

    def cell_at(self, r: int, c: int) -> tuple[np.ndarray, np.ndarray]:
        K = len(self.category_ids)
        if c == K:
            lo, hi = np.searchsorted(self._missed_cat, r, "left"), np.searchsorted(self._missed_cat, r, "right")
            return np.zeros(0, np.int64), self._missed_rows[lo:hi]
        key = r * (K + 1) + c
        lo, hi = np.searchsorted(self._pred_cell, key, "left"), np.searchsorted(self._pred_cell, key, "right")
        return self._pred_index[lo:hi], self._pred_gt_row[lo:hi]

    def nonzero_cells(self) -> list[tuple[int | str, int | str, int]]:
        rows, cols = self.labels
        r, c = np.nonzero(self.counts)
        return [(rows[i], cols[j], int(self.counts[i, j])) for i, j in zip(r.tolist(), c.tolist(), strict=True)]

    def to_json(self) -> dict[str, Any]:
        return {"iou_threshold": self.iou_threshold,
                "cells": [{"gt": g, "pred": p, "count": n} for g, p, n in self.nonzero_cells()]}


def confusion_matrix(records: MatchRecords, ov: Overlaps, category_ids: np.ndarray,
                     iou_threshold: float) -> ConfusionMatrix:
    K = len(category_ids)
    scored = np.flatnonzero(records.status == PredStatus.SCORED)
    best_row, best_iou = ov.best_row[scored], ov.best_iou[scored]
    hit = (best_row >= 0) & (best_iou >= iou_threshold)
    pred_col = np.searchsorted(category_ids, records.category_ids[scored])
    gt_r = np.full(len(scored), K, dtype=np.int64)
    gt_r[hit] = np.searchsorted(category_ids, records.gt_category_ids[best_row[hit]])
    key = gt_r * (K + 1) + pred_col
    order = np.lexsort((scored, -records.scores[scored], key))
    counts = np.bincount(key, minlength=(K + 1) * (K + 1)).reshape(K + 1, K + 1)
    claimed = np.zeros(len(records.gt_ids), dtype=bool)
    claimed[best_row[hit]] = True
    missed = np.flatnonzero(~claimed & ~records.gt_ignored)
    m_cat = np.searchsorted(category_ids, records.gt_category_ids[missed])
    m_order = np.lexsort((missed, m_cat))
    counts[:K, K] = np.bincount(m_cat, minlength=K)[:K]
    return ConfusionMatrix(
        iou_threshold=float(iou_threshold), category_ids=category_ids, counts=counts,
        _pred_cell=key[order], _pred_index=scored[order],
        _pred_gt_row=np.where(hit, best_row, -1)[order],
        _missed_cat=m_cat[m_order], _missed_rows=missed[m_order],
    )
