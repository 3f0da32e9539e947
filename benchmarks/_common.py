"""Helpers shared by the benchmark scripts: timing with medians, peak memory of a subprocess."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def median_time(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    """Median wall time of ``repeats`` calls (the machine is noisy: never a single run)."""
    times = []
    result = None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def official_pipeline(gt_path: Any, preds_path: Any, max_dets: list[int]) -> tuple[Any, float]:
    """The challenge's evaluation as its script runs it (pycocotools: load both files, loadRes,
    evaluate, accumulate; its printing silenced): (COCOeval, seconds)."""
    import contextlib  # noqa: PLC0415
    import io  # noqa: PLC0415

    from pycocotools.coco import COCO  # noqa: PLC0415
    from pycocotools.cocoeval import COCOeval  # noqa: PLC0415

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        gt = COCO(str(gt_path))
        dt = gt.loadRes(str(preds_path))
        E = COCOeval(gt, dt, "segm")
        E.params.maxDets = list(max_dets)
        E.evaluate()
        E.accumulate()
    return E, time.perf_counter() - start
