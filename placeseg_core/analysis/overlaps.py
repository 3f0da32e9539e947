"""Mask IoU of every scored prediction with every ground truth of its image, all categories.

The evaluation only compares a prediction with the ground truth of its own category; the error
analysis also needs the other categories (classification errors, the confusion matrix, a missed
object's best candidate). Per image, one ``pycocotools.mask.iou`` call on the RLE strings (never
decoded to pixels), with pycocotools' crowd semantics. The matrices are kept (CSR by image:
predictions in score order x the image's GT rows), with the columns the analysis reads:
each prediction's best same-category and best other-category GT, and each GT's best candidate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ..evaluation.control import Control
from ..evaluation.records import MatchRecords, PredStatus


@dataclass
class Overlaps:
    """IoU matrices per image and the best overlaps read from them.

    Ties: a prediction's best GT is the *later* GT row on equal IoU (pycocotools' matcher
    prefers the later one too); a GT's best candidate is the higher-scoring prediction.
    Ignored (crowd) GT are left out of every "best" column.
    """

    image_ids: np.ndarray  # (I,) images with scored predictions or GT, sorted
    pred_ptr: np.ndarray  # (I+1,) into pred_index
    pred_index: np.ndarray  # submission indices, per image by (-score, file index)
    gt_lo: np.ndarray  # (I,) first GT row of each image
    gt_hi: np.ndarray  # (I,)
    iou_ptr: np.ndarray  # (I+1,) into iou
    iou: np.ndarray  # float64, each image's (n_pred, n_gt) matrix, row-major
    # per prediction (N,): row -1 when no such GT overlaps it (IoU 0, or -1.0 when the image
    # has no such GT or the prediction is not scored)
    same_row: np.ndarray
    same_iou: np.ndarray
    other_row: np.ndarray
    other_iou: np.ndarray
    # per GT row (G,)
    gt_best_pred: np.ndarray  # submission index of the highest-IoU scored prediction, -1 if none > 0
    gt_best_iou: np.ndarray  # -1.0 when the image has no scored prediction
    seconds: float = 0.0

    def _pos(self, image_id: int) -> int:
        i = int(np.searchsorted(self.image_ids, image_id))
        if i >= len(self.image_ids) or self.image_ids[i] != image_id:
            return -1
        return i

    def image(self, image_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(prediction indices in score order, GT rows, IoU matrix) of one image."""
        i = self._pos(image_id)
        if i < 0:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros((0, 0))
        preds = self.pred_index[self.pred_ptr[i] : self.pred_ptr[i + 1]]
        rows = np.arange(int(self.gt_lo[i]), int(self.gt_hi[i]))
        mat = self.iou[self.iou_ptr[i] : self.iou_ptr[i + 1]].reshape(len(preds), len(rows))
        return preds, rows, mat

    def pair(self, index: int, row: int, image_id: int) -> float:
        """IoU of one prediction with one GT row of the same image (0 if not computed)."""
        preds, rows, mat = self.image(image_id)
        p = np.flatnonzero(preds == index)
        g = np.flatnonzero(rows == row)
        return float(mat[p[0], g[0]]) if len(p) and len(g) else 0.0

    @property
    def best_row(self) -> np.ndarray:
        """Best GT of any category per prediction (later row on ties), -1."""
        take_other = (self.other_iou > self.same_iou) | (
            (self.other_iou == self.same_iou) & (self.other_row > self.same_row))
        return np.where(take_other, self.other_row, self.same_row)

    @property
    def best_iou(self) -> np.ndarray:
        return np.maximum(self.same_iou, self.other_iou)


def _iou(dts: list[Any], gts: list[Any], crowd: list[int]) -> np.ndarray:
    try:
        return np.asarray(mask_utils.iou(dts, gts, crowd), dtype=np.float64).reshape(len(dts), len(gts))
    except Exception:  # a mask of another size than the image's: compare what can be compared
        out = np.zeros((len(dts), len(gts)))
        for j, g in enumerate(gts):
            for i, d in enumerate(dts):
                try:
                    out[i, j] = float(np.asarray(mask_utils.iou([d], [g], [crowd[j]])).ravel()[0])
                except Exception:
                    out[i, j] = 0.0
        return out


