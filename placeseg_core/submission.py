"""The submission loader shared by the validator, the evaluation engine and the GUI.

A submission is a JSON list of ``{"image_id", "category_id", "segmentation", "score"}``
(SPEC.md). :func:`load_submission` parses it into columns (numpy arrays plus the list of RLEs)
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


def _is_finite_number(value: Any) -> bool:
    """A JSON number a float64 column can hold (not a bool, NaN, ±inf or an int beyond ±1.8e308)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an int too large for a float
        return False


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


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
        if not _is_int(item["image_id"]):
            raise SubmissionError(f"{where}, field image_id: expected an integer, got {item['image_id']!r}")
        if not _is_int(item["category_id"]):
            raise SubmissionError(
                f"{where}, field category_id: expected an integer, got {item['category_id']!r}"
            )
        score = item["score"]
        if not _is_finite_number(score):
            raise SubmissionError(f"{where}, field score: expected a finite number, got {_short(score)}")
        seg = item["segmentation"]
        if not isinstance(seg, dict) or "counts" not in seg or "size" not in seg:
            raise SubmissionError(f"{where}, field segmentation: expected an RLE {{'size', 'counts'}}")
        if not isinstance(seg["counts"], str):
            raise SubmissionError(
                f"{where}, field segmentation.counts: expected a compressed RLE string "
                "(pycocotools' loadRes rejects uncompressed run-length lists)"
            )
        size = seg["size"]
        if not (isinstance(size, list) and len(size) == 2 and all(_is_int(v) and v >= 0 for v in size)):
            raise SubmissionError(f"{where}, field segmentation.size: expected [height, width]")
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
            bboxes[i] = box
        if len(item) > 4:
            extra.update(k for k in item if k not in ("image_id", "category_id", "segmentation", "score"))
    return Submission(image_ids, category_ids, scores, rles, bboxes, source, extra)


def load_submission(path: str | os.PathLike[str]) -> Submission:
    """Read a submission file into columns (see :func:`submission_from_items`)."""
    data = read_json_file(path)
    return submission_from_items(data, source=str(path))
