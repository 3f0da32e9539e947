"""The typed result of comparing two submissions; ``to_json`` gives the ``--json`` document."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..evaluation.results import EvaluationResult
from .bootstrap import BootstrapResult
from .matches import MatchBreakdown


def difference(a: float | None, b: float | None) -> float | None:
    """``b - a``, or None when either is undefined."""
    return None if a is None or b is None else b - a


@dataclass(frozen=True)
class CategoryDelta:
    id: int
    name: str
    a: float | None
    b: float | None

    @property
    def delta(self) -> float | None:
        return difference(self.a, self.b)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "a": self.a, "b": self.b, "delta": self.delta}


@dataclass
class Comparison:
    """Two evaluations of one ground truth, what changed between them, and (optionally) a
    paired bootstrap of their mean AP. ``notes_a`` / ``notes_b``: what ``evaluate`` says about
    each file (quirks, README rule, mask sizes)."""

    a: EvaluationResult
    b: EvaluationResult
    image_ids: np.ndarray  # the evaluated images, sorted
    matches: MatchBreakdown
    bootstrap: BootstrapResult | None = None
    notes_a: list[str] = field(default_factory=list)
    notes_b: list[str] = field(default_factory=list)
    elapsed: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def mean_ap_delta(self) -> float | None:
        return difference(self.a.mean_ap, self.b.mean_ap)

    @property
    def summary_delta(self) -> dict[str, float | None]:
        return {key: difference(value, self.b.summary.get(key)) for key, value in self.a.summary.items()}

    @property
    def categories(self) -> list[CategoryDelta]:
        names = self.a.category_names
        return [CategoryDelta(int(c), names.get(int(c), str(c)), ap_a, ap_b)
                for c, ap_a, ap_b in zip(self.a.category_ids.tolist(), self.a.scores.category_ap,
                                         self.b.scores.category_ap, strict=True)]

    def biggest_changes(self, top: int) -> tuple[list[CategoryDelta], list[CategoryDelta]]:
        """The categories that gained most and lost most (defined deltas only; ties by id)."""
        defined = [c for c in self.categories if c.delta is not None]
        gained = sorted((c for c in defined if c.delta is not None and c.delta > 0),
                        key=lambda c: (-(c.delta or 0.0), c.id))
        lost = sorted((c for c in defined if c.delta is not None and c.delta < 0),
                      key=lambda c: (c.delta or 0.0, c.id))
        return gained[:top], lost[:top]

    def to_json(self) -> dict[str, Any]:
        """Exactly: ``a`` and ``b`` as ``placeseg evaluate --json`` writes them, ``delta``,
        ``matches`` and ``bootstrap`` (null without one)."""
        return {
            "a": {**self.a.to_json(), "notes": list(self.notes_a)},
            "b": {**self.b.to_json(), "notes": list(self.notes_b)},
            "delta": {
                "mean_ap": self.mean_ap_delta,
                "summary": self.summary_delta,
                "per_category": [c.to_json() for c in self.categories],
            },
            "matches": self.matches.to_json(),
            "bootstrap": self.bootstrap.to_json() if self.bootstrap is not None else None,
        }
