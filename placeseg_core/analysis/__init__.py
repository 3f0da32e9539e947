"""Error analysis of an evaluation: why each prediction and ground truth scored as it did,
TIDE-style error types for masks with the AP each costs (dAP), a category confusion matrix and
per-image counts for "worst images first". Qt-free; see docs/error-analysis.md.

``analyze(result, gt, submission, iou_threshold=0.5)`` -> :class:`ErrorAnalysis`.
"""

from __future__ import annotations

from .confusion import BACKGROUND, MISSED, ConfusionMatrix, confusion_matrix
from .errors import ALL_ERROR_TYPES, ERROR_TYPES, GT_KIND_NAMES, PRED_KIND_NAMES, ErrorColumns
from .explain import GroundTruthWhy, ImageExplanation, PredictionWhy
from .overlaps import Overlaps, compute_overlaps
from .report import IMAGE_COLUMNS, ErrorAnalysis, ImageTable, analyze

__all__ = [
    "ALL_ERROR_TYPES", "BACKGROUND", "ERROR_TYPES", "GT_KIND_NAMES", "IMAGE_COLUMNS", "MISSED",
    "PRED_KIND_NAMES", "ConfusionMatrix", "ErrorAnalysis", "ErrorColumns", "GroundTruthWhy",
    "ImageExplanation", "ImageTable", "Overlaps", "PredictionWhy", "analyze", "compute_overlaps",
    "confusion_matrix",
]
