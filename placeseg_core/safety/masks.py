"""Masks checked before any pycocotools call: compressed RLE, uncompressed RLE, polygons.

pycocotools trusts its input. Its string decoder (``rleFrString``) reads past the end of a
truncated ``counts`` string and can loop for ever on one; runs that do not sum to height x
width make its IoU walk off the end of the run arrays; a polygon with NaN, Infinity or a
vertex far outside the image makes ``rleFrPoly`` allocate and walk an edge of billions of
points (the process dies with signal 11). Everything the scorer, the matcher and the window
hand to pycocotools passes through here first.

Nothing here changes a valid input: a mask that passes is given to pycocotools exactly as it
was, so scores stay bit for bit those of the official evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from . import rledecode
from .numbers import MAX_IMAGE_PIXELS, is_int, short

#: Status of an RLE whose ``size`` cannot be used (see :func:`rle_statuses`).
BAD_SIZE = 16


#: How far outside the image a polygon vertex may lie, as a multiple of the image's side.
#: Real annotations stay within a pixel or two of the image; further out, rasterising the
#: polygon costs time and memory in proportion to the distance, and at 1e12 it crashes.
POLYGON_MARGIN = 1.0
_UINT32_MAX = (1 << 32) - 1


def rle_statuses(counts: Sequence[str], heights: np.ndarray, widths: np.ndarray) -> np.ndarray:
    """Per RLE, 0 when ``counts`` is a well-formed compressed RLE of ``height x width`` pixels.

    Otherwise one of :mod:`rledecode`'s codes (truncated, bad character, negative run, runs not
    summing to height x width...) or :data:`BAD_SIZE` (a side of 0 pixels, or more than
    :data:`~placeseg_core.safety.numbers.MAX_IMAGE_PIXELS`). Vectorised: about 1 s per
    million masks.
    """
    return rle_checks(counts, heights, widths)[0]


def rle_checks(counts: Sequence[str], heights: np.ndarray, widths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(status, area) per RLE: :func:`rle_statuses`' status, and the number of pixels in the
    mask, which for a status of 0 is exactly what pycocotools' ``mask.area`` returns (the same
    runs, summed; tests/test_validate_rledecode.py). The checks decode every string anyway:
    keeping the areas spares the scorer decoding each one again."""
    h = np.asarray(heights, dtype=np.int64)
    w = np.asarray(widths, dtype=np.int64)
    # a side of 0 pixels: pycocotools' rleToBbox divides by the height
    bad_size = (h < 1) | (w < 1) | (h > MAX_IMAGE_PIXELS) | (w > MAX_IMAGE_PIXELS)
    total = np.where(bad_size, 0, h * w)
    bad_size |= total > MAX_IMAGE_PIXELS
    decoded = rledecode.decode_counts_bulk(counts, np.where(bad_size, -1, total))
    status = decoded.status.astype(np.int16)
    status[bad_size] = BAD_SIZE
    return status, decoded.area


def compressed_rle_columns(segs: list[Any]) -> tuple[list[str], list[list[int]], np.ndarray] | None:
    """``(counts, sizes, hw)`` when every entry is ``{"size": [int, int], "counts": str}``
    (``hw`` the sizes as an int64 (N, 2) array), else None: the bulk readers' fast path, which
    leaves anything unusual to a per-item reader that names the item."""
    if not segs or set(map(type, segs)) != {dict}:
        return None
    try:
        counts = list(map(itemgetter("counts"), segs))
        sizes = list(map(itemgetter("size"), segs))
    except KeyError:
        return None
    if set(map(type, counts)) != {str} or set(map(type, sizes)) != {list} or set(map(len, sizes)) != {2}:
        return None
    flat = list(chain.from_iterable(sizes))
    if set(map(type, flat)) != {int}:  # bools, floats
        return None
    try:  # fromiter: half the time of np.array on a list of lists
        hw = np.fromiter(flat, dtype=np.int64, count=len(flat)).reshape(-1, 2)
    except OverflowError:
        return None
    return counts, sizes, hw


