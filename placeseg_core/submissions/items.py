"""The per-item loader: columns from parsed JSON, checked item by item, raising at the first
unusable item with a message that names it and the field. The bulk path
(:mod:`.columns`) falls back to it for those messages.

It checks only what scoring needs; it does not judge the file: :mod:`placeseg_core.validate`
does that, with every problem located.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..rle import RLE
from ..safety.masks import rle_fault, rle_statuses
from ..safety.numbers import MAX_IMAGE_PIXELS, as_float, is_finite_number, is_int, is_int64, short
from .model import Submission, SubmissionError, first_item_uses_bbox
from .shapes import (
    KIND_BOX,
    KIND_POLYGON,
    KIND_UNCOMPRESSED,
    box_polygon,
    compress_uncompressed,
    not_rle_message,
    placeholder,
)


def submission_from_items(items: Any, source: str = "<memory>") -> Submission:
    """Columns from parsed JSON; raises :class:`SubmissionError` at the first unusable item.

    Checks only what scoring needs to run; run the validator for a full report.
    """
    if not isinstance(items, list):
        raise SubmissionError(f"{source}: expected a JSON list of predictions, got {type(items).__name__}")
    if not items:
        raise SubmissionError(f"{source}: the submission is an empty list (pycocotools' loadRes fails on it)")
    n = len(items)
    image_ids = np.empty(n, dtype=np.int64)
    category_ids = np.empty(n, dtype=np.int64)
    scores = np.empty(n, dtype=np.float64)
    rles: list[RLE] = []
    extra: set[str] = set()
    first = items[0]
    # pycocotools' loadRes decides the kind of results from the first item only: if it has a
    # non-empty bbox, every prediction's area is taken from its box (w*h).
    use_bbox = first_item_uses_bbox(first)
    bboxes = np.zeros((n, 4), dtype=np.float64) if use_bbox else None
    kinds: dict[str, int] = {}
    pending: dict[int, Any] = {}
    for i, item in enumerate(items):
        where = f"{source}: item {i}"
        if not isinstance(item, dict):
            raise SubmissionError(f"{where}: expected an object, got {type(item).__name__}")
        # on the box path an item without segmentation is scored as its box (loadRes)
        for key in ("image_id", "category_id", "score") if use_bbox else _FIELDS:
            if key not in item:
                raise SubmissionError(f"{where}: missing field '{key}'")
        for key in ("image_id", "category_id"):
            if not is_int64(item[key]):
                raise SubmissionError(f"{where}, field {key}: expected an integer (64-bit), got {short(item[key])}")
        score = item["score"]
        if not is_finite_number(score):
            raise SubmissionError(f"{where}, field score: expected a finite number, got {short(score)}")
        image_ids[i] = item["image_id"]
        category_ids[i] = item["category_id"]
        scores[i] = score
        if bboxes is not None:
            bboxes[i] = _box(item, where)
        rle, kind = _mask(item, where, use_bbox)
        if kind is not None:
            kinds[kind] = kinds.get(kind, 0) + 1
        if rle is None:  # drawn at the image's size once it is known (draw.rasterise)
            assert bboxes is not None  # only the box path gets here
            pending[i] = item["segmentation"] if kind == KIND_POLYGON else box_polygon(bboxes[i].tolist())
            rle = placeholder()
        rles.append(rle)
        if len(item) > 4 or "segmentation" not in item:
            extra.update(k for k in item if k not in _FIELDS)
    sub = Submission(image_ids, category_ids, scores, rles, bboxes, source, extra, mask_kinds=kinds,
                     pending_polygons=pending)
    raise_on_unusable_masks(sub)
    return sub


_FIELDS = ("image_id", "category_id", "segmentation", "score")


def _box(item: dict[str, Any], where: str) -> list[float]:
    """The item's bbox as 4 finite floats (pycocotools reads every item's once item 0 has one)."""
    box = item.get("bbox")
    if not (isinstance(box, list) and len(box) == 4):
        raise SubmissionError(
            f"{where}, field bbox: the first item has a bbox, so pycocotools reads every "
            "item's bbox, and this one has none usable"
        )
    values = [as_float(v) for v in box]
    if None in values or not all(math.isfinite(v) for v in values if v is not None):
        bad = next(b for b, v in zip(box, values, strict=True) if v is None or not math.isfinite(v))
        # the box's area decides the prediction's area range: NaN makes that undefined
        raise SubmissionError(f"{where}, field bbox: {short(bad)} is not a finite number")
    return values  # type: ignore[return-value]


def _mask(item: dict[str, Any], where: str, use_bbox: bool) -> tuple[RLE | None, str | None]:
    """``(rle, kind)``: a compressed RLE and None for the challenge's format; else the kind of
    mask (:mod:`.shapes`) with its compressed RLE, or None when it is drawn later at its image's
    size (polygons, boxes). Raises where pycocotools would fail."""
    if "segmentation" not in item:  # only on the box path (checked by the caller)
        return None, KIND_BOX
    seg = item["segmentation"]
    if isinstance(seg, dict) and "counts" in seg and "size" in seg and isinstance(seg["counts"], list):
        if not use_bbox:
            raise SubmissionError(f"{where}, field segmentation.counts: "
                                  + not_rle_message("a list of run lengths (uncompressed RLE)"))
        try:
            return compress_uncompressed(seg), KIND_UNCOMPRESSED
        except ValueError as exc:
            raise SubmissionError(f"{where}, field {exc}") from None
    if isinstance(seg, list):
        if not use_bbox:
            raise SubmissionError(f"{where}, field segmentation: " + not_rle_message("polygons"))
        return None, KIND_POLYGON
    if not isinstance(seg, dict) or "counts" not in seg or "size" not in seg:
        also = ", polygons [[x1, y1, ...], ...] or no segmentation (the box is scored)" if use_bbox else ""
        raise SubmissionError(f"{where}, field segmentation: expected an RLE {{'size', 'counts'}}{also}")
    if not isinstance(seg["counts"], str):
        raise SubmissionError(
            f"{where}, field segmentation.counts: expected a compressed RLE string "
            "(pycocotools' loadRes rejects uncompressed run-length lists)"
        )
    size = seg["size"]
    if not (isinstance(size, list) and len(size) == 2
            and all(is_int(v) and 0 <= v <= MAX_IMAGE_PIXELS for v in size)):
        raise SubmissionError(f"{where}, field segmentation.size: expected [height, width], got {short(size)}")
    return {"size": [size[0], size[1]], "counts": seg["counts"]}, None


def raise_on_unusable_masks(sub: Submission) -> None:
    """Every mask must be a well-formed compressed RLE of its size (pycocotools hangs or reads
    past the end of a bad one); :class:`SubmissionError` names the first bad item. Polygons
    still to be drawn are checked when they are (:func:`.draw.rasterise`)."""
    assert sub.mask_sizes is not None
    status = rle_statuses([r["counts"] for r in sub.rles], sub.mask_sizes[:, 0], sub.mask_sizes[:, 1])
    if sub.pending_polygons:
        status[list(sub.pending_polygons)] = 0
    bad = np.flatnonzero(status)
    if bad.size:
        i = int(bad[0])
        more = f" ({bad.size} predictions have an unusable mask)" if bad.size > 1 else ""
        field_name, reason = rle_fault(sub.rles[i]["counts"], sub.rles[i]["size"])
        raise SubmissionError(f"{sub.source}: item {i}, field segmentation.{field_name}: {reason}{more}")
