"""Warnings: things that do not make a submission invalid but change or risk its score.

Duplicates and score ties, fields pycocotools ignores or misreads (``bbox``), and ids that
look like another numbering (file-name numbers, SceneParse150 or full-ADE20K classes).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..catalog import Catalog
from .category_schemes import FULL_ADE20K, SCENEPARSE150
from .checks import TIE_FRACTION, distinct
from .images import FileNumberEvidence
from .report import ProblemCollector
from .scan import Columns, short_repr

# Area ranges of the evaluation (inclusive at both ends, as pycocotools compares).
AREA_RANGES = {"small": (0, 32**2), "medium": (32**2, 96**2), "large": (96**2, 1e10)}


def check_duplicates_and_ties(cols: Columns, out: ProblemCollector) -> dict[str, int]:
    """duplicate (same image, category, mask, score) and score-ties (same image, category, score).

    One stable sort by (image, category, score) finds the tie groups; duplicates can only be
    inside them, so masks are compared only there.
    """
    sel = np.flatnonzero(cols.image_ok & cols.category_ok & cols.score_ok)
    if sel.size < 2:
        return {"duplicates": 0, "tied_predictions": 0}
    iid, cid, score = cols.image_id[sel], cols.category_id[sel], cols.score[sel]
    if cid.min() >= 0 and cid.max() < (1 << 20) and np.abs(iid).max() < (1 << 42):
        order = np.lexsort((score, (iid << 20) | cid))  # one key for (image, category)
    else:
        order = np.lexsort((score, cid, iid))  # stable: equal keys stay in file order
    iid, cid, score = iid[order], cid[order], score[order]
    same = np.zeros(sel.size, dtype=bool)
    same[1:] = (iid[1:] == iid[:-1]) & (cid[1:] == cid[:-1]) & (score[1:] == score[:-1])
    tied_pos = np.flatnonzero(same | np.append(same[1:], False))  # members of tie groups
    earlier: dict[int, int] = {}  # duplicate item -> the earlier item it repeats
    if tied_pos.size:
        items = sel[order[tied_pos]].tolist()
        starts = (~same[tied_pos]).tolist()
        first_of: dict[tuple[int, int, str], int] = {}
        for item, start in zip(items, starts, strict=True):
            if start:
                first_of.clear()
            counts = cols.counts[item]
            if counts is None or not cols.size_ok[item]:
                continue
            key = (int(cols.height[item]), int(cols.width[item]), counts)
            first = first_of.setdefault(key, item)
            if first != item:
                earlier[item] = first
    duplicates = np.array(sorted(earlier), dtype=np.int64)
    out.add_many(
        "duplicate",
        duplicates,
        lambda i: (
            f"item {i} repeats item {earlier[i]} (same image, category, mask and score): a sure false positive",
            int(cols.image_id[i]),
            None,
        ),
    )
    # Ties: predictions of one image and category with equal scores, duplicates left out.
    is_dup = np.zeros(cols.n, dtype=bool)
    is_dup[duplicates] = True
    real = ~is_dup[sel[order]]
    group = np.cumsum(~same) - 1
    per_group = np.bincount(group, weights=real.astype(np.float64)).astype(np.int64)
    tied_groups = np.flatnonzero(per_group > 1)
    tied = int(per_group[tied_groups].sum())
    if tied >= max(2, TIE_FRACTION * sel.size):
        members = np.sort(sel[order[np.flatnonzero((group == tied_groups[0]) & real)]])
        a, b = int(members[0]), int(members[1])
        out.add(
            "score-ties",
            f"{tied} predictions ({100 * tied / sel.size:.1f}%) share their score with another "
            f"prediction of the same image and category (e.g. items {a} and {b}, score "
            f"{float(cols.score[a])!r}); pycocotools then ranks them by file order, so reordering the "
            "file changes the score",
            b,
            int(cols.image_id[a]),
            "score",
        )
    return {"duplicates": int(duplicates.size), "tied_predictions": tied}


def _is_number(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return True  # math.isfinite() raises OverflowError on ints beyond float range
    return isinstance(v, float) and math.isfinite(v)


def _fits_float(v: int | float) -> bool:
    """A number :func:`_is_number` accepted that also converts to a float (a JSON integer can
    have hundreds of digits; ``float()`` raises OverflowError beyond about 1.8e308)."""
    try:
        float(v)
    except OverflowError:
        return False
    return True


def _range_membership(area: np.ndarray) -> np.ndarray:
    return np.stack([(area >= lo) & (area <= hi) for lo, hi in AREA_RANGES.values()], axis=1)


def check_extra_fields(items: list[Any], cols: Columns, mask_ok: np.ndarray, area: np.ndarray, out: ProblemCollector) -> bool:
    """unknown-field and bbox-present (plus bbox faults when pycocotools reads boxes).

    Returns True when pycocotools' loadRes takes areas from boxes: it decides that from the
    first item only (``'bbox' in anns[0] and anns[0]['bbox'] != []``).
    """
    first = items[0] if items else None
    uses_boxes = isinstance(first, dict) and "bbox" in first and first["bbox"] != []
    for i, keys in sorted(cols.extra_keys.items()):
        for key in keys:
            if key == "bbox":
                if not uses_boxes:
                    out.add("bbox-present", f"item {i} has a bbox; pycocotools ignores it (item 0 has none)", i, _img(cols, i), "bbox")
                continue
            note = ""
            if key == "caption" and i == 0:
                note = " (pycocotools' loadRes then reads the whole file as captions and fails)"
            out.add("unknown-field", f"item {i} has an unknown field '{short_repr(key)[1:-1]}'{note}", i, _img(cols, i), key)
    if not uses_boxes:
        return False
    box_area = np.full(cols.n, np.nan)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        box = item.get("bbox", _MISSING)
        if box is _MISSING:
            out.add(
                "missing-field",
                f"item {i} has no bbox, but item 0 has one, so pycocotools' loadRes reads every "
                "item's bbox and fails here",
                i, _img(cols, i), "bbox",
            )
        elif not (isinstance(box, list) and len(box) == 4 and all(map(_is_number, box))):
            out.add("bad-type", f"item {i}: bbox must be [x, y, width, height], got {short_repr(box)}", i, _img(cols, i), "bbox")
        elif not all(map(_fits_float, box)):
            out.add("bad-type", f"item {i}: bbox holds a number too large for a float, got {short_repr(box)}",
                    i, _img(cols, i), "bbox")
        else:
            box_area[i] = float(box[2]) * float(box[3])
    both = mask_ok & ~np.isnan(box_area)
    moved = int((_range_membership(area[both]) != _range_membership(box_area[both])).any(axis=1).sum())
    out.add(
        "bbox-present",
        f"item 0 has a bbox, so pycocotools' loadRes takes every prediction's area from its box "
        f"(width × height) instead of its mask: {moved} of {int(both.sum())} predictions change "
        "area range, which changes AP and AR small/medium/large (mean AP over all areas does not "
        "change)",
        0, _img(cols, 0), "bbox",
    )
    return True


_MISSING = object()


def _img(cols: Columns, i: int) -> int | None:
    return int(cols.image_id[i]) if i < cols.n and cols.image_ok[i] else None


def check_category_scheme(cols: Columns, catalog: Catalog, out: ProblemCollector) -> None:
    used = set(distinct(cols.category_id[cols.category_ok]).tolist())
    if not used:
        return
    sp_inverse = {v: k for k, v in SCENEPARSE150.items()}
    full_inverse = {v: k for k, vs in FULL_ADE20K.items() for v in vs}
    outside = sorted(used - set(range(1, 101)))
    scheme = None
    if used <= set(sp_inverse) and (outside or len(used) >= 20):
        scheme, inverse = "SceneParse150 class ids", sp_inverse
    elif used <= set(full_inverse) and max(used) > 150:
        scheme, inverse = "full-ADE20K ids", full_inverse
    if scheme is not None:
        example = (outside or sorted(used))[0]
        target = inverse[example]
        out.add(
            "category-id-scheme",
            f"the {len(used)} category ids used all look like {scheme} ({len(outside)} of them are "
            f"above 100): e.g. {example} is '{catalog.category_name(target)}', challenge id {target}",
            None, None, "category_id",
        )
    elif 0 in used and max(used) <= 99 and len(used) >= 5:
        out.add(
            "category-id-scheme",
            f"category ids run from 0 to {max(used)}: they look 0-based (add 1: the challenge's ids are 1..100)",
            None, None, "category_id",
        )


def report_file_numbers(evidence: FileNumberEvidence, out: ProblemCollector) -> None:
    ex = evidence.example
    sizes = ""
    if evidence.size_matches_as_number or evidence.size_matches_as_id:
        sizes = (
            f"; mask sizes fit {evidence.size_matches_as_number} predictions read as file numbers "
            f"and {evidence.size_matches_as_id} read as ids"
        )
    out.add(
        "image-id-is-file-number",
        f"{evidence.items} predictions have image ids that are {evidence.split} file-name numbers "
        f"(e.g. {ex.file_number} for {ex.file_name}, whose id is {ex.id}){sizes}: "
        f"use the id of the file_name in imgCatIds.json",
        None, None, "image_id",
    )
