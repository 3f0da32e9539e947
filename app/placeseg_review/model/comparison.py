"""The rows of the Compare view, from a ``placeseg_core.compare.Comparison`` (Qt-free).

Every number is the comparison's own (what ``placeseg compare --json`` writes); this module only
arranges them and finds, for each category, the image that shows its change best (the one with
the most objects of that category found by one file only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .render import GtStatus

if TYPE_CHECKING:  # (the compare package loads when a comparison is made, not at start-up)
    from placeseg_core.compare import Comparison

_SUFFIX_LABELS = {"s": " small", "m": " medium", "l": " large"}


def summary_label(key: str) -> str:
    """``APs`` -> ``AP small``; ``AP50`` and ``AR255`` stay as they are."""
    if key[:2] in ("AP", "AR") and key[2:] in _SUFFIX_LABELS:
        return key[:2] + _SUFFIX_LABELS[key[2:]]
    return key


@dataclass(frozen=True)
class SummaryRow:
    key: str
    label: str
    a: float | None
    b: float | None
    delta: float | None


@dataclass(frozen=True)
class CategoryRow:
    id: int
    name: str
    a: float | None
    b: float | None
    delta: float | None
    image_id: int | None  # the image with most objects of this category found by one file only


@dataclass(frozen=True)
class ImageRow:
    image_id: int
    tp_a: int
    fp_a: int
    fn_a: int
    tp_b: int
    fp_b: int
    fn_b: int
    change: int  # objects found by one file only + |FP B - FP A| (the CLI's ranking)


def summary_rows(c: Comparison) -> list[SummaryRow]:
    delta = c.summary_delta
    return [SummaryRow(k, summary_label(k), a, c.b.summary.get(k), delta[k]) for k, a in c.a.summary.items()]


def category_rows(c: Comparison) -> list[CategoryRow]:
    images = _category_images(c)
    return [CategoryRow(d.id, d.name, d.a, d.b, d.delta, images.get(d.id)) for d in c.categories]


def image_rows(c: Comparison, top: int | None = None) -> list[ImageRow]:
    """The evaluated images that changed, most first (ties by id), as ``placeseg compare`` ranks them."""
    m = c.matches
    change = m.found_by_one + np.abs(m.b.fp - m.a.fp)
    order = m.changed_images(len(change) if top is None else top)
    a, b = m.a, m.b
    return [ImageRow(int(a.image_ids[k]), int(a.tp[k]), int(a.fp[k]), int(a.fn[k]), int(b.tp[k]), int(b.fp[k]),
                     int(b.fn[k]), int(change[k])) for k in order.tolist()]


def _category_images(c: Comparison) -> dict[int, int]:
    """Category id -> the image with most of its objects found by exactly one of the files."""
    ra = c.a.records
    one = c.matches.found_a ^ c.matches.found_b  # (crowd regions are found by neither)
    if not one.any():
        return {}
    cats, imgs = ra.gt_category_ids[one], ra.gt_image_ids[one]
    out: dict[int, int] = {}
    for cat in np.unique(cats).tolist():
        ids, counts = np.unique(imgs[cats == cat], return_counts=True)
        out[int(cat)] = int(ids[np.argmax(counts)])  # the first of the most (ids sorted)
    return out


FOUND_NEITHER, FOUND_A, FOUND_B, FOUND_BOTH = 0, 1, 2, 3
FOUND_COLOURS = {FOUND_NEITHER: (230, 60, 60), FOUND_A: (240, 170, 40), FOUND_B: (70, 140, 240),
                 FOUND_BOTH: (40, 200, 90)}
FOUND_NAMES = {FOUND_NEITHER: "found by neither", FOUND_A: "found by A only", FOUND_B: "found by B only",
               FOUND_BOTH: "found by both"}


def found_status(c: Comparison, instance_ids: np.ndarray) -> GtStatus:
    """Who found each object at IoU 0.50 (the counts of ``matches.ground_truth``), keyed by
    (image id, the viewer's instance id of the object); crowd regions have no status."""
    records, m = c.a.records, c.matches
    code = m.found_a.astype(np.int64) * FOUND_A + m.found_b.astype(np.int64) * FOUND_B
    keep = ~records.gt_ignored
    codes = {(int(i), int(k)): int(v) for i, k, v in
             zip(records.gt_image_ids[keep], np.asarray(instance_ids)[keep], code[keep], strict=True)}
    return GtStatus(codes, FOUND_COLOURS, FOUND_NAMES, f"found at IoU {c.matches.iou:.2f}")
