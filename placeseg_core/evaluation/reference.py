"""The reference engine: pycocotools itself, driven step by step.

It runs what ``COCOeval.evaluate()`` runs -- ``_prepare``, ``computeIoU`` per (image, category),
``evaluateImg`` per (category, area, image), then ``accumulate()`` -- but calls those steps one
by one so that it can report progress and stop when asked. Inputs are handed over the way the
challenge does it: ``COCO()`` with ``dataset`` set from the dict, ``loadRes(list of items)``,
``COCOeval(gt, dt, 'segm')`` with ``params.maxDets`` set. Quirk variants are full re-runs on
changed inputs (GT ids shifted by one; items without boxes), so this engine checks the fast
engine's shortcuts independently.
"""

from __future__ import annotations

import contextlib
import copy
import io
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from .. import rle as rle_utils
from ..submissions import Submission
from .accumulate import Accumulated
from .control import Control
from .fast import RunOutput
from .groundtruth import GroundTruth
from .matching import MatchOutput
from .params import EvalParams
from .parts import outside_ranges
from .prepare import make_plan


def _coco_gt(dataset: dict[str, Any], shift_ids: int = 0) -> COCO:
    # pycocotools writes 'ignore' / '_ignore' (and RLEs for polygons) into the annotation dicts:
    # give it shallow copies so that the caller's ground truth stays as it was.
    anns = [dict(a) for a in dataset.get("annotations", [])]
    if shift_ids:
        for a in anns:
            a["id"] = a["id"] + shift_ids
    coco = COCO()
    coco.dataset = {**dataset, "annotations": anns}
    coco.createIndex()
    return coco


def _items(sub: Submission, idx: np.ndarray, with_boxes: bool) -> list[dict[str, Any]]:
    # fresh dicts: loadRes adds area, bbox, id and iscrowd to the items it is given
    items = []
    for i in idx.tolist():
        item = {"image_id": int(sub.image_ids[i]), "category_id": int(sub.category_ids[i]),
                "segmentation": sub.rles[i], "score": float(sub.scores[i])}
        if with_boxes and sub.bboxes is not None:
            item["bbox"] = [float(v) for v in sub.bboxes[i]]
        items.append(item)
    return items


def drive_cocoeval(dataset: dict[str, Any], items: list[dict[str, Any]], params: EvalParams,
                   control: Control, shift_ids: int = 0) -> COCOeval:
    """COCOeval.evaluate() + accumulate(), step by step, silenced."""
    with contextlib.redirect_stdout(io.StringIO()):
        cocogt = _coco_gt(dataset, shift_ids)
        cocodt = cocogt.loadRes(items)
        E = COCOeval(cocogt, cocodt, "segm")
        p = E.params
        p.maxDets = list(params.max_dets)
        # what evaluate() does before its loops
        p.imgIds = list(np.unique(p.imgIds))
        p.catIds = list(np.unique(p.catIds))
        p.maxDets = sorted(p.maxDets)
        E.params = p
        E._prepare()
        cat_ids = p.catIds
        control.add_total(len(p.imgIds) + len(cat_ids) * len(p.areaRng) + 1)
        E.ious = {}
        for img_id in p.imgIds:
            for cat_id in cat_ids:
                E.ious[(img_id, cat_id)] = E.computeIoU(img_id, cat_id)
            control.advance()
        max_det = p.maxDets[-1]
        E.evalImgs = []
        for cat_id in cat_ids:
            for area_rng in p.areaRng:
                E.evalImgs.extend(E.evaluateImg(img_id, cat_id, area_rng, max_det) for img_id in p.imgIds)
                control.advance()
        E._paramsEval = copy.deepcopy(E.params)
        per_category = len(p.areaRng) * len(p.maxDets) * len(p.imgIds)
        E.evalImgs = _Watched(E.evalImgs, control, max(per_category, 1))
        control.add_total(len(cat_ids))
        E.accumulate()
        E.evalImgs = list(E.evalImgs)
        control.advance()
    return E


class _Watched(list):
    """``evalImgs`` that polls cancellation while ``accumulate()`` reads it.

    accumulate() reads ``self.evalImgs[Nk + Na + i]`` once per image for every (category,
    area, maxDet); every ``every`` reads (one category) we report progress and may stop.
    """

    def __init__(self, items: list[Any], control: Control, every: int) -> None:
        super().__init__(items)
        self._control = control
        self._every = every
        self._reads = 0

    def __getitem__(self, index: Any) -> Any:
        self._reads += 1
        if self._reads % self._every == 0:
            self._control.advance()
        elif self._reads % 4096 == 0:
            self._control.check()
        return super().__getitem__(index)


def _accumulated(E: COCOeval) -> Accumulated:
    return Accumulated(E.eval["precision"], E.eval["recall"], E.eval["scores"])


def _id0_matched(E: COCOeval) -> bool:
    for e in E.evalImgs:
        if e is None or not e["gtIds"]:
            continue
        ids = np.asarray(e["gtIds"])
        if np.any(ids == 0) and np.any(e["gtMatches"][:, ids == 0] > 0):
            return True
    return False


