"""One part of the fast engine's work: a set of categories, matched and accumulated.

pycocotools matches each (image, category) group on its own and accumulates each category on
its own, so a set of categories can be evaluated start to finish without the others. The
categories are split into parts of about equal estimated cost; each part runs in its own
process (processes.run_parts) and returns the matches of its detections and the arrays of its
categories only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..submissions import Submission
from .accumulate import Accumulated, accumulate, lane_flags, ranked_order_in_group_order
from .groundtruth import GroundTruth
from .matching import MatchOutput
from .params import EvalParams
from .prepare import Plan
from .work import WorkSet, run_chunk

#: Relative cost of one category's work: each prediction (area, matching, accumulate), each
#: ground truth, each (image, category) group (a share of a pycocotools ``iou`` call, ~17 us of
#: Python-level checks) and each IoU pair. Estimates, not a fit; on the 200k benchmark the two
#: parts' matching times come out within 2% of each other.
COST_PER_DETECTION = 1.0
COST_PER_GT = 1.0
COST_PER_GROUP = 25.0
COST_PER_PAIR = 0.3
#: Chunks per part (each a step of progress and a cancel check): one per this many detections,
#: at least 4 and at most MAX_CHUNKS.
MAX_CHUNKS = 24
DETECTIONS_PER_CHUNK = 4000


@dataclass
class PartInputs:
    """Everything a part reads (inherited by forked helpers, never pickled)."""

    gt: GroundTruth
    sub: Submission
    params: EvalParams
    plans: list[Plan]
    cat_parts: list[np.ndarray]  # bool (K,) per part
    chunk_bounds: list[np.ndarray]  # per part: image-index boundaries of its chunks
    union_order: np.ndarray  # int64: predictions scored by any selection, in group order
    keys: np.ndarray  # int64 (N,): group key of each prediction (image index * K + category index)
    img_idx: np.ndarray  # int64 (N,)
    gt_order: np.ndarray  # int64 (rows,): GT rows sorted by group key (stable)
    gt_key: np.ndarray  # int64 (rows,): group key per GT row (file order)
    gt_img: np.ndarray  # int64 (rows,)
    gt_cat: np.ndarray  # int64 (rows,)
    gt_ignore: np.ndarray  # bool (A, rows)
    npig: np.ndarray  # int64 (K, A): non-ignored GTs per category and area range
    selection_masks: list[np.ndarray]  # bool (N,) per selection: scored in it


@dataclass
class PartScores:
    """One selection's results for one part; arrays hold only the part's categories on K."""

    match: MatchOutput
    official: Accumulated
    id0_counted: Accumulated | None
    mask_areas: Accumulated | None
    id0_pairs: int
    id0_predictions: int
    bbox_area_moves: int


@dataclass
class PartOutput:
    runs: list[PartScores]  # one per selection
    timings: dict[str, float] = field(default_factory=dict)


def outside_ranges(areas: np.ndarray, params: EvalParams) -> np.ndarray:
    return np.stack([(areas < lo) | (areas > hi) for lo, hi in params.area_rngs], axis=1)


def category_costs(K: int, num_images: int, dt_cat: np.ndarray, dt_key: np.ndarray,
                   gt_cat: np.ndarray, gt_key: np.ndarray) -> np.ndarray:
    """Estimated work per category (see the COST_ constants)."""
    if K == 0:
        return np.zeros(0)
    n_keys = max(num_images, 1) * K
    nd = np.bincount(dt_key, minlength=n_keys).astype(np.float64)
    ng = np.bincount(gt_key, minlength=n_keys).astype(np.float64)
    both = (nd > 0) & (ng > 0)
    key_cat = np.arange(n_keys) % K
    cost = COST_PER_DETECTION * np.bincount(dt_cat, minlength=K)[:K]
    cost = cost + COST_PER_GT * np.bincount(gt_cat, minlength=K)[:K]
    cost = cost + COST_PER_GROUP * np.bincount(key_cat[both], minlength=K)
    return cost + COST_PER_PAIR * np.bincount(key_cat, weights=nd * ng, minlength=K)


def split_categories(cost: np.ndarray, parts: int) -> list[np.ndarray]:
    """Category masks of about equal total cost (largest first, each to the lightest part)."""
    K = len(cost)
    if parts <= 1 or K < 2:
        return [np.ones(K, dtype=bool)]
    masks = [np.zeros(K, dtype=bool) for _ in range(parts)]
    load = np.zeros(parts)
    for k in np.argsort(-cost, kind="stable").tolist():
        p = int(np.argmin(load))
        masks[p][k] = True
        load[p] += cost[k]
    return [m for m in masks if m.any()]


def chunk_bounds(num_images: int, dt_img: np.ndarray, gt_img: np.ndarray) -> np.ndarray:
    """Image-index boundaries cutting a part's work into chunks of about equal cost."""
    chunks = max(4, min(MAX_CHUNKS, len(dt_img) // DETECTIONS_PER_CHUNK + 1)) if len(dt_img) else 1
    cost = np.bincount(dt_img, minlength=num_images).astype(np.float64)
    cost += 4.0 * np.bincount(gt_img, minlength=num_images)
    cum = np.cumsum(cost)
    total = cum[-1] if len(cum) else 0
    if total == 0 or chunks <= 1:
        return np.array([0, num_images], dtype=np.int64)
    cuts = np.searchsorted(cum, total * np.arange(1, chunks) / chunks, side="left") + 1
    return np.unique(np.concatenate(([0], cuts, [num_images]))).astype(np.int64)


def run_part(inp: PartInputs, p: int, tick: Callable[[], None],
             cancel_check: Callable[[], None] | None = None) -> PartOutput:
    """Match and accumulate the categories of part ``p`` for every selection."""
    mark = time.perf_counter()
    cats = inp.cat_parts[p]
    gt, sub, params = inp.gt, inp.sub, inp.params
    plan0 = inp.plans[0]
    dt_index = inp.union_order[cats[plan0.cat_idx[inp.union_order]]]
    gt_rows = inp.gt_order[cats[inp.gt_cat[inp.gt_order]]]
    work = WorkSet(
        sub_rles=sub.rles, sub_areas=sub.mask_areas, gt_rles=gt.ann_rles, gt_crowd=gt.ann_iscrowd, gt_ignore=inp.gt_ignore,
        iou_thrs=params.iou_thrs, dt_index=dt_index, dt_group=inp.keys[dt_index], gt_order=gt_rows,
        gt_group=inp.gt_key[gt_rows], selections=inp.selection_masks, chunk_bounds=inp.chunk_bounds[p],
        dt_img=inp.img_idx[dt_index], gt_img=inp.gt_img[gt_rows],
    )
    results = []
    for c in range(len(work.chunk_bounds) - 1):
        results.append(run_chunk(c, work))
        tick()
    timings = {"iou_and_matching": time.perf_counter() - mark}
    mark = time.perf_counter()
    mask_area = np.full(len(sub), np.nan)
    for r in results:
        mask_area[r.dt_index] = r.areas
    A, T = len(params.area_rngs), params.num_thresholds
    runs = []
    for s, plan in enumerate(inp.plans):
        match = MatchOutput.concat([r.matches[s] for r in results], A, T)
        runs.append(_score_part(inp, plan, cats, match, mask_area, cancel_check))
        tick()
    timings["accumulate"] = time.perf_counter() - mark
    return PartOutput(runs, timings)


def _score_part(inp: PartInputs, plan: Plan, cats: np.ndarray, match: MatchOutput, mask_area: np.ndarray,
                cancel_check: Callable[[], None] | None) -> PartScores:
    gt, sub, params = inp.gt, inp.sub, inp.params
    K = len(gt.category_ids)
    part_cats = np.flatnonzero(cats)
    slots = np.full(K, -1, dtype=np.int64)  # the arrays hold only this part's categories, in order
    slots[part_cats] = np.arange(len(part_cats))
    scored = plan.scored[cats[plan.cat_idx[plan.scored]]]  # still in group order
    pos = np.full(len(sub), -1, dtype=np.int64)
    pos[scored] = np.arange(len(scored))
    cand_pos = pos[match.dt_index]
    box_area = None if sub.bboxes is None else sub.bboxes[scored, 2] * sub.bboxes[scored, 3]  # loadRes: bb[2]*bb[3]
    official_area = mask_area[scored] if box_area is None else box_area
    outside = outside_ranges(official_area, params)
    columns = (plan.cat_idx[scored], plan.img_idx[scored], plan.rank[scored], sub.scores[scored])
    order = ranked_order_in_group_order(columns[0], columns[3])  # columns are in group order

    def run(flags_outside: np.ndarray, count_id_zero: bool, base: Accumulated | None,
            categories: np.ndarray) -> Accumulated:
        flags = lane_flags(match.gt_row, cand_pos, len(scored), flags_outside, inp.gt_ignore, gt.ann_ids,
                           count_id_zero=count_id_zero)
        return accumulate(params, K, *columns, flags, inp.npig, cancel_check=cancel_check,
                          base=base, categories=categories, order=order, slots=slots)

    official = run(outside, False, None, part_cats)
    matched = match.gt_row >= 0
    hits_zero = matched & (gt.ann_ids[np.maximum(match.gt_row, 0)] == 0)
    id0_counted = None
    if hits_zero.any():
        # only the categories of those detections change
        touched = plan.cat_idx[match.dt_index[hits_zero.any(axis=(1, 2))]]
        id0_counted = run(outside, True, official, touched)
    mask_variant = None
    moves = 0
    if box_area is not None:
        mask_outside = outside_ranges(mask_area[scored], params)
        moved = np.any(mask_outside != outside, axis=1)
        moves = int(moved.sum())
        mask_variant = run(mask_outside, False, official, columns[0][moved])
    zero_all = hits_zero[:, 0, :]
    return PartScores(
        match, official, id0_counted, mask_variant,
        id0_pairs=int(zero_all.sum()), id0_predictions=int(zero_all.any(axis=1).sum()),
        bbox_area_moves=moves,
    )
