"""``evaluate()``: one entry point for both engines, the README rule and the quirk report."""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from ..jsonio import paused_gc
from ..submissions import Submission
from .control import Control, ProgressCallback
from .fast import RunOutput, run_fast
from .groundtruth import GroundTruth
from .inputs import load_inputs
from .params import EvalParams, challenge_params
from .parts import outside_ranges
from .prepare import README_LIMIT, images_over_limit, readme_rule_mask
from .records import MatchRecords, PredStatus, gt_matches_from_dt
from .results import (
    VARIANT_ALL_PREDICTIONS,
    VARIANT_ID0_COUNTED,
    VARIANT_MASK_AREAS,
    VARIANT_README_RULE,
    EvaluationResult,
    Quirks,
    ReadmeRule,
    Scores,
)

ENGINES = ("fast", "reference")


def evaluate(
    gt: GroundTruth | dict[str, Any] | str | os.PathLike[str],
    submission: Submission | list[Any] | str | os.PathLike[str],
    engine: str = "fast",
    readme_rule: bool = False,
    progress: ProgressCallback | None = None,
    cancel: Any = None,
    params: EvalParams | None = None,
    workers: int | None = None,
) -> EvaluationResult:
    """Score a submission exactly as the challenge's pycocotools evaluation does.

    ``engine``: ``"fast"`` (default, vectorised) or ``"reference"`` (pycocotools, step by step).
    ``readme_rule``: score only each image's 255 best predictions; either way, when the file
    breaks the rule the other score is in ``result.variants``.
    ``progress(done, total)`` is called from the calling thread; ``cancel`` (a callable
    returning bool, or a ``threading.Event``) is polled at least every few tenths of a second
    and ends the run with :class:`~placeseg_core.evaluation.control.EvaluationCancelled`.
    ``workers``: processes for the fast engine (None: 2 when it pays and it is safe to fork).
    Raises :class:`~placeseg_core.errors.InputError` for unusable inputs.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    started = time.perf_counter()
    # The collector stays paused for the whole run: the inputs are millions of acyclic
    # containers, and a collection in the middle (triggered by the counts that the JSON parse
    # piles up) costs ~60 ms on the 200k benchmark and finds nothing. The caller's state is
    # restored at the end; at most one young-generation pass is left for later (a few ms).
    with paused_gc():
        result = _evaluate(gt, submission, engine, readme_rule, Control(progress, cancel),
                           params or challenge_params(), workers)
    result.elapsed = time.perf_counter() - started
    return result


def _evaluate(gt: GroundTruth | dict[str, Any] | str | os.PathLike[str],
              submission: Submission | list[Any] | str | os.PathLike[str], engine: str, readme_rule: bool,
              control: Control, params: EvalParams, workers: int | None) -> EvaluationResult:
    control.check()
    timings: dict[str, float] = {}
    # a large submission file: a forked helper parses its tail while we load the ground truth
    gt, sub, img_idx = load_inputs(gt, submission, workers if engine == "fast" else 1, timings)
    over = images_over_limit(sub, README_LIMIT)
    broken = bool(over)
    everything = np.ones(len(sub), dtype=bool)
    rule_mask = readme_rule_mask(sub, README_LIMIT) if broken else everything
    primary = rule_mask if readme_rule else everything
    selections = [primary]
    if broken:
        selections.append(everything if readme_rule else rule_mask)
    control.set_total(0)
    if engine == "fast":
        runs = run_fast(gt, sub, params, selections, img_idx, control, workers, timings)
        gt_matched: list[np.ndarray | None] = [None] * len(runs)
    else:
        from .reference import run_reference  # noqa: PLC0415 (pycocotools' COCO only here)

        pairs = run_reference(gt, sub, params, selections, img_idx, control)
        runs = [r for r, _ in pairs]
        gt_matched = [g for _, g in pairs]
    mark = time.perf_counter()
    result = _build_result(engine, params, gt, sub, runs, gt_matched[0], readme_rule, broken, over)
    timings["results"] = time.perf_counter() - mark
    result.timings = timings
    control.finish()
    return result


def _build_result(engine: str, params: EvalParams, gt: GroundTruth, sub: Submission, runs: list[RunOutput],
                  gt_matched: np.ndarray | None, readme_rule: bool, broken: bool,
                  over: dict[int, int]) -> EvaluationResult:
    cats = gt.category_ids
    main = runs[0]
    scores = Scores.from_arrays(params, cats, main.official)
    variants: dict[str, Scores] = {}
    if main.id0_counted is not None:
        variants[VARIANT_ID0_COUNTED] = Scores.from_arrays(params, cats, main.id0_counted)
    if main.mask_areas is not None:
        variants[VARIANT_MASK_AREAS] = Scores.from_arrays(params, cats, main.mask_areas)
    if len(runs) > 1:
        name = VARIANT_ALL_PREDICTIONS if readme_rule else VARIANT_README_RULE
        variants[name] = Scores.from_arrays(params, cats, runs[1].official)
    plan = main.plan
    quirks = Quirks(
        gt_has_id_zero=gt.has_id_zero,
        id0_matches=main.id0_pairs,
        id0_predictions=main.id0_predictions,
        uses_bbox_areas=sub.bboxes is not None,
        bbox_area_moves=main.bbox_area_moves,
        unknown_category=int((plan.selected & ~plan.known_category).sum()),
        beyond_max_dets=int((plan.rank >= plan.max_det).sum()),
        gt_dropped_annotations=gt.dropped_annotations,
        gt_duplicate_ids=gt.duplicate_ids,
    )
    readme = ReadmeRule(limit=README_LIMIT, applied=readme_rule, broken=broken, images_over=over,
                        removed=int(sum(c - README_LIMIT for c in over.values())))
    records = _records(params, gt, sub, main, gt_matched)
    return EvaluationResult(
        engine=engine, params=params, category_ids=cats, category_names=gt.category_names,
        scores=scores, variants=variants, quirks=quirks, readme=readme, records=records,
        num_predictions=len(sub),
    )


def _records(params: EvalParams, gt: GroundTruth, sub: Submission, run: RunOutput,
             gt_matched: np.ndarray | None) -> MatchRecords:
    plan, match = run.plan, run.match
    rows0 = match.gt_row[:, 0, :]
    keep = np.flatnonzero((rows0 >= 0).any(axis=1))
    order = keep[np.argsort(match.dt_index[keep], kind="stable")]
    cand_index = match.dt_index[order]
    cand_rows = rows0[order]
    cand_iou = match.iou_all[order]
    if gt_matched is None:
        gt_matched = gt_matches_from_dt(cand_index, cand_rows, plan.rank[cand_index], len(gt))
    if sub.bboxes is not None:
        area = sub.bboxes[:, 2] * sub.bboxes[:, 3]
        outside_all = outside_ranges(area, params)[:, 0]
    else:
        outside_all = np.zeros(len(sub), dtype=bool)  # a mask area is never outside "all"
    gt_ignore_all = gt.ann_ignore | (gt.ann_areas < params.area_rngs[0][0]) | (gt.ann_areas > params.area_rngs[0][1])
    status = np.full(len(sub), PredStatus.SCORED, dtype=np.uint8)
    status[plan.rank >= plan.max_det] = PredStatus.BEYOND_MAX_DETS
    status[~plan.known_category] = PredStatus.UNKNOWN_CATEGORY
    status[~plan.selected] = PredStatus.REMOVED_BY_README_RULE
    return MatchRecords(
        num_thresholds=params.num_thresholds, image_ids=sub.image_ids, category_ids=sub.category_ids,
        scores=sub.scores, status=status, rank=plan.rank, outside_all=outside_all,
        cand_index=cand_index, cand_gt_row=cand_rows, cand_iou=cand_iou,
        gt_ids=gt.ann_ids, gt_image_ids=gt.ann_image_ids, gt_category_ids=gt.ann_category_ids,
        gt_areas=gt.ann_areas, gt_iscrowd=gt.ann_iscrowd, gt_ignored=gt_ignore_all,
        gt_matched=gt_matched,
    )
