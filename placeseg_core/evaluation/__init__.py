"""The challenge's evaluation: pycocotools' segm AP with maxDets [1, 50, 255], exactly.

``evaluate(gt, submission, engine="fast" | "reference")`` returns an
:class:`EvaluationResult`: mean AP, the 12 summary numbers, per-category AP, pycocotools'
precision / recall arrays, quirk variants and per-image match records. See
docs/adr/0001-evaluation-engines.md for the design.
"""

from __future__ import annotations

from .api import ENGINES, evaluate
from .control import EvaluationCancelled
from .groundtruth import (
    GroundTruth,
    ground_truth_from_ann_dir,
    ground_truth_from_dict,
    load_ground_truth,
)
from .inputs import Inputs, load_inputs
from .params import CHALLENGE_MAX_DETS, EvalParams, challenge_params
from .records import ImageMatches, MatchRecords
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

__all__ = [
    "CHALLENGE_MAX_DETS", "ENGINES", "EvalParams", "EvaluationCancelled", "EvaluationResult",
    "GroundTruth", "ImageMatches", "Inputs", "MatchRecords", "Quirks", "ReadmeRule", "Scores",
    "VARIANT_ALL_PREDICTIONS", "VARIANT_ID0_COUNTED", "VARIANT_MASK_AREAS", "VARIANT_README_RULE",
    "challenge_params", "evaluate", "ground_truth_from_ann_dir", "ground_truth_from_dict",
    "load_ground_truth", "load_inputs",
]
