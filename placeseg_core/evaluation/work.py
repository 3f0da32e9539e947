"""The Python-level part of the fast engine, in chunks of images: detection areas, IoU per
(image, category) group with ``pycocotools.mask.iou`` on RLEs (never decoded to pixels), and the
greedy matching; and :func:`run_parts`, which runs parts of the work in forked helpers.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

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


T = TypeVar("T")


def _slice(img: np.ndarray, lo: int, hi: int) -> slice:
    return slice(int(np.searchsorted(img, lo, "left")), int(np.searchsorted(img, hi, "left")))


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(lo[i], hi[i])`` for every i."""
    lengths = hi - lo
    starts = np.repeat(lo - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + starts


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


def run_parts(task: Callable[[int, Callable[[], None]], T], parts: int, control: Control) -> list[T]:
    """``task(p, tick)`` for every part ``p``: part 0 here, the others in forked helpers.

    ``tick()`` marks one step of progress. A helper sends its ticks and then its result
    through a pipe; this process passes the ticks on to ``control`` while it works and while it
    waits, so progress and cancel keep working. A helper that fails in any way (an exception,
    killed for memory) has its part run again here: the part is deterministic, so the result is
    the same -- or the same exception is raised, with a traceback from this process.
    """
    if parts <= 1:
        return [task(0, control.advance)]
    ctx = multiprocessing.get_context("fork")
    helpers: list[_Helper] = []
    results: list[T | None] = [None] * parts
    try:
        for p in range(1, parts):
            receiver, sender = ctx.Pipe(duplex=False)
            try:
                process = ctx.Process(target=_helper_main, args=(task, p, sender), daemon=True)
                process.start()
            except OSError:  # no memory or processes left: the part runs here later
                receiver.close()
                helpers.append(_Helper(None, None, control))
                continue
            finally:
                sender.close()
            helpers.append(_Helper(process, receiver, control))

        def tick() -> None:
            for helper in helpers:
                helper.drain()
            control.advance()

        results[0] = task(0, tick)
        for p, helper in enumerate(helpers, start=1):
            done, value = helper.wait()
            results[p] = value if done else task(p, control.advance)
    finally:
        for helper in helpers:
            helper.stop()
    return results  # type: ignore[return-value]


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
        self.finished = process is None
        self.result: tuple[bool, Any] = (False, None)

    def _take(self) -> None:
        assert self.conn is not None
        try:
            message = self.conn.recv()
        except (EOFError, OSError):  # died without a word
            self.finished = True
            return
        if message == _TICK:
            self.control.advance()
        else:
            self.finished = True
            self.result = (message[0] == _DONE, message[1])

    def drain(self) -> None:
        """Take whatever the helper has sent so far, without waiting."""
        while not self.finished and self.conn is not None and self.conn.poll():
            self._take()

    def wait(self) -> tuple[bool, Any]:
        """Until the result (True, value) or a failure (False, None); polls cancel meanwhile."""
        while not self.finished and self.conn is not None:
            if self.conn.poll(0.05):
                self._take()
            else:
                self.control.check()
        return self.result

    def stop(self) -> None:
        if self.process is not None and not self.result[0]:
            self.process.kill()
            self.process.join()
        # a helper that delivered exits by itself; multiprocessing reaps it later (joining here
        # would wait for the kernel to free its memory)
        if self.conn is not None:
            self.conn.close()
