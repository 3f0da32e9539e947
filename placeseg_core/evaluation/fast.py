"""The fast engine: pycocotools' segm evaluation re-done on columns, bit for bit.

Steps: plan which predictions are scored (prepare.py), IoU + greedy matching per chunk of
images (work.py, matching.py), pycocotools' accumulate (accumulate.py). The quirk variants
(a match with GT id 0 counted; mask areas instead of box areas) only change which matches count
and which detections are ignored, never the matching itself, so they reuse the matches and
cost one more accumulate each.

Every step after the plan is independent per category, so the categories are split into parts
of about equal cost (parts.py) and each part -- matching *and* accumulate -- runs in its own
process; only the per-category arrays and the matches travel back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..processes import PARALLEL_MIN_PREDICTIONS, choose_workers, run_parts
from ..submissions import Submission
from .accumulate import Accumulated
from .control import Control
from .groundtruth import GroundTruth
from .matching import MatchOutput
from .params import EvalParams
from .parts import (
    PartInputs,
    PartOutput,
    PartScores,
    category_costs,
    chunk_bounds,
    run_part,
    split_categories,
)
from .prepare import Plan, group_ranks, make_plan


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
    npig = np.zeros((K, len(params.area_rngs)), dtype=np.int64)
    for a in range(len(params.area_rngs)):
        npig[:, a] = np.bincount(gt_cat[~gt_ignore[a]], minlength=K)[:K] if K else 0

    n_workers = choose_workers(workers, len(union_order) >= PARALLEL_MIN_PREDICTIONS)
    dt_cat = cat_idx[union_order]
    cat_parts = split_categories(
        category_costs(K, num_images, dt_cat, keys[union_order], gt_cat, gt_key), n_workers)
    bounds = [chunk_bounds(num_images, img_idx[union_order][part[dt_cat]], gt_img[part[gt_cat]])
              for part in cat_parts]
    inputs = PartInputs(
        gt=gt, sub=sub, params=params, plans=plans, cat_parts=cat_parts, chunk_bounds=bounds,
        union_order=union_order, keys=keys, img_idx=img_idx, gt_order=gt_order, gt_key=gt_key,
        gt_img=gt_img, gt_cat=gt_cat, gt_ignore=gt_ignore, npig=npig,
        selection_masks=[_scored_mask(p, len(sub)) for p in plans] if len(plans) > 1 else [in_union],
    )
    # one step per chunk, one per selection scored in each part
    control.add_total(sum(len(b) - 1 for b in bounds) + len(cat_parts) * len(plans))
    timings["plan"] = time.perf_counter() - mark
    mark = time.perf_counter()
    parent = os.getpid()

    def task(p: int, tick: Callable[[], None]) -> PartOutput:
        # the caller's cancel is polled here only: a helper is killed on cancel, and the
        # caller's callable (a GUI's, say) has no business running in a forked child
        return run_part(inputs, p, tick, control.check if os.getpid() == parent else None)

    parts = run_parts(task, len(cat_parts), control)
    timings["parts"] = time.perf_counter() - mark
    timings["workers"] = len(cat_parts)
    for p, part in enumerate(parts):
        for key, value in part.timings.items():  # part 0 ran in this process
            timings[key if p == 0 else f"{key} (part {p})"] = value
    mark = time.perf_counter()
    outputs = [_merge(plan, K, [part.runs[s] for part in parts], cat_parts, params)
               for s, plan in enumerate(plans)]
    timings["merge"] = time.perf_counter() - mark
    return outputs


def _scored_mask(plan: Plan, n: int) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[plan.scored] = True
    return m


def _merge(plan: Plan, K: int, runs: list[PartScores], cat_parts: list[np.ndarray],
           params: EvalParams) -> RunOutput:
    """One selection's results from the parts: each part filled its own categories."""
    T, R, A, M = len(params.iou_thrs), len(params.rec_thrs), len(params.area_rngs), len(params.max_dets)
    official = Accumulated(np.full((T, R, K, A, M), -1.0), np.full((T, K, A, M), -1.0),
                           np.full((T, R, K, A, M), -1.0))
    for run, part in zip(runs, cat_parts, strict=True):
        _paste(official, run.official, part)

    def variant(name: str) -> Accumulated | None:
        if all(getattr(run, name) is None for run in runs):
            return None
        # a part without the variant has the official numbers for its categories
        out = Accumulated(official.precision.copy(), official.recall.copy(), official.scores.copy())
        for run, part in zip(runs, cat_parts, strict=True):
            if getattr(run, name) is not None:
                _paste(out, getattr(run, name), part)
        return out

    return RunOutput(
        plan=plan,
        match=MatchOutput.concat([run.match for run in runs], A, T),
        official=official, id0_counted=variant("id0_counted"), mask_areas=variant("mask_areas"),
        id0_pairs=sum(run.id0_pairs for run in runs),
        id0_predictions=sum(run.id0_predictions for run in runs),
        bbox_area_moves=sum(run.bbox_area_moves for run in runs),
    )


def _paste(into: Accumulated, part_arrays: Accumulated, part: np.ndarray) -> None:
    """Copy a part's category slices (the K axis holds only the part's categories)."""
    cats = np.flatnonzero(part)
    into.precision[:, :, cats] = part_arrays.precision
    into.recall[:, cats] = part_arrays.recall
    into.scores[:, :, cats] = part_arrays.scores

