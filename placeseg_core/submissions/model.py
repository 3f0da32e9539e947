"""The submission as columns (:class:`Submission`), and the error that says it cannot be scored."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from ..rle import RLE


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
    #: items whose mask was not given as compressed RLE, by kind ("polygon", "uncompressed RLE",
    #: "box only"; see :mod:`.shapes`): empty for a file in the challenge's format
    mask_kinds: dict[str, int] = field(default_factory=dict)
    #: item -> polygons (a box-only item's: its box) still to be drawn at the image's size by
    #: :func:`~placeseg_core.submissions.rasterise`; ``rles[i]`` is a placeholder until then
    pending_polygons: dict[int, Any] = field(default_factory=dict)
    #: int64 (N,): each mask's pixel count exactly as pycocotools' ``mask.area`` gives it,
    #: when the loader's checks decoded every mask (they do for a file of compressed RLE);
    #: None otherwise. The fast engine uses it instead of decoding every mask again.
    mask_areas: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.mask_sizes is None:
            self.mask_sizes = np.array([r["size"] for r in self.rles], dtype=np.int64).reshape(-1, 2)

    def __len__(self) -> int:
        return len(self.rles)

    @property
    def uses_bbox_areas(self) -> bool:
        """True when pycocotools' loadRes takes areas from boxes (first item has a bbox)."""
        return self.bboxes is not None

    @property
    def needs_image_sizes(self) -> bool:
        """Polygons or boxes wait to be drawn at their images' sizes (see ``rasterise``)."""
        return bool(self.pending_polygons)

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
