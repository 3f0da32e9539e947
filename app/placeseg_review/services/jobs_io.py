"""The controller's jobs: what its workers run to open a data set, load predictions, build the
demo and scan the annotation PNGs (functions of a :class:`Task`, no Qt calls)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from placeseg_core.errors import located_failures

from ..model.data import PredictionIndex, ReviewDataset, load_predictions, open_ground_truth
from .demo_cache import ensure_demo
from .workers import Task


def open_dataset_job(task: Task, path: Path, images: str | None) -> ReviewDataset:
    with located_failures(path):
        return open_ground_truth(path, images)


def load_predictions_job(task: Task, path: Path, dataset: ReviewDataset) -> PredictionIndex:
    task.progress(0, 0)
    with located_failures(path):
        return load_predictions(path, dataset)


def build_demo_job(task: Task, **kwargs: Any) -> Path:
    return ensure_demo(progress=task.progress, **kwargs)


def scan_dataset_job(task: Task, ds: ReviewDataset) -> None:
    """Count instances, findings and categories of every annotation PNG (fills ``ds`` in place),
    keeping each PNG's conversion for the evaluation (``ds.decoded``: decoded once)."""
    from placeseg_core.convert import decode_for_conversion  # noqa: PLC0415 (only layouts need it)

    counts = np.zeros_like(ds.category_counts)
    n = len(ds.entries)
    for k, entry in enumerate(ds.entries):
        task.check()
        if entry.annotation_path is None:
            ds.gt_counts[k] = 0  # type: ignore[index]
            ds.findings_counts[k] = 0  # type: ignore[index]
        else:
            path = os.path.abspath(entry.annotation_path)
            instances, findings = ds.decoded.get(path) or decode_for_conversion(path, entry.height, entry.width)
            ds.decoded[path] = (instances, findings)
            for category_id, *_rest in instances:
                if 0 <= category_id < len(counts):
                    counts[category_id] += 1
            ds.gt_counts[k] = len(instances)  # type: ignore[index]
            ds.findings_counts[k] = len(findings)  # type: ignore[index]
        if (k + 1) % 16 == 0 or k + 1 == n:
            task.progress(k + 1, n)
    ds.category_counts[:] = counts