def compute_overlaps(records: MatchRecords, gt_rles: list[Any], sub_rles: list[Any],
                     control: Control | None = None) -> Overlaps:
    """All cross-category IoUs of the scored predictions, image by image."""
    control = control or Control()
    n, g = len(records.image_ids), len(records.gt_ids)
    scored = np.flatnonzero(records.status == PredStatus.SCORED)
    order = scored[np.lexsort((scored, -records.scores[scored], records.image_ids[scored]))]
    p_img = records.image_ids[order]
    image_ids = np.union1d(np.unique(p_img), np.unique(records.gt_image_ids))
    pred_ptr = np.searchsorted(p_img, image_ids, "left")
    pred_ptr = np.append(pred_ptr, len(order)).astype(np.int64)
    gt_lo = np.searchsorted(records.gt_image_ids, image_ids, "left").astype(np.int64)
    gt_hi = np.searchsorted(records.gt_image_ids, image_ids, "right").astype(np.int64)
    sizes = np.diff(pred_ptr) * (gt_hi - gt_lo)
    iou_ptr = np.concatenate(([0], np.cumsum(sizes))).astype(np.int64)
    flat = np.zeros(int(iou_ptr[-1]))
    same_row = np.full(n, -1, np.int64)
    other_row = np.full(n, -1, np.int64)
    same_iou = np.full(n, -1.0)
    other_iou = np.full(n, -1.0)
    gt_best_pred = np.full(g, -1, np.int64)
    gt_best_iou = np.full(g, -1.0)
    crowd_all = records.gt_iscrowd.astype(int).tolist()
    pred_cat, gt_cat, gt_ign = records.category_ids, records.gt_category_ids, records.gt_ignored
    step = max(1, len(image_ids) // 20)
    control.add_total(len(range(0, len(image_ids), step)))
    for i in range(len(image_ids)):
        if i % step == 0 and i:
            control.advance()
        a, b = int(pred_ptr[i]), int(pred_ptr[i + 1])
        lo, hi = int(gt_lo[i]), int(gt_hi[i])
        if a == b or lo == hi:
            continue
        preds = order[a:b]
        mat = _iou([sub_rles[j] for j in preds.tolist()], gt_rles[lo:hi], crowd_all[lo:hi])
        flat[iou_ptr[i] : iou_ptr[i + 1]] = mat.ravel()
        usable = ~gt_ign[lo:hi]
        same = (pred_cat[preds][:, None] == gt_cat[lo:hi][None, :]) & usable[None, :]
        other = ~same & usable[None, :]
        ng = hi - lo
        for mask, rows_out, ious_out in ((same, same_row, same_iou), (other, other_row, other_iou)):
            m = np.where(mask, mat, -1.0)[:, ::-1]  # reversed: argmax takes the later GT on ties
            j = np.argmax(m, axis=1)
            best = m[np.arange(len(preds)), j]
            has = best >= 0
            rows_out[preds[has]] = np.where(best[has] > 0, lo + ng - 1 - j[has], -1)
            ious_out[preds[has]] = best[has]
        m = np.where(usable[None, :], mat, -1.0)
        j = np.argmax(m, axis=0)  # first = highest score on ties
        best = m[j, np.arange(ng)]
        gt_best_pred[lo:hi] = np.where(usable & (best > 0), preds[j], -1)
        gt_best_iou[lo:hi] = np.where(usable, best, -1.0)
    control.advance()
    return Overlaps(image_ids, pred_ptr, order, gt_lo, gt_hi, iou_ptr, flat,
                    same_row, same_iou, other_row, other_iou, gt_best_pred, gt_best_iou)
