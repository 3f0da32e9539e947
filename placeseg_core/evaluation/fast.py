"""The fast engine: pycocotools' segm evaluation re-done on columns, bit for bit.

Steps: plan which predictions are scored (prepare.py), IoU + greedy matching per chunk of
images (work.py, matching.py), pycocotools' accumulate (accumulate.py). The quirk variants
(a match with GT id 0 counted; mask areas instead of box areas) only change which matches count
and which detections are ignored, never the matching itself, so they reuse the matches and
cost one more accumulate each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..submission import Submission
from .accumulate import Accumulated, accumulate, lane_flags, ranked_order_in_group_order
from .control import Control
from .groundtruth import GroundTruth
from .matching import MatchOutput
from .params import EvalParams
from .prepare import Plan, group_ranks, make_plan
from .work import WorkSet, choose_workers, run_all_chunks


@dataclass
class RunOutput:
    """One selection's evaluation: the plan, the matches and the accumulated arrays."""

    plan: Plan
    match: MatchOutput  # rows at area lane 0 give the per-image records
    official: Accumulated
    id0_counted: Accumulated | None  # only when some match hit GT id 0
    mask_areas: Accumulated | None  # only when areas came from boxes
    id0_pairs: int
    id0_predictions: int
    bbox_area_moves: int


def gt_ignore_by_area(gt: GroundTruth, params: EvalParams) -> np.ndarray:
    """pycocotools' ``_ignore`` per area range: crowd, or area outside [lo, hi] (inclusive)."""
    areas = gt.ann_areas
    return np.stack([gt.ann_ignore | (areas < lo) | (areas > hi) for lo, hi in params.area_rngs])


def outside_ranges(areas: np.ndarray, params: EvalParams) -> np.ndarray:
    return np.stack([(areas < lo) | (areas > hi) for lo, hi in params.area_rngs], axis=1)


def _chunk_bounds(num_images: int, cost: np.ndarray, chunks: int) -> np.ndarray:
    cum = np.cumsum(cost)
    total = cum[-1] if len(cum) else 0
    if total == 0 or chunks <= 1:
        return np.array([0, num_images], dtype=np.int64)
    cuts = np.searchsorted(cum, total * np.arange(1, chunks) / chunks, side="left") + 1
    return np.unique(np.concatenate(([0], cuts, [num_images]))).astype(np.int64)


