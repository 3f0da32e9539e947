"""The Python-level part of the fast engine, in chunks of images: detection areas, IoU per
(image, category) group with ``pycocotools.mask.iou`` on RLEs (never decoded to pixels), and the
greedy matching. (processes.py runs parts of this work in forked helpers.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from .. import rle as rle_utils
from .matching import Groups, MatchOutput, match_groups, offsets


@dataclass
class WorkSet:
    """What the chunk workers read (inherited by forked helpers, never pickled)."""

    sub_rles: list[Any]
    sub_areas: np.ndarray | None  # Submission.mask_areas: pycocotools' mask.area of each, when known
    gt_rles: list[Any]
    gt_crowd: np.ndarray  # bool (rows,)
    gt_ignore: np.ndarray  # bool (A, rows)
    iou_thrs: np.ndarray
    # union of the predictions scored by any selection, in group order
    dt_index: np.ndarray  # int64 (u,)
    dt_group: np.ndarray  # int64 (u,): group key (image index * K + category index)
    gt_order: np.ndarray  # int64 (rows,): GT rows sorted by group key (stable)
    gt_group: np.ndarray  # int64 (rows,): group key of gt_order
    selections: list[np.ndarray]  # bool (N,) per selection: scored in it
    chunk_bounds: np.ndarray  # int64: image-index boundaries of the chunks
    dt_img: np.ndarray  # int64 (u,): image index of dt_index
    gt_img: np.ndarray  # int64 (rows,): image index of gt_order


@dataclass
class ChunkResult:
    matches: list[MatchOutput]  # one per selection
    dt_index: np.ndarray  # the chunk's detections (submission indices) ...
    areas: np.ndarray  # ... and their mask areas


def _slice(img: np.ndarray, lo: int, hi: int) -> slice:
    return slice(int(np.searchsorted(img, lo, "left")), int(np.searchsorted(img, hi, "left")))


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` for every i."""
    lengths = hi - lo
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + starts


def iou_batches(image: list[int], num_dt: list[int], num_gt: list[int], limit: float) -> list[int]:
    """Cut points grouping consecutive groups of one image into one ``iou`` call.

    A call costs ~17 us of Python-level checks in pycocotools (a few ``np.all`` on lists)
    before any IoU; our groups average a handful of pairs, so calls dominate. One call for
    several groups also computes the pairs across them (thrown away): a group joins the batch
    while those extra pairs stay under ``limit`` (the cost of a call, in pairs).
    """
    cuts = [0]
    start, d_sum, g_sum = 0, 0, 0
    for j, (img, nd, ng) in enumerate(zip(image, num_dt, num_gt, strict=True)):
        if j > start and (img != image[start] or d_sum * ng + nd * g_sum >= limit):
            cuts.append(j)
            start, d_sum, g_sum = j, 0, 0
        d_sum += nd
        g_sum += ng
    cuts.append(len(image))
    return cuts


#: Extra IoU pairs worth one saved ``iou`` call (measured: ~17 us per call, ~0.3 us per pair).
BATCH_EXTRA_PAIRS = 40


def group_ious(w: WorkSet, groups: Groups, group_image: np.ndarray) -> np.ndarray:
    """Each group's IoU matrix (detections x ground truths, row-major), concatenated.

    Exactly pycocotools' computeIoU per group: ``maskUtils.iou(dt RLEs in score order, gt RLEs,
    iscrowd)``; rleIou computes every pair on its own, so a pair's value does not depend on
    the other masks in the call, and several groups of one image share a call (see
    :func:`iou_batches`).
    """
    n = len(groups.num_dt)
    if n == 0:
        return np.zeros(0)
    nd, ng = groups.num_dt, groups.num_gt
    cuts = iou_batches(group_image.tolist(), nd.tolist(), ng.tolist(), BATCH_EXTRA_PAIRS)
    d_start, g_start = offsets(nd), offsets(ng)
    dt_rles = [w.sub_rles[i] for i in groups.dt_index.tolist()]
    gt_list = groups.gt_rows.tolist()
    gt_rles = [w.gt_rles[i] for i in gt_list]
    crowd = w.gt_crowd[groups.gt_rows].astype(np.uint8).tolist()
    flat: list[np.ndarray] = []
    batch_of_group = np.zeros(n, dtype=np.int64)
    for b, (j0, j1) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        d0, d1, g0, g1 = int(d_start[j0]), int(d_start[j1]), int(g_start[j0]), int(g_start[j1])
        ious = mask_utils.iou(dt_rles[d0:d1], gt_rles[g0:g1], crowd[g0:g1])
        flat.append(np.asarray(ious, dtype=np.float64).reshape(-1))  # (m, n) row-major
        batch_of_group[j0:j1] = b
    # gather each group's block: row r, column c of group j sits at
    # batch_offset + (row offset in batch + r) * batch width + column offset in batch + c
    cut_arr = np.asarray(cuts, dtype=np.int64)
    batch_width = (g_start[cut_arr[1:]] - g_start[cut_arr[:-1]])[batch_of_group]
    batch_offset = offsets(np.array([len(f) for f in flat], dtype=np.int64))[batch_of_group]
    row0 = d_start[:-1] - d_start[cut_arr[:-1]][batch_of_group]
    col0 = g_start[:-1] - g_start[cut_arr[:-1]][batch_of_group]
    size = nd * ng
    group_of_elem = np.repeat(np.arange(n), size)
    local = np.arange(int(size.sum()), dtype=np.int64) - offsets(size)[group_of_elem]
    width = ng[group_of_elem]
    idx = (batch_offset[group_of_elem] + (row0[group_of_elem] + local // width) * batch_width[group_of_elem]
           + col0[group_of_elem] + local % width)
    return np.concatenate(flat)[idx]


def run_chunk(chunk: int, w: WorkSet) -> ChunkResult:
    lo, hi = int(w.chunk_bounds[chunk]), int(w.chunk_bounds[chunk + 1])
    d_sl, g_sl = _slice(w.dt_img, lo, hi), _slice(w.gt_img, lo, hi)
    dt_index, dt_group = w.dt_index[d_sl], w.dt_group[d_sl]
    # the loader's areas (its checks decoded every mask): the same numbers as mask.area, without
    # decoding every string a second time (about 15% of this step)
    areas = (w.sub_areas[dt_index] if w.sub_areas is not None
             else rle_utils.area([w.sub_rles[i] for i in dt_index.tolist()]))
    gt_rows, gt_group = w.gt_order[g_sl], w.gt_group[g_sl]
    # groups with both predictions and ground truth
    keys = np.intersect1d(dt_group, gt_group)
    d_lo, d_hi = np.searchsorted(dt_group, keys, "left"), np.searchsorted(dt_group, keys, "right")
    g_lo, g_hi = np.searchsorted(gt_group, keys, "left"), np.searchsorted(gt_group, keys, "right")
    sel_d, sel_g = _ranges(d_lo, d_hi), _ranges(g_lo, g_hi)
    num_dt, num_gt = (d_hi - d_lo).astype(np.int64), (g_hi - g_lo).astype(np.int64)
    groups = Groups(num_dt, num_gt, dt_index[sel_d], gt_rows[sel_g], np.zeros(0))
    groups.ious = group_ious(w, groups, w.dt_img[d_sl][d_lo])
    outputs = []
    for sel in w.selections:
        chosen = groups if len(w.selections) == 1 else groups.subset_dt(sel[groups.dt_index])
        outputs.append(match_groups(chosen, w.gt_ignore, w.gt_crowd, w.iou_thrs))
    return ChunkResult(outputs, dt_index, areas)
