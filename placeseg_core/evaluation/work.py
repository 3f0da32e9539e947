"""The Python-level part of the fast engine, in chunks of images: detection areas, IoU per
(image, category) group with ``pycocotools.mask.iou`` on RLEs (never decoded to pixels), and the
greedy matching; and :func:`run_parts`, which runs parts of the work in forked helpers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

import numpy as np
from pycocotools import mask as mask_utils

from .. import rle as rle_utils
from .control import Control
from .matching import Groups, MatchOutput, match_groups, offsets

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


T = TypeVar("T")


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
    sel_d, sel_g = _ranges(d_lo, d_hi), _ranges(g_lo, g_hi)
    num_dt, num_gt = (d_hi - d_lo).astype(np.int64), (g_hi - g_lo).astype(np.int64)
    groups = Groups(num_dt, num_gt, dt_index[sel_d], gt_rows[sel_g], np.zeros(0))
    groups.ious = group_ious(w, groups, w.dt_img[d_sl][d_lo])
    outputs = []
    for sel in w.selections:
        chosen = groups if len(w.selections) == 1 else groups.subset_dt(sel[groups.dt_index])
        outputs.append(match_groups(chosen, w.gt_ignore, w.gt_crowd, w.iou_thrs))
    return ChunkResult(outputs, a_idx, areas)


def choose_workers(requested: int | None, num_scored: int) -> int:
    """How many processes. Automatic choice: 2 only from a single-threaded main thread (a GUI
    calls from a worker thread and gets 1: forking a multi-threaded process is unsafe). An
    explicit number is the caller's word that forking is safe; without ``fork`` it is 1."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if requested is not None:
        return max(1, int(requested))
    if (os.cpu_count() or 1) < 2 or num_scored < PARALLEL_MIN_PREDICTIONS:
        return 1
    if threading.current_thread() is not threading.main_thread() or threading.active_count() > 1:
        return 1
    return 2


#: A helper still silent this long after this process finished its own part (and at least
#: this many times as long as that part took) is taken for stuck -- a forked child can
#: deadlock on a lock another thread held at the fork -- and its part runs here instead.
HELPER_PATIENCE_S = 60.0
HELPER_PATIENCE_FACTOR = 20.0


def run_parts(task: Callable[[int, Callable[[], None]], T], parts: int, control: Control,
              patience_s: float = HELPER_PATIENCE_S) -> list[T]:
    """``task(p, tick)`` for every part ``p``: part 0 here, the others in forked helpers.

    ``tick()`` marks one step of progress. A helper sends its ticks and then its result
    through a pipe; this process passes the ticks on to ``control`` while it works and while it
    waits, so progress and cancel keep working. A helper that fails in any way (an exception,
    killed for memory, silent for too long: ``patience_s``) has its part run again here: the
    part is deterministic, so the result is the same -- or the same exception is raised, with
    a traceback from this process.
    """
    if parts <= 1:
        return [task(0, control.advance)]
    ctx = multiprocessing.get_context("fork")
    helpers: list[_Helper] = []
    results: list[T | None] = [None] * parts

    def drain_all() -> None:
        for helper in helpers:
            helper.drain()

    try:
        for p in range(1, parts):
            helpers.append(_start_helper(ctx, task, p, control))

        def tick() -> None:
            drain_all()
            control.advance()

        started = time.monotonic()
        results[0] = task(0, tick)
        own = time.monotonic() - started
        for p, helper in enumerate(helpers, start=1):
            last_word = time.monotonic()
            while not helper.finished:
                ticks = helper.ticks
                helper.wait_briefly()
                drain_all()  # the others' ticks too, so progress does not come in bursts
                control.check()
                if helper.ticks != ticks:
                    last_word = time.monotonic()
                elif time.monotonic() - last_word > max(patience_s, HELPER_PATIENCE_FACTOR * own):
                    helper.stop()  # stuck: killed, and its part runs here
                    helper.finished = True
            if helper.result[0]:
                results[p] = helper.result[1]
            else:  # run it here; its ticks already counted are not counted twice
                control.check()
                results[p] = task(p, _skip_first(helper.ticks, control.advance))
    finally:
        for helper in helpers:
            helper.stop()
        multiprocessing.active_children()  # reaps the helpers that have exited (never blocks)
    return results  # type: ignore[return-value]


def _skip_first(n: int, advance: Callable[[], None]) -> Callable[[], None]:
    skipped = 0

    def tick() -> None:
        nonlocal skipped
        if skipped < n:
            skipped += 1
        else:
            advance()

    return tick


def _start_helper(ctx: Any, task: Callable[[int, Callable[[], None]], Any], part: int,
                  control: Control) -> _Helper:
    """Fork a helper for ``part``; on failure (no memory, processes or file descriptors left)
    a helper that has already failed, so that the part runs in this process."""
    try:
        receiver, sender = ctx.Pipe(duplex=False)
    except OSError:
        return _Helper(None, None, control)
    try:
        process = ctx.Process(target=_helper_main, args=(task, part, sender), daemon=True)
        process.start()
    except OSError:
        receiver.close()
        return _Helper(None, None, control)
    finally:
        sender.close()
    return _Helper(process, receiver, control)


def _helper_main(task: Callable[[int, Callable[[], None]], Any], part: int, conn: Connection) -> None:
    """In a forked helper: run the part, sending a tick per step, then the result."""
    try:
        result = task(part, lambda: conn.send(_TICK))
        conn.send((_DONE, result))
    except BaseException:  # noqa: BLE001 -- the parent runs the part itself and sees the error
        try:
            conn.send((_FAILED, None))
        except OSError:
            pass
    conn.close()


_TICK, _DONE, _FAILED = "tick", "done", "failed"


class _Helper:
    """The parent's side of one helper: its ticks, its result, stopping it."""

    def __init__(self, process: BaseProcess | None, conn: Connection | None, control: Control) -> None:
        self.process, self.conn, self.control = process, conn, control
        self.finished = process is None or conn is None
        self.result: tuple[bool, Any] = (False, None)
        self.ticks = 0

    def _take(self) -> None:
        assert self.conn is not None
        try:
            message = self.conn.recv()
        except (EOFError, OSError):  # died without a word
            self.finished = True
            return
        if message == _TICK:
            self.ticks += 1
            self.control.advance()
        else:
            self.finished = True
            self.result = (message[0] == _DONE, message[1])

    def drain(self) -> None:
        """Take whatever the helper has sent so far, without waiting."""
        while not self.finished and self.conn is not None and self.conn.poll():
            self._take()

    def wait_briefly(self) -> None:
        """Take the next message if one comes within 50 ms."""
        if not self.finished and self.conn is not None and self.conn.poll(0.05):
            self._take()

    def stop(self) -> None:
        if self.process is not None and not self.result[0]:
            self.process.kill()
            self.process.join()
        # a helper that delivered exits by itself and is reaped by active_children() (joining
        # here would wait for the kernel to free its memory)
        if self.conn is not None:
            self.conn.close()
