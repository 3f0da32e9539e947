"""Masks that are not the challenge's compressed RLE, on a file whose item 0 has a bbox.

The challenge asks for compressed RLE, so each such mask is an error of the format; the official
pipeline scores them all the same (pycocotools' box path: polygons and a box-only item's box
drawn at the image's size, run lists compressed at their own size, every area the box's w*h),
and so does ``placeseg evaluate``. Each message says which, or what stops pycocotools (and the
evaluation) on that mask. Without a bbox on item 0 they are reported by the scan, since
pycocotools' loadRes then fails on them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..safety.masks import uncompressed_rle_problem
from ..safety.numbers import is_finite_number
from .images import ImageTable
from .report import ProblemCollector
from .scan import Columns

_SCORED = "item 0 has a bbox, so the official pipeline scores it ({how}; the area is the box's w*h), as placeseg evaluate does"


def check_shapes(items: list[Any], cols: Columns, table: ImageTable, pos: np.ndarray, found: np.ndarray,
                 out: ProblemCollector) -> dict[str, int]:
    """One problem per polygon, run-list or box-only item (found by the scan); returns the
    number of each kind (for the report's statistics)."""
    by_kind: dict[str, list[int]] = {}
    for i, (kind, _) in sorted(cols.shapes.items()):
        by_kind.setdefault(kind, []).append(i)

    def size_of(i: int) -> tuple[int, int] | None:
        return (int(table.height[pos[i]]), int(table.width[pos[i]])) if found[i] else None

    def polygon(i: int) -> tuple[str, int | None, str | None]:
        fault = _polygon_fault(cols.shapes[i][1], size_of(i))
        what = f"item {i}: segmentation is polygons, not the challenge's compressed RLE {{size, counts}}; "
        how = "drawn at the image's size with pycocotools' frPyObjects and merge"
        return what + _verdict(fault, how), _image(cols, i), "segmentation"

    def run_list(i: int) -> tuple[str, int | None, str | None]:
        problem = uncompressed_rle_problem(cols.shapes[i][1], None, None)
        what = (f"item {i}: segmentation.counts is a list of run lengths (uncompressed RLE), not the "
                "challenge's compressed string; ")
        return what + _verdict(problem, "compressed at its own size"), _image(cols, i), "segmentation.counts"

    def box_only(i: int) -> tuple[str, int | None, str | None]:
        box = items[i].get("bbox") if isinstance(items[i], dict) else None
        fault = None
        if isinstance(box, list) and len(box) == 4 and all(map(is_finite_number, box)):
            x, y, w, h = (float(v) for v in box)
            fault = _polygon_fault([[x, y, x, y + h, x + w, y + h, x + w, y]], size_of(i))
        what = f"item {i} has no segmentation, so no mask in the challenge's format (compressed RLE); "
        return what + _verdict(fault, "its box drawn as a four-corner polygon at the image's size"), _image(cols, i), "segmentation"

    out.add_many("bad-type", np.array(by_kind.get("polygon", []), dtype=np.int64), polygon)
    out.add_many("bad-rle", np.array(by_kind.get("uncompressed RLE", []), dtype=np.int64), run_list)
    out.add_many("missing-field", np.array(by_kind.get("box only", []), dtype=np.int64), box_only)
    return {kind: len(idx) for kind, idx in by_kind.items()}


def _polygon_fault(seg: Any, size: tuple[int, int] | None) -> str | None:
    if size is None:  # an unknown image: reported on its own; the shape alone is checked
        size = (1 << 20, 1 << 20)
    from ..submissions.shapes import polygon_fault  # noqa: PLC0415 (pycocotools only when needed)

    return polygon_fault(seg, *size)


def _verdict(fault: str | None, how: str) -> str:
    if fault is None:
        return _SCORED.format(how=how)
    return f"pycocotools cannot score it safely, and placeseg evaluate refuses it: {fault}"


def _image(cols: Columns, i: int) -> int | None:
    return int(cols.image_id[i]) if cols.image_ok[i] else None
