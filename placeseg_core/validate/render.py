"""The report as text for a terminal: a verdict, then each code with its count, first
locations and one-line fix, then the statistics."""

from __future__ import annotations

from typing import Any

from .codes import CODES, Severity, fix_for
from .report import ValidationReport

SHOWN_PER_CODE = 5


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def render_text(report: ValidationReport, shown_per_code: int = SHOWN_PER_CODE) -> str:
    """A readable summary grouped by code (errors first), with counts and fixes."""
    lines: list[str] = []
    n_err = sum(n for c, n in report.counts.items() if CODES[c].severity is Severity.ERROR)
    n_warn = sum(n for c, n in report.counts.items() if CODES[c].severity is Severity.WARNING)
    verdict = "VALID" if report.valid else "INVALID"
    lines.append(f"{report.source}: {verdict} ({_plural(n_err, 'error')}, {_plural(n_warn, 'warning')})")
    for code, count in report.counts.items():
        info = CODES[code]
        lines.append("")
        lines.append(f"{info.severity.value} {code}: {info.title} ({count:,} found)")
        listed = report.problems_for(code)
        for p in listed[:shown_per_code]:
            lines.append(f"  - {p.message}")
        hidden = count - min(len(listed), shown_per_code)
        if hidden > 0:
            lines.append(f"  ... and {hidden:,} more")
        lines.append(f"  fix: {fix_for(code)}")
    stats = _stats_lines(report.stats)
    if stats:
        lines.append("")
        lines.extend(stats)
    return "\n".join(lines) + "\n"


def _stats_lines(stats: dict[str, Any]) -> list[str]:
    out: list[str] = []
    if not stats.get("predictions"):
        return out
    out.append(f"predictions: {stats['predictions']:,}")
    if stats.get("split") or stats.get("split_source"):
        out.append(f"split: {stats.get('split') or 'unknown'} ({stats.get('split_source')})")
    covered = stats.get("images_covered")
    if covered is not None:
        expected = stats.get("expected_images")
        of = f" of {expected:,} expected" if expected is not None else ""
        if expected == 0:  # e.g. --split test with an image list that has only val images
            of = f" (none expected: the {stats.get('split') or 'chosen'} split lists no images)"
        out.append(f"images covered: {covered:,}{of}")
    per = stats.get("per_image")
    if per:
        out.append(f"predictions per image: min {per['min']}, median {per['median']:g}, max {per['max']}")
    if "categories_used" in stats:
        out.append(f"categories used: {stats['categories_used']}")
    if stats.get("score_range"):
        lo, hi = stats["score_range"]
        out.append(f"score range: {lo:g} .. {hi:g}")
    if stats.get("mask_area_range"):
        lo, hi = stats["mask_area_range"]
        out.append(f"mask area range: {lo:,} .. {hi:,} pixels")
    if stats.get("mask_kinds"):
        kinds = ", ".join(f"{n:,} {kind}" for kind, n in sorted(stats["mask_kinds"].items()))
        out.append(f"masks not in compressed RLE: {kinds} (item 0 has a bbox: the official pipeline "
                   "scores them, see the errors above)")
    return out
