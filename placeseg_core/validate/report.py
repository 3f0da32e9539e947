"""The validator's typed report, and the collector that keeps it small.

A systematic fault (every size swapped) must not make a 200k-entry report: per code the
collector keeps the first few locations and counts the rest, so every distinct code still
appears, with its total.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .codes import CODE_ORDER, CODES, UNUSABLE_CODES, Severity, fix_for, severity_of

DEFAULT_MAX_LOCATIONS = 20


@dataclass(frozen=True)
class Problem:
    """One located problem; ``index`` is the item's position in the submitted list."""

    severity: Severity
    code: str
    message: str
    index: int | None = None
    image_id: int | None = None
    field: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "index": self.index,
            "image_id": self.image_id,
            "field": self.field,
        }


@dataclass
class ValidationReport:
    """What the validator found: ``valid`` is False as soon as any error code has a count."""

    valid: bool
    problems: list[Problem]  # the first locations of each code, in code order then item order
    counts: dict[str, int]  # code -> total number found (may exceed the locations listed)
    stats: dict[str, Any] = field(default_factory=dict)
    source: str = "<memory>"

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def codes(self) -> list[str]:
        """Every distinct code found, in report order."""
        return list(self.counts)

    @property
    def unusable(self) -> bool:
        """True when the file could not be checked at all (missing, a folder, too large)."""
        return any(code in UNUSABLE_CODES for code in self.counts)

    def problems_for(self, code: str) -> list[Problem]:
        return [p for p in self.problems if p.code == code]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``placeseg validate --format json`` and ``--report``."""
        return {
            "valid": self.valid,
            "source": self.source,
            "problems": [p.to_dict() for p in self.problems],
            "counts": dict(self.counts),
            "fixes": {code: fix_for(code) for code in self.counts},
            "stats": self.stats,
        }


MessageFn = Callable[[int], "tuple[str, int | None, str | None]"]


class ProblemCollector:
    """Counts every problem, keeps the first ``max_locations`` of each code."""

    def __init__(self, max_locations: int = DEFAULT_MAX_LOCATIONS) -> None:
        self.max_locations = max(0, int(max_locations))
        self._kept: dict[str, list[Problem]] = {}
        self._counts: dict[str, int] = {}

    def count(self, code: str) -> int:
        return self._counts.get(code, 0)

    def wants(self, code: str) -> bool:
        """True while locations of ``code`` are still kept (to skip building messages)."""
        return len(self._kept.get(code, ())) < self.max_locations

    def add(
        self,
        code: str,
        message: str,
        index: int | None = None,
        image_id: int | None = None,
        field: str | None = None,
    ) -> None:
        self._counts[code] = self._counts.get(code, 0) + 1
        kept = self._kept.setdefault(code, [])
        if len(kept) < self.max_locations:
            kept.append(Problem(severity_of(code), code, message, index, image_id, field))

    def count_only(self, code: str, n: int) -> None:
        """Count ``n`` more problems of ``code`` without locations (already listed enough)."""
        if n > 0:
            self._counts[code] = self._counts.get(code, 0) + n
            self._kept.setdefault(code, [])

    def add_many(self, code: str, indices: Sequence[int] | np.ndarray, describe: MessageFn) -> None:
        """Count every index in ``indices`` and describe only the first few.

        ``describe(i)`` returns ``(message, image_id, field)`` for item ``i``; it is called at
        most ``max_locations`` times, so a vectorised check never builds 200k messages.
        """
        total = len(indices)
        if total == 0:
            return
        self._counts[code] = self._counts.get(code, 0) + total
        kept = self._kept.setdefault(code, [])
        room = max(self.max_locations - len(kept), 0)
        for i in list(indices[:room]):
            message, image_id, fld = describe(int(i))
            kept.append(Problem(severity_of(code), code, message, int(i), image_id, fld))

    def report(self, stats: dict[str, Any], source: str) -> ValidationReport:
        codes = sorted(self._counts, key=lambda c: CODE_ORDER.get(c, len(CODE_ORDER)))
        problems: list[Problem] = []
        for code in codes:
            problems.extend(sorted(self._kept.get(code, []), key=_location_key))
        counts = {code: self._counts[code] for code in codes}
        valid = not any(CODES[c].severity is Severity.ERROR for c in counts)
        return ValidationReport(valid=valid, problems=problems, counts=counts, stats=stats, source=source)


def _location_key(p: Problem) -> tuple[int, int]:
    return (0 if p.index is None else 1, -1 if p.index is None else p.index)
