"""The bulk loader: submission columns built without a per-item loop, JSON parsed with the
garbage collector paused (falling back to the per-item loader, :mod:`.items`, for its precise
messages).

Parsing 200k predictions creates millions of containers; CPython's cyclic collector then runs
hundreds of useless passes over them. Pausing it halves ``json.loads`` time and changes nothing
else (the parsed objects hold no cycles).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from ..jsonio import in_worker_thread, paused_gc, read_json_file, release_in_pieces
from ..safety.masks import compressed_rle_columns, rle_checks, rle_statuses
from .items import submission_from_items
from .model import Submission, first_item_uses_bbox
from .shapes import KIND_BOX, KIND_POLYGON, BoxPolygon, placeholder

_FIELDS = ("image_id", "category_id", "segmentation", "score")


def _types(values: list[Any]) -> set[type]:
    return set(map(type, values))


@dataclass
class Columns:
    """What the bulk path extracts from a list of items (also shipped by the split loader)."""

    image_ids: np.ndarray
    category_ids: np.ndarray
    scores: np.ndarray
    segs: list[Any]  # the items' segmentation dicts, as parsed
    counts: list[str]
    sizes: list[Any]  # each a list of two non-negative ints
    hw: np.ndarray  # int64 (N, 2): the sizes as an array
    bboxes: np.ndarray | None
    extra: set[str]
    areas: np.ndarray  # int64 (N,): each mask's pixel count, as pycocotools' mask.area gives it


def bulk_columns(items: list[Any], source: str, first_has_bbox: bool | None = None) -> Submission | None:
    """Columns without a per-item Python loop of checks; None when anything looks unusual.

    ``first_has_bbox``: whether the file's first item has a bbox, when ``items`` is a later
    part of the file (pycocotools decides box areas from the first item).
    """
    if not items:
        return None
    use_bbox = first_item_uses_bbox(items[0]) if first_has_bbox is None else first_has_bbox
    bbox = "required" if use_bbox else "no"
    # In a worker thread (the GUI's) the columns are built a piece at a time: each whole-list
    # operation on 200k items holds the GIL for 10-20 ms, a stutter in the window each time.
    cols = extract_columns_in_pieces(items, bbox) if in_worker_thread() else extract_columns(items, bbox)
    if cols is None:
        # the box path also takes polygons and items without a mask (drawn later: .shapes)
        if not use_bbox:
            return None
        with paused_gc():  # 200k polygon lists in hand: a full collection would walk them all
            return box_path_columns(items, source)
    # The segmentation dicts are used as they are: pycocotools reads only 'size' and 'counts'.
    return Submission(cols.image_ids, cols.category_ids, cols.scores, cols.segs, cols.bboxes, source, cols.extra,
                      mask_sizes=cols.hw, mask_areas=cols.areas)


def extract_columns(items: list[Any], bbox: str) -> Columns | None:
    """The bulk path's columns and checks; None when anything looks unusual.

    ``bbox``: "required" (None unless every item has a usable box), "no" (boxes not read) or
    "if_usable" (box column when every item has a usable one, else no box column: the split
    loader's helper does not know the file's first item).
    """
    if not items or _types(items) != {dict}:
        return None
    lengths = set(map(len, items))
    try:
        image_ids = list(map(itemgetter("image_id"), items))
        category_ids = list(map(itemgetter("category_id"), items))
        scores = list(map(itemgetter("score"), items))
        segs = list(map(itemgetter("segmentation"), items))
    except KeyError:
        return None
    if _types(image_ids) != {int} or _types(category_ids) != {int}:
        return None
    if not _types(scores) <= {int, float} or _types(segs) != {dict}:
        return None
    rle_columns = compressed_rle_columns(segs)
    if rle_columns is None:
        return None  # not every mask a {size: [int, int], counts: str}: the per-item loader says which
    counts, sizes, hw = rle_columns
    numbers = _number_columns(image_ids, category_ids, scores)
    if numbers is None:
        return None
    img, cat, sc = numbers
    # Every mask (a negative or zero size included) checked before pycocotools sees it (its decoder hangs or reads past the end of
    # a bad string): any fault and the per-item loader names the item.
    status, areas = rle_checks(counts, hw[:, 0], hw[:, 1])
    if status.any():
        return None
    # Same rule as the per-item loader (and pycocotools' loadRes): the first item decides.
    bboxes = None
    if bbox != "no":
        bboxes = _bbox_column(items)
        if bboxes is None and bbox == "required":
            return None
    extra: set[str] = set()
    if max(lengths) > 4:
        for it in items:
            if len(it) > 4:
                extra.update(k for k in it if k not in _FIELDS)
    return Columns(img, cat, sc, segs, counts, sizes, hw, bboxes, extra, areas)


def extract_columns_in_pieces(items: list[Any], bbox: str, piece: int = 16384) -> Columns | None:
    """:func:`extract_columns` on slices of ``items``, joined: the same columns and the same
    verdict (every check is per item), in GIL holds of a few milliseconds."""
    if len(items) <= 2 * piece:
        return extract_columns(items, bbox)
    parts = []
    for start in range(0, len(items), piece):
        cols = extract_columns(items[start:start + piece], bbox)
        if cols is None:
            return None
        parts.append(cols)
    if bbox == "if_usable" and any(p.bboxes is None for p in parts):
        bboxes = None  # a box column only when every item has a usable box
    else:
        bboxes = None if parts[0].bboxes is None else np.concatenate([p.bboxes for p in parts])
    return Columns(
        np.concatenate([p.image_ids for p in parts]), np.concatenate([p.category_ids for p in parts]),
        np.concatenate([p.scores for p in parts]),
        [seg for p in parts for seg in p.segs], [c for p in parts for c in p.counts],
        [sz for p in parts for sz in p.sizes], np.concatenate([p.hw for p in parts]), bboxes,
        set().union(*(p.extra for p in parts)), np.concatenate([p.areas for p in parts]),
    )


def _bbox_column(items: list[Any]) -> np.ndarray | None:
    try:
        boxes = list(map(itemgetter("bbox"), items))
    except KeyError:
        return None
    if _types(boxes) != {list} or set(map(len, boxes)) != {4}:
        return None
    try:
        column = np.array(boxes, dtype=np.float64)
    except (TypeError, ValueError, OverflowError):
        return None
    return column if np.isfinite(column).all() else None  # the per-item loader names a NaN box


_ABSENT = object()


def box_path_columns(items: list[Any], source: str) -> Submission | None:
    """The box path's bulk columns when every mask is a polygon list, absent (the box is the
    mask) or a compressed RLE; None when anything looks unusual (then the per-item loader
    says what). Polygons and boxes wait for their image's size (:func:`.shapes.rasterise`)."""
    if _types(items) != {dict}:
        return None
    try:
        image_ids = list(map(itemgetter("image_id"), items))
        category_ids = list(map(itemgetter("category_id"), items))
        scores = list(map(itemgetter("score"), items))
    except KeyError:
        return None
    if _types(image_ids) != {int} or _types(category_ids) != {int} or not _types(scores) <= {int, float}:
        return None
    segs = [it.get("segmentation", _ABSENT) for it in items]
    kinds = np.fromiter((2 if s is _ABSENT else 1 if type(s) is list else 0 for s in segs), dtype=np.int8,
                        count=len(segs))
    rle_at = np.flatnonzero(kinds == 0).tolist()
    rle_columns = compressed_rle_columns([segs[i] for i in rle_at]) if rle_at else ([], [], np.zeros((0, 2), np.int64))
    bboxes = _bbox_column(items)
    if rle_columns is None or bboxes is None:
        return None
    numbers = _number_columns(image_ids, category_ids, scores)
    if numbers is None:
        return None
    img, cat, sc = numbers
    counts, _, hw_rle = rle_columns
    if rle_at and rle_statuses(counts, hw_rle[:, 0], hw_rle[:, 1]).any():
        return None
    hw = np.zeros((len(items), 2), dtype=np.int64)
    hw[rle_at] = hw_rle
    stand_in = placeholder()
    rles: list[Any] = [stand_in if k else s for k, s in zip(kinds.tolist(), segs, strict=True)]
    pending: dict[int, Any] = {i: segs[i] for i in np.flatnonzero(kinds == 1).tolist()}
    box_at = np.flatnonzero(kinds == 2)
    if box_at.size:  # loadRes: [[x1, y1, x1, y2, x2, y2, x2, y1]], x2 = x + w, y2 = y + h
        x1, y1, w, h = bboxes[box_at].T
        corners = np.stack([x1, y1, x1, y1 + h, x1 + w, y1 + h, x1 + w, y1], axis=1).tolist()
        pending.update(zip(box_at.tolist(), (BoxPolygon([c]) for c in corners), strict=True))
    extra = set(chain.from_iterable(items)).difference(_FIELDS)  # every key of every item, in C
    mask_kinds = {name: n for name, n in ((KIND_POLYGON, len(pending) - box_at.size), (KIND_BOX, int(box_at.size)))
                  if n}
    return Submission(img, cat, sc, rles, bboxes, source, extra, mask_sizes=hw, mask_kinds=mask_kinds,
                      pending_polygons=pending)


