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


def status_kb(field: str) -> int:
    """A memory figure of this process from /proc (``VmRSS`` now, ``VmHWM`` peak), in kB.

    Not ru_maxrss: Linux carries it over from the parent across exec, so every child would
    report the (large) peak of the process that generated the data.
    """
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def subprocess_env() -> dict[str, str]:
    """The environment of the processes a benchmark times: bytecode caches written and used,
    as in an installed package (with PYTHONDONTWRITEBYTECODE=1, as on the development machine,
    an editable checkout recompiles every module at each start: a quarter of a second no user
    pays)."""
    import os  # noqa: PLC0415

    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def placeseg_command() -> list[str]:
    """How to run ``placeseg`` as a user does: the installed script beside this Python."""
    import sys  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    script = Path(sys.executable).with_name("placeseg")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "placeseg_core.cli.main"]


def cached(folder: Any, shape: dict[str, Any], marker: str = "shape.json") -> bool:
    """Whether ``folder`` already holds data generated for ``shape`` (see :func:`mark_cached`)."""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    path = Path(folder) / marker
    return path.is_file() and json.loads(path.read_text()) == shape


def mark_cached(folder: Any, shape: dict[str, Any], marker: str = "shape.json") -> None:
    """Record, once the data is complete, the ``shape`` it was generated for."""
    import json  # noqa: PLC0415
    from pathlib import Path  # noqa: PLC0415

    (Path(folder) / marker).write_text(json.dumps(shape))
