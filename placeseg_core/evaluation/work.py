"""The Python-level part of the fast engine, in chunks of images: detection areas, IoU per
(image, category) group with ``pycocotools.mask.iou`` on RLEs (never decoded to pixels), and the
greedy matching. Chunks run in this process and, where it pays, in one forked helper process.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from .. import rle as rle_utils
from .control import Control
from .matching import Groups, MatchOutput, match_groups

#: Below this many scored predictions a helper process costs more than it saves.
PARALLEL_MIN_PREDICTIONS = 20_000


@dataclass
class WorkSet:
    """What the chunk workers read (inherited by forked helpers, never pickled)."""

    sub_rles: list[Any]
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
    area_index: np.ndarray  # int64: submission indices whose mask area is needed
    chunk_bounds: np.ndarray  # int64: image-index boundaries of the chunks
    dt_img: np.ndarray  # int64 (u,): image index of dt_index
    gt_img: np.ndarray  # int64 (rows,): image index of gt_order
    area_img: np.ndarray  # int64: image index of area_index


@dataclass
class ChunkResult:
    matches: list[MatchOutput]  # one per selection
    area_index: np.ndarray
    areas: np.ndarray


_WORK: WorkSet | None = None  # set in the parent before forking


def _slice(img: np.ndarray, lo: int, hi: int) -> slice:
    return slice(int(np.searchsorted(img, lo, "left")), int(np.searchsorted(img, hi, "left")))


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` for every i."""
    lengths = hi - lo
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + starts


def run_chunk(chunk: int, work: WorkSet | None = None) -> ChunkResult:
    w = work if work is not None else _WORK
    assert w is not None
    lo, hi = int(w.chunk_bounds[chunk]), int(w.chunk_bounds[chunk + 1])
    a_sl = _slice(w.area_img, lo, hi)
    a_idx = w.area_index[a_sl]
    areas = rle_utils.area([w.sub_rles[i] for i in a_idx.tolist()])
    d_sl, g_sl = _slice(w.dt_img, lo, hi), _slice(w.gt_img, lo, hi)
    dt_index, dt_group = w.dt_index[d_sl], w.dt_group[d_sl]
    gt_rows, gt_group = w.gt_order[g_sl], w.gt_group[g_sl]
    # groups with both predictions and ground truth
    keys = np.intersect1d(dt_group, gt_group)
    d_lo, d_hi = np.searchsorted(dt_group, keys, "left"), np.searchsorted(dt_group, keys, "right")
    g_lo, g_hi = np.searchsorted(gt_group, keys, "left"), np.searchsorted(gt_group, keys, "right")
    sub_rles, gt_rles, crowd = w.sub_rles, w.gt_rles, w.gt_crowd
    flat: list[np.ndarray] = []
    for a, b, c, d in zip(d_lo.tolist(), d_hi.tolist(), g_lo.tolist(), g_hi.tolist(), strict=True):
        gts = gt_rows[c:d].tolist()
        # pycocotools' computeIoU: maskUtils.iou(dt RLEs in score order, gt RLEs, iscrowd)
        ious = mask_utils.iou([sub_rles[i] for i in dt_index[a:b].tolist()],
                              [gt_rles[i] for i in gts], [int(crowd[i]) for i in gts])
        flat.append(np.asarray(ious, dtype=np.float64).reshape(-1))
    sel_d, sel_g = _ranges(d_lo, d_hi), _ranges(g_lo, g_hi)
    groups = Groups(
        (d_hi - d_lo).astype(np.int64), (g_hi - g_lo).astype(np.int64),
        dt_index[sel_d], gt_rows[sel_g],
        np.concatenate(flat) if flat else np.zeros(0),
    )
    outputs = []
    for sel in w.selections:
        chosen = groups if len(w.selections) == 1 else groups.subset_dt(sel[groups.dt_index])
        outputs.append(match_groups(chosen, w.gt_ignore, w.gt_crowd, w.iou_thrs))
    return ChunkResult(outputs, a_idx, areas)


def _run_in_helper(chunk: int) -> ChunkResult:
    return run_chunk(chunk)


def choose_workers(requested: int | None, num_scored: int) -> int:
    """1 or 2 processes. Automatic choice forks only from a single-threaded main thread (a GUI
    calls from a worker thread and gets 1: forking a multi-threaded process is unsafe)."""
    if requested is not None:
        return max(1, int(requested))
    if (os.cpu_count() or 1) < 2 or num_scored < PARALLEL_MIN_PREDICTIONS:
        return 1
    if threading.current_thread() is not threading.main_thread() or threading.active_count() > 1:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return 2


def run_all_chunks(work: WorkSet, workers: int, control: Control) -> list[ChunkResult]:
    """Every chunk, in order; with ``workers`` > 1, helpers take chunks from the far end."""
    n = len(work.chunk_bounds) - 1
    results: list[ChunkResult | None] = [None] * n
    if workers <= 1 or n < 2:
        for c in range(n):
            results[c] = run_chunk(c, work)
            control.advance()
        return results  # type: ignore[return-value]
    global _WORK
    _WORK = work
    pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("fork"))
    try:
        futures: dict[int, Future[ChunkResult]] = {}
        for c in range(n - 1, n // 2 - 1, -1):  # helpers start from the last chunk
            futures[c] = pool.submit(_run_in_helper, c)
        for c in range(n):
            fut = futures.get(c)
            if fut is None or fut.cancel():
                results[c] = run_chunk(c, work)
            else:
                results[c] = fut.result()
            control.advance()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        _WORK = None
    pool.shutdown(wait=True)
    return results  # type: ignore[return-value]