def rle_fault(counts: Any, size: Any) -> tuple[str, str]:
    """Why one compressed RLE is unusable: ``(field, reason)``, the field being ``size`` or
    ``counts`` (for a message; call it for an RLE :func:`rle_statuses` refused)."""
    if not (isinstance(size, list) and len(size) == 2 and all(is_int(v) for v in size)):
        return "size", f"{short(size)} is not [height, width]"
    h, w = size
    if h < 1 or w < 1 or h * w > MAX_IMAGE_PIXELS:
        return "size", f"[{short(h)}, {short(w)}] is not a usable image size"
    if not isinstance(counts, str):
        return "counts", "is not a string"
    return "counts", rledecode.describe_counts_fault(counts, h, w)


def uncompressed_rle_problem(seg: dict[str, Any], height: int | None, width: int | None) -> str | None:
    """Why an uncompressed RLE (``counts`` a list of run lengths) is unusable, or None."""
    size = seg.get("size")
    if not (isinstance(size, list) and len(size) == 2 and all(is_int(v) and v >= 0 for v in size)):
        return f"segmentation.size: expected [height, width], got {short(size)}"
    h, w = size
    if h * w > MAX_IMAGE_PIXELS:
        return f"segmentation.size: [{h}, {w}] is above the limit of {MAX_IMAGE_PIXELS:,} pixels"
    runs = seg["counts"]
    if not all(is_int(v) and 0 <= v <= _UINT32_MAX for v in runs):
        bad = next(v for v in runs if not (is_int(v) and 0 <= v <= _UINT32_MAX))
        return f"segmentation.counts: run {short(bad)} is not a run length (an integer from 0 to 2**32 - 1)"
    if sum(runs) != h * w:
        return f"segmentation.counts: the runs sum to {sum(runs):,} pixels, not height x width = {h * w:,}"
    return None


def polygon_problem(seg: Any, height: int, width: int) -> str | None:
    """Why a COCO polygon list cannot be rasterised safely, or None.

    Each part must be a flat list of an even number (at least 6: three points) of finite
    coordinates lying within :data:`POLYGON_MARGIN` image sides of the image. Such a polygon is
    given to pycocotools unchanged, so its mask is exactly the official one; anything else is
    refused, not clipped: clipping would change a mask the official evaluation never draws
    (it crashes or fails on it).
    """
    if not isinstance(seg, list) or not seg:
        return "segmentation: an empty polygon list"
    x_lo, x_hi = -POLYGON_MARGIN * width, (1 + POLYGON_MARGIN) * width
    y_lo, y_hi = -POLYGON_MARGIN * height, (1 + POLYGON_MARGIN) * height
    for k, part in enumerate(seg):
        where = f"segmentation[{k}]"
        if not isinstance(part, list):
            return f"{where}: expected a list of coordinates, got {short(part)}"
        if len(part) < 6 or len(part) % 2:
            return (f"{where}: {len(part)} coordinates; a polygon needs an even number of them, "
                    "at least 6 (three points)")
        try:
            xy = np.asarray(part, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            bad = next((v for v in part if not _is_float_like(v)), part[0])
            return f"{where}: coordinate {short(bad)} is not a number"
        if xy.ndim != 1 or any(isinstance(v, bool) for v in part):
            return f"{where}: coordinates must be numbers"
        if not np.isfinite(xy).all():
            bad_i = int(np.flatnonzero(~np.isfinite(xy))[0])
            return f"{where}: coordinate {bad_i} is {part[bad_i]!r}; coordinates must be finite"
        x, y = xy[0::2], xy[1::2]
        if x.min() < x_lo or x.max() > x_hi or y.min() < y_lo or y.max() > y_hi:
            return (f"{where}: a point lies far outside the {width} x {height} image "
                    f"(x {x.min():.6g}..{x.max():.6g}, y {y.min():.6g}..{y.max():.6g}); "
                    "pycocotools cannot rasterise it safely")
    return None


def _is_float_like(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        float(value)
    except OverflowError:
        return False
    return True
