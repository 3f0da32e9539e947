"""A COCO ground truth's annotations checked field by field, for readers that do not score
(the window draws them): the same bounds the scorer's loader applies."""

from __future__ import annotations

from typing import Any

import numpy as np

from .masks import (
    compressed_rle_columns,
    polygon_problem,
    rle_fault,
    rle_statuses,
    uncompressed_rle_problem,
)
from .numbers import MAX_IMAGE_PIXELS, is_finite_number, is_int, is_int64, short


def annotation_problem(ann: dict[str, Any], image_size: tuple[int, int] | None) -> str | None:
    """``"field: reason"`` for the first unusable field of one annotation, or None.

    Ids must fit int64; ``iscrowd`` (when given) be a finite number from 0 to 255, as
    pycocotools' ``int(iscrowd)`` and uint8 crowd flags need; ``area`` a number a float holds;
    polygons and uncompressed RLE usable at ``image_size`` (height, width). Compressed RLE is
    checked in bulk by :func:`first_unusable_rle`.
    """
    for key in ("id", "image_id", "category_id"):
        if key in ann and not is_int64(ann[key]):
            return f"{key}: expected an integer (64-bit), got {short(ann[key])}"
    if "iscrowd" in ann:
        crowd = ann["iscrowd"]
        if not is_finite_number(crowd) or not 0 <= crowd < 256:
            return f"iscrowd: expected 0 or 1, got {short(crowd)}"
    if "area" in ann and not is_finite_number(ann["area"]):
        return f"area: expected a finite number, got {short(ann['area'])}"
    seg = ann.get("segmentation")
    if isinstance(seg, list) or (isinstance(seg, dict) and isinstance(seg.get("counts"), list)):
        if image_size is None:
            return "segmentation: polygons or run lengths need the image's height and width"
        h, w = image_size
        return polygon_problem(seg, h, w) if isinstance(seg, list) else uncompressed_rle_problem(seg, h, w)
    return None


def first_unusable_rle(segs: list[Any]) -> tuple[int, str, str] | None:
    """``(index, field, reason)`` of the first compressed RLE in ``segs`` that pycocotools could
    not use safely, or None. Entries that are not compressed RLE dicts are skipped."""
    fast = compressed_rle_columns(segs)
    if fast is not None:  # the common case, a converted ground truth: no loop per mask
        counts, _sizes, hw = fast
        bad = np.flatnonzero(rle_statuses(counts, hw[:, 0], hw[:, 1]))
        if not bad.size:
            return None
        k = int(bad[0])
        field, reason = rle_fault(segs[k]["counts"], segs[k].get("size"))
        return k, f"segmentation.{field}", reason
    idx = [k for k, s in enumerate(segs) if isinstance(s, dict) and isinstance(s.get("counts"), str)]
    if not idx:
        return None
    heights, widths = np.full(len(idx), -1, dtype=np.int64), np.full(len(idx), -1, dtype=np.int64)
    for j, k in enumerate(idx):
        size = segs[k].get("size")
        if isinstance(size, list) and len(size) == 2 and all(is_int(v) and 0 <= v <= MAX_IMAGE_PIXELS for v in size):
            heights[j], widths[j] = size
    bad = np.flatnonzero(rle_statuses([segs[k]["counts"] for k in idx], heights, widths))
    if not bad.size:
        return None
    k = idx[int(bad[0])]
    field, reason = rle_fault(segs[k]["counts"], segs[k].get("size"))
    return k, f"segmentation.{field}", reason