def submission_from_parsed(items: Any, source: str = "<memory>") -> Submission:
    """Columns from parsed JSON: the bulk path, or the per-item loader (which names the fault)."""
    if isinstance(items, list):
        fast = bulk_columns(items, source)
        if fast is not None:
            return fast
    with paused_gc():
        return submission_from_items(items, source=source)


def load_in_one_process(path: str | os.PathLike[str]) -> Submission:
    """Read a submission file into columns in this process (see :func:`submission_from_parsed`);
    :func:`placeseg_core.submissions.load_submission` is the public entry."""
    items = read_json_file(path)
    sub = submission_from_parsed(items, source=str(path))
    # the item dicts (not their segmentations, which the columns keep) go now; in a worker
    # thread a piece at a time, so that freeing 200k of them does not hold the GIL for ~50 ms
    if in_worker_thread():
        release_in_pieces(items)
    return sub


def _number_columns(image_ids: list[Any], category_ids: list[Any],
                    scores: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The id and score columns as int64 / float64, or None when one does not fit (too large,
    not a number) or a score is not finite: then the per-item loader says which item."""
    try:
        img = np.array(image_ids, dtype=np.int64)
        cat = np.array(category_ids, dtype=np.int64)
        sc = np.array(scores, dtype=np.float64)
    except (OverflowError, TypeError, ValueError):
        return None
    return (img, cat, sc) if np.isfinite(sc).all() else None