def run_fast(
    gt: GroundTruth,
    sub: Submission,
    params: EvalParams,
    selections: list[np.ndarray],
    img_idx: np.ndarray,
    control: Control,
    workers: int | None = None,
    timings: dict[str, float] | None = None,
) -> list[RunOutput]:
    """Evaluate each selection (bool mask over the submission) the way pycocotools would."""
    timings = {} if timings is None else timings
    mark = time.perf_counter()
    K = len(gt.category_ids)
    num_images = len(gt.image_ids)
    plans = [make_plan(gt, sub, sel, params.max_det, img_idx) for sel in selections]
    in_union = np.zeros(len(sub), dtype=bool)
    for plan in plans:
        in_union[plan.scored] = True
    cat_idx = plans[0].cat_idx
    keys = img_idx * max(K, 1) + cat_idx
    # the union of the selections, in group order (one selection: its own order)
    union_order = plans[0].scored if len(plans) == 1 else group_ranks(keys, sub.scores, in_union)[0]

    gt_img = np.searchsorted(gt.image_ids, gt.ann_image_ids)
    gt_cat = np.searchsorted(gt.category_ids, gt.ann_category_ids)
    gt_key = gt_img * max(K, 1) + gt_cat
    gt_order = np.argsort(gt_key, kind="stable")
    gt_ignore = gt_ignore_by_area(gt, params)

    cost = np.bincount(img_idx[union_order], minlength=num_images).astype(np.float64)
    cost += 4.0 * np.bincount(gt_img, minlength=num_images)
    n_workers = choose_workers(workers, len(union_order))
    chunks = max(4 * n_workers, min(96, len(union_order) // 5000 + 1)) if len(union_order) else 1
    bounds = _chunk_bounds(num_images, cost, chunks)
    work = WorkSet(
        sub_rles=sub.rles, gt_rles=gt.ann_rles, gt_crowd=gt.ann_iscrowd, gt_ignore=gt_ignore,
        iou_thrs=params.iou_thrs,
        dt_index=union_order, dt_group=keys[union_order], gt_order=gt_order,
        gt_group=gt_key[gt_order],
        selections=[_scored_mask(p, len(sub)) for p in plans] if len(plans) > 1 else [in_union],
        area_index=union_order, chunk_bounds=bounds, dt_img=img_idx[union_order],
        gt_img=gt_img[gt_order], area_img=img_idx[union_order],
    )
    control.add_total(len(bounds) - 1)
    timings["plan"] = time.perf_counter() - mark
    mark = time.perf_counter()
    results = run_all_chunks(work, n_workers, control)
    timings["iou_and_matching"] = time.perf_counter() - mark
    timings["workers"] = n_workers
    mark = time.perf_counter()
    mask_area = np.full(len(sub), np.nan)
    for r in results:
        mask_area[r.area_index] = r.areas
    box_area = None if sub.bboxes is None else sub.bboxes[:, 2] * sub.bboxes[:, 3]  # loadRes: bb[2]*bb[3]

    npig = np.zeros((K, len(params.area_rngs)), dtype=np.int64)
    for a in range(len(params.area_rngs)):
        npig[:, a] = np.bincount(gt_cat[~gt_ignore[a]], minlength=K)[:K] if K else 0

    outputs = []
    for s, plan in enumerate(plans):
        match = MatchOutput.concat([r.matches[s] for r in results], len(params.area_rngs), params.num_thresholds)
        outputs.append(_score_plan(gt, sub, params, plan, match, mask_area, box_area, gt_ignore, npig, control))
    timings["accumulate"] = time.perf_counter() - mark
    return outputs


def _scored_mask(plan: Plan, n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[plan.scored] = True
    return m


def _score_plan(gt: GroundTruth, sub: Submission, params: EvalParams, plan: Plan, match: MatchOutput,
                mask_area: np.ndarray, box_area: np.ndarray | None, gt_ignore: np.ndarray,
                npig: np.ndarray, control: Control) -> RunOutput:
    scored = plan.scored
    pos = np.full(len(sub), -1, dtype=np.int64)
    pos[scored] = np.arange(len(scored))
    cand_pos = pos[match.dt_index]
    K = len(gt.category_ids)
    official_area = mask_area[scored] if box_area is None else box_area[scored]
    outside = outside_ranges(official_area, params)
    columns = (plan.cat_idx[scored], plan.img_idx[scored], plan.rank[scored], sub.scores[scored])
    order = ranked_order_in_group_order(columns[0], columns[3])  # columns are in plan.scored order

    def run(flags_outside: np.ndarray, count_id_zero: bool, base: Accumulated | None = None,
            categories: np.ndarray | None = None) -> Accumulated:
        flags = lane_flags(match.gt_row, cand_pos, len(scored), flags_outside, gt_ignore, gt.ann_ids,
                           count_id_zero=count_id_zero)
        return accumulate(params, K, *columns, flags, npig, cancel_check=control.check,
                          base=base, categories=categories, order=order)

    control.add_total(1)
    official = run(outside, False)
    control.advance()
    matched = match.gt_row >= 0
    hits_zero = matched & (gt.ann_ids[np.maximum(match.gt_row, 0)] == 0)
    id0_counted = None
    if hits_zero.any():
        # only the categories of those detections change
        touched = plan.cat_idx[match.dt_index[hits_zero.any(axis=(1, 2))]]
        control.add_total(1)
        id0_counted = run(outside, True, official, touched)
        control.advance()
    mask_variant = None
    moves = 0
    if box_area is not None:
        mask_outside = outside_ranges(mask_area[scored], params)
        moved = np.any(mask_outside != outside, axis=1)
        moves = int(moved.sum())
        control.add_total(1)
        mask_variant = run(mask_outside, False, official, columns[0][moved])
        control.advance()
    zero_all = hits_zero[:, 0, :]
    return RunOutput(plan, match, official, id0_counted, mask_variant,
                     id0_pairs=int(zero_all.sum()), id0_predictions=int(zero_all.any(axis=1).sum()),
                     bbox_area_moves=moves)
