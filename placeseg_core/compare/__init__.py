"""Compare two submissions on one ground truth: both official scores, what changed and where,
and a paired bootstrap of the mean AP that says whether the change is real.

``compare(gt, a, b, resamples=N)`` returns a :class:`Comparison` (``to_json()`` is the
``placeseg compare --json`` document). The bootstrap recomputes pycocotools' accumulate for
resampled image lists from the match records of the one evaluation of each file
(docs/compare.md).
"""

from __future__ import annotations

from .api import compare, compare_results
from .bootstrap import BootstrapResult, bootstrap, draw_resamples, resampled_mean_ap
from .matches import ImageCounts, MatchBreakdown, match_breakdown
from .result import CategoryDelta, Comparison
from .table import BootstrapTable, build_table

__all__ = [
    "BootstrapResult", "BootstrapTable", "CategoryDelta", "Comparison", "ImageCounts",
    "MatchBreakdown", "bootstrap", "build_table", "compare", "compare_results", "draw_resamples",
    "match_breakdown", "resampled_mean_ap",
]
