"""Masks given as polygons, uncompressed RLE or only a box, turned into what pycocotools scores.

The challenge asks for compressed RLE, but the official pipeline scores more. ``loadRes``
decides from item 0 alone: when it has a ``bbox`` that is not ``[]``, every item goes down the
box branch -- ``area`` = w*h of its box, a missing ``segmentation`` becomes the box's four-corner
polygon -- and ``COCOeval._prepare`` then converts each mask with ``COCO.annToRLE`` at its
image's height and width from the ground truth: polygons by ``mask.frPyObjects`` and
``mask.merge`` (all parts into one mask), uncompressed RLE by ``frPyObjects`` at its own
``size``. Without a box on item 0 ``loadRes`` calls ``mask.area``, which reads only compressed
RLE, and fails with a TypeError on anything else (the per-item loader says so).

:mod:`.draw` makes the same pycocotools calls to the same compressed RLEs (bit for bit: they are its own
functions, given the same numbers), after every shape is checked (:mod:`..safety.masks`): a NaN,
an infinite or far-away coordinate crashes pycocotools' rasteriser. What pycocotools' dispatch in
``frPyObjects`` does with odd shapes decides the rest: a first part of 4 numbers is read as a box
and fails (TypeError in ``frBbox``), fewer than 4 fails too; a part of odd length loses its last
coordinate, a later part of fewer than 6 coordinates draws a degenerate outline -- both are
scored as pycocotools scores them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ..rle import RLE
from ..safety.masks import polygon_problem, uncompressed_rle_problem
from ..safety.numbers import short
from .model import Submission

KIND_POLYGON = "polygon"
KIND_UNCOMPRESSED = "uncompressed RLE"
KIND_BOX = "box only"
#: Where an item's mask is still to be drawn (its image's size is not known yet).
PLACEHOLDER_SIZE = (0, 0)


_PLACEHOLDER: RLE = {"size": list(PLACEHOLDER_SIZE), "counts": ""}


def placeholder() -> RLE:
    """What stands in ``Submission.rles`` for a polygon until :func:`rasterise` draws it: one
    shared object (never changed; ``rasterise`` replaces it), so 200k of them cost nothing."""
    return _PLACEHOLDER


class BoxPolygon(list):
    """The polygon list of an item without ``segmentation`` (so messages name its bbox)."""


def box_polygon(box: list[float]) -> BoxPolygon:
    """loadRes' polygon for an item without ``segmentation``: ``[[x1, y1, x1, y2, x2, y2, x2, y1]]``
    with ``x2 = x + w`` and ``y2 = y + h`` (float64 sums: what pycocotools' doubles hold)."""
    x1, y1 = box[0], box[1]
    x2, y2 = box[0] + box[2], box[1] + box[3]
    return BoxPolygon([[x1, y1, x1, y2, x2, y2, x2, y1]])


def not_rle_message(kind: str) -> str:
    """Why a non-RLE mask fails when item 0 has no bbox, and how to fix it (one sentence)."""
    return (f"{kind}, not a compressed RLE: item 0 has no bbox, so pycocotools' loadRes computes each "
            "area with mask.area, which reads only compressed RLE, and fails (TypeError); encode the masks "
            "as compressed RLE, the challenge's format (pycocotools.mask.encode; polygons: frPyObjects + "
            "merge), or give every item its bbox: the official pipeline then draws them at the image's size")


def compress_uncompressed(seg: dict[str, Any]) -> RLE:
    """An uncompressed RLE (``counts`` a list of runs) compressed at its own ``size``, as
    ``annToRLE`` does; :class:`ValueError` with ``"field: reason"`` when it is unusable (runs
    that are not 32-bit run lengths or do not sum to height x width)."""
    problem = uncompressed_rle_problem(seg, None, None)
    if problem is not None:
        raise ValueError(problem)
    clean = {"size": [int(v) for v in seg["size"]], "counts": seg["counts"]}
    out = mask_utils.frPyObjects(clean, *clean["size"])
    return {"size": clean["size"], "counts": out["counts"].decode("ascii")}


def polygon_fault(seg: Any, height: int, width: int) -> str | None:
    """``"field: reason"`` when pycocotools would fail on (or crash at) these polygons drawn at
    ``height x width``, else None. Follows ``frPyObjects``' dispatch on the first part."""
    if not isinstance(seg, list) or not seg:
        return "segmentation: an empty polygon list (pycocotools fails on it)"
    for k, part in enumerate(seg):
        where = f"segmentation[{k}]"
        if not isinstance(part, list):
            return (f"{where}: expected a list of coordinates [x1, y1, x2, y2, ...], got {short(part)} "
                    "(polygons are a list of such lists)")
        if k == 0 and len(part) <= 4:
            how = ("reads a first part of 4 numbers as a box and fails on it (TypeError)" if len(part) == 4
                   else "fails on it ('input type is not supported')")
            return f"{where}: {len(part)} coordinates; pycocotools {how}: a polygon needs at least 3 points"
        try:  # what frPoly does first: np.array(part, dtype=double)
            values = np.asarray(part, dtype=np.float64)
        except (TypeError, ValueError, OverflowError):
            bad = next((v for v in part if not _converts(v)), part[0])
            return f"{where}: coordinate {short(bad)} is not a number"
        if values.ndim != 1:
            return f"{where}: coordinates must be numbers, not lists (pycocotools fails on it)"
        read = values[: len(part) - len(part) % 2].tolist()  # frPoly reads len // 2 points
        if not read:
            continue
        # polygon_problem wants 3 points: repeating the first one changes no bound
        padded = read + read[:2] * max(0, (6 - len(read)) // 2)
        problem = polygon_problem([padded], height, width)
        if problem is not None:
            return where + problem.removeprefix("segmentation[0]")
    return None


def _converts(value: Any) -> bool:
    try:
        np.asarray([value], dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def image_sizes(images: Any) -> dict[int, tuple[int, int] | None]:
    """``image id -> (height, width)`` from a COCO ``images`` list (None where either is missing
    or not a positive integer); a later image with the same id wins, as in pycocotools' index."""
    out: dict[int, tuple[int, int] | None] = {}
    for im in images if isinstance(images, list) else ():
        if not isinstance(im, dict) or not isinstance(im.get("id"), int):
            continue
        h, w = im.get("height"), im.get("width")
        usable = all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (h, w))
        out[im["id"]] = (h, w) if usable else None  # type: ignore[assignment]  # (rasterise checks the area)
    return out


def format_note(sub: Submission) -> str | None:
    """One line for a scored file that is not in the challenge's format, or None."""
    if not sub.mask_kinds:
        return None
    kinds = {KIND_POLYGON: "polygons", KIND_UNCOMPRESSED: "uncompressed RLE (a list of runs)",
             KIND_BOX: "a box without a mask"}
    listed = ", ".join(f"{n:,} {'is' if n == 1 else 'are'} {kinds.get(k, k)}" for k, n in sorted(sub.mask_kinds.items()))
    return (f"note: not the challenge's format (compressed RLE masks): of {len(sub):,} predictions, "
            f"{listed}; scored as the official pipeline scores them (item 0 has a bbox: every area is its "
            "box's w*h, polygons and boxes are drawn at the image's size, run lists compressed); "
            "'placeseg validate' lists them")
