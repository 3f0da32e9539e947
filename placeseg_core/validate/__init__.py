"""The submission validator: every way a Places Challenge 2017 submission can be wrong.

Use :func:`validate_submission` (CLI: ``placeseg validate``); it returns a
:class:`ValidationReport` of located :class:`Problem` records grouped by code, each code with a
one-line fix (:func:`fix_for`), plus statistics.
"""

from __future__ import annotations

from .codes import CODES, ERROR_CODES, WARNING_CODES, CodeInfo, Severity, fix_for
from .core import PROGRESS_TOTAL, ValidationCancelled, validate_submission
from .reader import DEFAULT_MAX_BYTES
from .render import render_text
from .report import DEFAULT_MAX_LOCATIONS, Problem, ValidationReport

__all__ = [
    "CODES",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_LOCATIONS",
    "ERROR_CODES",
    "PROGRESS_TOTAL",
    "WARNING_CODES",
    "CodeInfo",
    "Problem",
    "Severity",
    "ValidationCancelled",
    "ValidationReport",
    "fix_for",
    "render_text",
    "validate_submission",
]
