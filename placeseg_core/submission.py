"""The submission loader shared by the validator, the evaluation engine and the GUI.

A submission is a JSON list of ``{"image_id", "category_id", "segmentation", "score"}``
(docs/scoring.md, section 3). :func:`load_submission` parses it into columns (numpy arrays plus the list of RLEs)
that the evaluator ranks and groups without touching Python dicts again. It does not judge the
file: :mod:`placeseg_core.validate` does that, with every problem located.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import InputError
from .jsonio import read_json_file
from .rle import RLE
from .safety.masks import rle_fault, rle_statuses
from .safety.numbers import MAX_IMAGE_PIXELS, as_float, is_finite_number, is_int, is_int64, short


class SubmissionError(InputError):
    """The submission cannot be scored; the message names the item and the field."""


@dataclass
class Submission:
    """Predictions as columns, in file order (index ``i`` = the ``i``-th item of the file)."""

    image_ids: np.ndarray  # int64 (N,)
    category_ids: np.ndarray  # int64 (N,)
    scores: np.ndarray  # float64 (N,)
    rles: list[RLE]
    bboxes: np.ndarray | None = None  # float64 (N, 4) when the first item has a bbox, else None
    source: str = "<memory>"
    extra_fields: set[str] = field(default_factory=set)
    mask_sizes: np.ndarray | None = None  # int64 (N, 2): each mask's [height, width]

    def __post_init__(self) -> None:
        if self.mask_sizes is None:
            self.mask_sizes = np.array([r["size"] for r in self.rles], dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.rles)

    @property
    def uses_bbox_areas(self) -> bool:
        """True when pycocotools' loadRes takes areas from boxes (first item has a bbox)."""
        return self.bboxes is not None

    def to_items(self) -> list[dict[str, Any]]:
        """The predictions as the JSON objects pycocotools' ``loadRes`` takes."""
        items: list[dict[str, Any]] = []
        for i in range(len(self.rles)):
            item: dict[str, Any] = {
                "image_id": int(self.image_ids[i]),
                "category_id": int(self.category_ids[i]),
                "segmentation": self.rles[i],
                "score": float(self.scores[i]),
            }
            if self.bboxes is not None:
                item["bbox"] = [float(x) for x in self.bboxes[i]]
            items.append(item)
        return items


def first_item_uses_bbox(first: Any) -> bool:
    """pycocotools' ``loadRes`` rule: boxes decide every area when item 0 has a ``bbox`` key
    whose value is not exactly ``[]`` (``'bbox' in anns[0] and not anns[0]['bbox'] == []``).

    So ``"bbox": null`` or ``"bbox": 0`` also switch it to boxes (and then it fails on them).
    """
    return isinstance(first, dict) and "bbox" in first and first["bbox"] != []


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
    for i, item in enumerate(items):
        where = f"{source}: item {i}"
        if not isinstance(item, dict):
            raise SubmissionError(f"{where}: expected an object, got {type(item).__name__}")
        for key in ("image_id", "category_id", "segmentation", "score"):
            if key not in item:
                raise SubmissionError(f"{where}: missing field '{key}'")
        for key in ("image_id", "category_id"):
            if not is_int64(item[key]):
                raise SubmissionError(f"{where}, field {key}: expected an integer (64-bit), got {short(item[key])}")
        score = item["score"]
        if not is_finite_number(score):
            raise SubmissionError(f"{where}, field score: expected a finite number, got {short(score)}")
        seg = item["segmentation"]
        if not isinstance(seg, dict) or "counts" not in seg or "size" not in seg:
            raise SubmissionError(f"{where}, field segmentation: expected an RLE {{'size', 'counts'}}")
        if not isinstance(seg["counts"], str):
            raise SubmissionError(
                f"{where}, field segmentation.counts: expected a compressed RLE string "
                "(pycocotools' loadRes rejects uncompressed run-length lists)"
            )
        size = seg["size"]
        if not (isinstance(size, list) and len(size) == 2
                and all(is_int(v) and 0 <= v <= MAX_IMAGE_PIXELS for v in size)):
            raise SubmissionError(f"{where}, field segmentation.size: expected [height, width], got {short(size)}")
        image_ids[i] = item["image_id"]
        category_ids[i] = item["category_id"]
        scores[i] = score
        rles.append({"size": [size[0], size[1]], "counts": seg["counts"]})
        if bboxes is not None:
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
            bboxes[i] = values
        if len(item) > 4:
            extra.update(k for k in item if k not in ("image_id", "category_id", "segmentation", "score"))
    sub = Submission(image_ids, category_ids, scores, rles, bboxes, source, extra)
    raise_on_unusable_masks(sub)
    return sub


def raise_on_unusable_masks(sub: Submission) -> None:
    """Every mask must be a well-formed compressed RLE of its size (pycocotools hangs or reads
    past the end of a bad one); :class:`SubmissionError` names the first bad item."""
    assert sub.mask_sizes is not None
    status = rle_statuses([r["counts"] for r in sub.rles], sub.mask_sizes[:, 0], sub.mask_sizes[:, 1])
    bad = np.flatnonzero(status)
    if bad.size:
        i = int(bad[0])
        more = f" ({bad.size} predictions have an unusable mask)" if bad.size > 1 else ""
        field_name, reason = rle_fault(sub.rles[i]["counts"], sub.rles[i]["size"])
        raise SubmissionError(f"{sub.source}: item {i}, field segmentation.{field_name}: {reason}{more}")


def load_submission(path: str | os.PathLike[str]) -> Submission:
    """Read a submission file into columns (see :func:`submission_from_items`)."""
    data = read_json_file(path)
    return submission_from_items(data, source=str(path))
