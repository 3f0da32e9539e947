"""The per-item structural check: every item's fields, types and values, into columns.

Items are taken in chunks. A chunk whose items all have the expected shape is checked with a
few C-level passes (``map``, ``itemgetter``, ``set`` of types, numpy conversion); any chunk
that fails them is checked item by item, which finds and locates every problem. A single bad
item therefore costs one chunk of slow checks, not a slow run over 200k items.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from .report import ProblemCollector

REQUIRED = ("image_id", "category_id", "segmentation", "score")
_REQUIRED_SET = frozenset(REQUIRED)
_SEG_KEYS = frozenset(("size", "counts"))
_INT64_MAX = (1 << 63) - 1
_SIZE_MAX = 1 << 31  # larger than any image; keeps height * width inside int64
CHUNK_ITEMS = 4096

_get_image_id = itemgetter("image_id")
_get_category_id = itemgetter("category_id")
_get_segmentation = itemgetter("segmentation")
_get_score = itemgetter("score")
_get_size = itemgetter("size")
_get_counts = itemgetter("counts")
_short = reprlib.Repr()
_short.maxstring = 40
_short.maxother = 40
_short.maxlong = 40
_short.maxlevel = 2
_short.maxlist = 4
_short.maxdict = 3


def short_repr(value: Any) -> str:
    """A bounded ``repr`` (safe on deeply nested or huge values) for messages."""
    try:
        return _short.repr(value)
    except (RecursionError, ValueError):  # ValueError: ints beyond Python's digit limit
        return f"<{type(value).__name__}>"


def json_kind(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


@dataclass
class Columns:
    """The submission as columns; ``*_ok`` says where the value is usable for later checks."""

    n: int
    image_id: np.ndarray
    image_ok: np.ndarray
    category_id: np.ndarray
    category_ok: np.ndarray
    score: np.ndarray
    score_ok: np.ndarray
    height: np.ndarray
    width: np.ndarray
    size_ok: np.ndarray
    counts: list[str | None]  # the counts string where it is one, else None
    counts_ok: np.ndarray  # True where counts is a string
    counts_len: np.ndarray  # its length (taken while the strings are in cache)
    extra_keys: dict[int, list[str]] = field(default_factory=dict)  # item -> keys beyond the 4
    # item -> (kind, segmentation) of masks that are not compressed RLE, found when item 0 has a
    # bbox: the official pipeline scores them (checked against the image: validate.shapes)
    shapes: dict[int, tuple[str, Any]] = field(default_factory=dict)

    @classmethod
    def empty(cls, n: int) -> Columns:
        z64 = np.zeros(n, dtype=np.int64)
        zb = np.zeros(n, dtype=bool)
        return cls(
            n, z64.copy(), zb.copy(), z64.copy(), zb.copy(), np.zeros(n, dtype=np.float64),
            zb.copy(), z64.copy(), z64.copy(), zb.copy(), [None] * n, zb.copy(), z64.copy(),
        )


def _is_int(value: Any) -> bool:
    return type(value) is int or (isinstance(value, int) and not isinstance(value, bool))


def _fast_chunk(items: Sequence[Any], lo: int, cols: Columns) -> bool:
    """Fill ``cols[lo:lo + len(items)]`` if every item has the plain expected shape.

    Only C-level passes (``map`` with item getters, ``set`` of types, numpy conversion): about
    a tenth of the cost of checking the items one by one in Python.
    """
    k = len(items)
    if set(map(type, items)) != {dict}:
        return False
    try:
        image_ids = list(map(_get_image_id, items))
        category_ids = list(map(_get_category_id, items))
        segs = list(map(_get_segmentation, items))
        scores = list(map(_get_score, items))
    except KeyError:
        return False
    if set(map(type, image_ids)) != {int} or set(map(type, category_ids)) != {int}:
        return False
    if not set(map(type, scores)) <= {float, int} or set(map(type, segs)) != {dict}:
        return False
    if set(map(len, segs)) != {2}:
        return False
    try:
        sizes = list(map(_get_size, segs))
        counts = list(map(_get_counts, segs))
    except KeyError:
        return False
    if set(map(type, counts)) != {str} or set(map(type, sizes)) != {list} or set(map(len, sizes)) != {2}:
        return False
    flat = list(chain.from_iterable(sizes))
    if set(map(type, flat)) != {int}:
        return False
    try:
        iid = np.array(image_ids, dtype=np.int64)
        cid = np.array(category_ids, dtype=np.int64)
        sc = np.array(scores, dtype=np.float64)
        hw = np.array(flat, dtype=np.int64)
    except OverflowError:
        return False
    if not np.isfinite(sc).all() or hw.min() < 0 or hw.max() >= _SIZE_MAX:
        return False
    hi = lo + k
    cols.image_id[lo:hi] = iid
    cols.category_id[lo:hi] = cid
    cols.score[lo:hi] = sc
    cols.height[lo:hi] = hw[0::2]
    cols.width[lo:hi] = hw[1::2]
    for arr in (cols.image_ok, cols.category_ok, cols.score_ok, cols.size_ok, cols.counts_ok):
        arr[lo:hi] = True
    cols.counts[lo:hi] = counts
    cols.counts_len[lo:hi] = np.fromiter(map(len, counts), dtype=np.int64, count=k)
    if set(map(len, items)) != {4}:
        for j, item in enumerate(items):
            if len(item) != 4:
                cols.extra_keys[lo + j] = [str(key) for key in item if key not in _REQUIRED_SET]
    return True


def _check_int_field(i: int, item: dict[str, Any], key: str, out: ProblemCollector) -> int | None:
    value = item.get(key, _MISSING)
    where = f"item {i}"
    if value is _MISSING:
        out.add("missing-field", f"{where} has no '{key}'", i, None, key)
        return None
    if not _is_int(value):
        hint = ""
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            hint = f": write {int(value)} without the decimal point"
        elif isinstance(value, str) and value.strip().lstrip("-").isdigit():
            hint = ": write the number without quotes"
        out.add("bad-type", f"{where}: {key} must be an integer, got {json_kind(value)} {short_repr(value)}{hint}", i, None, key)
        return None
    if not -_INT64_MAX <= value <= _INT64_MAX:
        code = "unknown-image" if key == "image_id" else "unknown-category"
        out.add(code, f"{where}: {key} {short_repr(value)} is far out of range", i, None, key)
        return None
    return value


_MISSING = object()


def _slow_item(i: int, item: Any, cols: Columns, out: ProblemCollector, boxes: bool = False) -> None:
    """Check one item field by field, recording every problem it has."""
    if not isinstance(item, dict):
        out.add("not-an-object", f"item {i} is {json_kind(item)} {short_repr(item)}, expected an object", i)
        return
    iid = _check_int_field(i, item, "image_id", out)
    if iid is not None:
        cols.image_id[i], cols.image_ok[i] = iid, True
    cid = _check_int_field(i, item, "category_id", out)
    if cid is not None:
        cols.category_id[i], cols.category_ok[i] = cid, True
    image_id = iid
    score = item.get("score", _MISSING)
    if score is _MISSING:
        out.add("missing-field", f"item {i} has no 'score'", i, image_id, "score")
    elif isinstance(score, bool) or not isinstance(score, (int, float)):
        out.add("bad-score", f"item {i}: score must be a number, got {json_kind(score)} {short_repr(score)}", i, image_id, "score")
    else:
        try:
            as_float = float(score)
        except OverflowError:
            as_float = math.inf
        if not math.isfinite(as_float):
            what = "NaN" if as_float != as_float else ("a number too large for a float" if isinstance(score, int) else short_repr(score))
            out.add("bad-score", f"item {i}: score is {what}, not a finite number", i, image_id, "score")
        else:
            cols.score[i], cols.score_ok[i] = as_float, True
    seg = item.get("segmentation", _MISSING)
    if boxes and (seg is _MISSING or isinstance(seg, list)):
        # item 0 has a bbox: pycocotools scores a box-only item's box, and polygons (both drawn
        # at the image's size); reported with what it does once the image is known
        cols.shapes[i] = ("box only", None) if seg is _MISSING else ("polygon", seg)
    elif seg is _MISSING:
        out.add("missing-field", f"item {i} has no 'segmentation'", i, image_id, "segmentation")
    elif not isinstance(seg, dict):
        hint = ""
        if isinstance(seg, list):
            hint = (" (polygons: pycocotools' loadRes takes each area with mask.area, which reads only "
                    "compressed RLE, and fails with a TypeError; only when item 0 has a non-empty bbox "
                    "does it take areas from the boxes and rasterise polygons at the image's size. "
                    "Encode the mask as RLE: the challenge's format)")
        out.add("bad-type", f"item {i}: segmentation must be an object {{size, counts}}, got {json_kind(seg)}{hint}", i, image_id, "segmentation")
    else:
        _slow_segmentation(i, seg, image_id, cols, out, boxes)
    if len(item) != 4 or not _REQUIRED_SET.issubset(item):
        extra = [str(key) for key in item if key not in _REQUIRED_SET]
        if extra:
            cols.extra_keys[i] = extra


def _slow_segmentation(i: int, seg: dict[str, Any], image_id: int | None, cols: Columns, out: ProblemCollector,
                       boxes: bool = False) -> None:
    size = seg.get("size", _MISSING)
    counts = seg.get("counts", _MISSING)
    if size is _MISSING:
        out.add("missing-field", f"item {i} has no 'segmentation.size'", i, image_id, "segmentation.size")
    elif not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) and 0 <= v < _SIZE_MAX for v in size)):
        out.add(
            "bad-type",
            f"item {i}: segmentation.size must be [height, width], two non-negative integers, got {short_repr(size)}",
            i, image_id, "segmentation.size",
        )
    else:
        cols.height[i], cols.width[i], cols.size_ok[i] = size[0], size[1], True
    if counts is _MISSING:
        out.add("missing-field", f"item {i} has no 'segmentation.counts'", i, image_id, "segmentation.counts")
    elif isinstance(counts, str):
        cols.counts[i] = counts
        cols.counts_ok[i] = True
        cols.counts_len[i] = len(counts)
    elif isinstance(counts, list) and boxes and size is not _MISSING:
        cols.shapes[i] = ("uncompressed RLE", seg)  # compressed at its size and scored: see above
    elif isinstance(counts, list):
        out.add(
            "bad-rle",
            f"item {i}: segmentation.counts is a list of run lengths (uncompressed RLE); "
            "pycocotools' loadRes reads only the compressed string",
            i, image_id, "segmentation.counts",
        )
    else:
        out.add("bad-rle", f"item {i}: segmentation.counts must be a string, got {json_kind(counts)}", i, image_id, "segmentation.counts")
    for key in seg:
        if key not in _SEG_KEYS:
            out.add("unknown-field", f"item {i}: segmentation has an unknown field '{short_repr(key)[1:-1]}'", i, image_id, f"segmentation.{key}")


def scan_items(
    items: list[Any],
    out: ProblemCollector,
    progress: Callable[[int, int], None] | None = None,
    check_cancel: Callable[[], None] | None = None,
) -> Columns:
    """Structural checks of every item; returns the columns for the cross-item checks."""
    n = len(items)
    cols = Columns.empty(n)
    # pycocotools' loadRes rule: a bbox on item 0 (not []) sends every item down the box path
    first = items[0] if items else None
    boxes = isinstance(first, dict) and "bbox" in first and first["bbox"] != []
    for lo in range(0, n, CHUNK_ITEMS):
        chunk = items[lo : lo + CHUNK_ITEMS]
        if not _fast_chunk(chunk, lo, cols):
            for j, item in enumerate(chunk):
                _slow_item(lo + j, item, cols, out, boxes)
        if progress:
            progress(min(lo + CHUNK_ITEMS, n), n)
        if check_cancel:
            check_cancel()
    return cols
