"""The two inputs of an evaluation, loaded in one sequence (:func:`load_inputs`), shared by
``evaluate()`` and the CLI."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..jsonio import paused_gc
from ..submissions import (
    Submission,
    finish_split_load,
    image_sizes,
    load_submission,
    rasterise,
    start_split_load,
    submission_from_parsed,
)
from .groundtruth import GroundTruth, ground_truth_from_dict, load_ground_truth
from .prepare import check_images


class Inputs(NamedTuple):
    gt: GroundTruth
    sub: Submission
    img_idx: np.ndarray  # each prediction's image index in the ground truth


def as_ground_truth(gt: GroundTruth | dict[str, Any] | str | os.PathLike[str]) -> GroundTruth:
    if isinstance(gt, GroundTruth):
        return gt
    if isinstance(gt, dict):
        with paused_gc():
            return ground_truth_from_dict(gt)
    return load_ground_truth(gt)


def as_submission(sub: Submission | list[Any] | str | os.PathLike[str]) -> Submission:
    """Columns from columns, parsed JSON or a file (in this process: see :func:`load_inputs`)."""
    if isinstance(sub, Submission):
        return sub
    if isinstance(sub, list):
        return submission_from_parsed(sub)
    return load_submission(sub, workers=1)


def load_inputs(gt: GroundTruth | dict[str, Any] | str | os.PathLike[str],
                predictions: Submission | list[Any] | str | os.PathLike[str], workers: int | None = None,
                timings: dict[str, float] | None = None,
                on_ground_truth: Callable[[GroundTruth], None] | None = None) -> Inputs:
    """Ground truth and predictions, and each prediction's image (an image outside the ground
    truth is an InputError, as in pycocotools' loadRes).

    A large predictions file: a forked helper parses its tail while this process loads the
    ground truth (``workers`` as for :func:`~placeseg_core.submissions.load_submission`; the
    helper is stopped if the ground truth fails). ``timings`` gets the two load times;
    ``on_ground_truth(gt)`` is called once the ground truth is loaded, before the predictions
    can fail (the CLI explains their faults against it).
    """
    started = time.perf_counter()
    split = start_split_load(predictions, workers)
    try:
        truth = as_ground_truth(gt)
        if on_ground_truth is not None:
            on_ground_truth(truth)
    except BaseException:
        if split is not None:
            split.abandon()  # the caller fails before it needs the predictions
        raise
    loaded_gt = time.perf_counter()
    sub = finish_split_load(split) if split is not None else as_submission(predictions)
    loaded_sub = time.perf_counter()
    if timings is not None:
        timings["load_ground_truth"] = loaded_gt - started
        timings["load_submission"] = loaded_sub - loaded_gt
    img_idx = check_images(truth, sub)
    if sub.needs_image_sizes:
        # polygons and boxes (item 0 has a bbox) drawn at their images' sizes, as pycocotools'
        # annToRLE draws them: a new Submission, the caller's stays as it was
        with paused_gc():
            sub = rasterise(sub, image_sizes(truth.dataset.get("images")), workers=workers)
        if timings is not None:
            timings["draw_masks"] = time.perf_counter() - loaded_sub
    return Inputs(truth, sub, img_idx)