def _records(E: COCOeval, gt: GroundTruth, item_index: np.ndarray) -> tuple[MatchOutput, np.ndarray]:
    """Area "all" matches from evalImgs, as rows / submission indices."""
    p = E.params
    K = len(gt.category_ids)
    gt_img = np.searchsorted(gt.image_ids, gt.ann_image_ids)
    gt_cat = np.searchsorted(gt.category_ids, gt.ann_category_ids)
    gt_key = gt_img * max(K, 1) + gt_cat
    gt_order = np.argsort(gt_key, kind="stable")
    sorted_keys = gt_key[gt_order]
    T = len(p.iouThrs)
    gt_matched = np.full((len(gt), T), -1, dtype=np.int64)
    d_idx: list[int] = []
    d_rows: list[np.ndarray] = []
    d_ious: list[np.ndarray] = []
    num_img = len(p.imgIds)
    lo_all, hi_all = p.areaRng[0]
    for k, cat_id in enumerate(p.catIds):
        base = k * len(p.areaRng) * num_img  # area index 0 ("all")
        for i, img_id in enumerate(p.imgIds):
            e = E.evalImgs[base + i]
            if e is None:
                continue
            gts = E._gts[img_id, cat_id]
            ig = [1 if (g["ignore"] or g["area"] < lo_all or g["area"] > hi_all) else 0 for g in gts]
            gtind = np.argsort(ig, kind="mergesort")  # evaluateImg's "ignored last" order
            start = int(np.searchsorted(sorted_keys, i * max(K, 1) + k, "left"))
            rows = gt_order[start + gtind]
            ious = E.ious[img_id, cat_id]
            dt_sub = item_index[np.asarray(e["dtIds"], dtype=np.int64) - 1]
            gtm, dtm = e["gtMatches"], e["dtMatches"]
            match = np.full((len(dt_sub), T), -1, dtype=np.int64)
            for t in range(T):
                for j in np.flatnonzero(gtm[t] > 0):
                    d = int(gtm[t, j]) - 1
                    d_pos = e["dtIds"].index(d + 1)
                    match[d_pos, t] = j
                    gt_matched[rows[j], t] = item_index[d]
                for d_pos in np.flatnonzero((dtm[t] != 0) & (match[:, t] < 0)):
                    # a crowd GT keeps only its last detection in gtMatches
                    cands = [j for j, gid in enumerate(e["gtIds"]) if gid == dtm[t, d_pos]]
                    match[d_pos, t] = cands[0]
            for d_pos in np.flatnonzero((match >= 0).any(axis=1)):
                m = match[d_pos]
                d_idx.append(int(dt_sub[d_pos]))
                d_rows.append(np.where(m >= 0, rows[np.maximum(m, 0)], -1))
                d_ious.append(np.where(m >= 0, ious[d_pos, gtind[np.maximum(m, 0)]], np.nan)
                              if len(gtind) else np.full(T, np.nan))
    if not d_idx:
        return MatchOutput.empty(1, T), gt_matched
    order = np.argsort(d_idx)
    out = MatchOutput(np.asarray(d_idx, dtype=np.int64)[order],
                      np.stack(d_rows).astype(np.int32)[order][:, None, :],
                      np.stack(d_ious)[order])
    return out, gt_matched


def run_reference(gt: GroundTruth, sub: Submission, params: EvalParams, selections: list[np.ndarray],
                  img_idx: np.ndarray, control: Control) -> list[tuple[RunOutput, np.ndarray]]:
    """Each selection through pycocotools; returns run outputs with pycocotools' gtMatches."""
    outputs = []
    for sel in selections:
        plan = make_plan(gt, sub, sel, params.max_det, img_idx)
        item_index = np.flatnonzero(sel)
        with_boxes = sub.bboxes is not None
        E = drive_cocoeval(gt.dataset, _items(sub, item_index, with_boxes), params, control)
        match, gt_matched = _records(E, gt, item_index)
        id0_counted = None
        if _id0_matched(E):
            E1 = drive_cocoeval(gt.dataset, _items(sub, item_index, with_boxes), params, control, shift_ids=1)
            id0_counted = _accumulated(E1)
        mask_areas = None
        moves = 0
        if with_boxes and sub.bboxes is not None:
            E2 = drive_cocoeval(gt.dataset, _items(sub, item_index, False), params, control)
            mask_areas = _accumulated(E2)
            scored = plan.scored
            box = sub.bboxes[scored, 2] * sub.bboxes[scored, 3]
            mask = rle_utils.area([sub.rles[i] for i in scored.tolist()]).astype(np.float64)
            moves = int(np.any(outside_ranges(box, params) != outside_ranges(mask, params), axis=1).sum())
        zero = (match.gt_row[:, 0, :] >= 0) & (gt.ann_ids[np.maximum(match.gt_row[:, 0, :], 0)] == 0)
        run = RunOutput(plan, match, _accumulated(E), id0_counted, mask_areas,
                        id0_pairs=int(zero.sum()), id0_predictions=int(zero.any(axis=1).sum()),
                        bbox_area_moves=moves)
        outputs.append((run, gt_matched))
    return outputs
