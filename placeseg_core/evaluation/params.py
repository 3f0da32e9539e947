"""Evaluation parameters: pycocotools' ``Params`` for ``iouType='segm'`` as the challenge sets them.

The arrays are built with the very expressions pycocotools uses (``np.linspace`` with a rounded
count), so thresholds compare bit for bit with the official evaluator's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The challenge's ``params.maxDets`` (pycocotools' default is ``[1, 10, 100]``).
CHALLENGE_MAX_DETS = (1, 50, 255)
AREA_LABELS = ("all", "small", "medium", "large")


def _iou_thresholds() -> np.ndarray:
    # pycocotools: "np.arange causes trouble. the data point on arange is slightly larger than
    # the true value" -- so linspace, and the same expression, for identical floats.
    return np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)


def _recall_thresholds() -> np.ndarray:
    return np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def _area_ranges() -> list[tuple[float, float]]:
    # Inclusive at both ends (pycocotools tests ``area < lo or area > hi``): an area of exactly
    # 32**2 is both small and medium.
    return [(0**2, 1e5**2), (0**2, 32**2), (32**2, 96**2), (96**2, 1e5**2)]


@dataclass(frozen=True)
class EvalParams:
    """What pycocotools' ``Params`` holds for a segm evaluation (categories on)."""

    max_dets: tuple[int, ...] = CHALLENGE_MAX_DETS
    iou_thrs: np.ndarray = field(default_factory=_iou_thresholds)
    rec_thrs: np.ndarray = field(default_factory=_recall_thresholds)
    area_rngs: tuple[tuple[float, float], ...] = field(default_factory=lambda: tuple(_area_ranges()))
    area_labels: tuple[str, ...] = AREA_LABELS

    def __post_init__(self) -> None:
        # pycocotools' evaluate() sorts maxDets; evaluateImg runs with the largest.
        dets = tuple(sorted(int(m) for m in self.max_dets))
        if not dets or dets[0] < 1:
            raise ValueError("max_dets must be positive integers")
        object.__setattr__(self, "max_dets", dets)

    @property
    def max_det(self) -> int:
        return self.max_dets[-1]

    @property
    def num_thresholds(self) -> int:
        return len(self.iou_thrs)

    def area_index(self, label: str) -> int:
        return self.area_labels.index(label)

    def max_det_index(self, max_det: int) -> int:
        return self.max_dets.index(max_det)

    def threshold_index(self, iou: float) -> int:
        # pycocotools' summarize selects with ``np.where(iouThr == p.iouThrs)``.
        hits = np.where(iou == self.iou_thrs)[0]
        if len(hits) == 0:
            raise ValueError(f"{iou} is not one of the IoU thresholds")
        return int(hits[0])


def challenge_params() -> EvalParams:
    """The Places Challenge 2017 setting: pycocotools segm defaults with maxDets [1, 50, 255]."""
    return EvalParams()
