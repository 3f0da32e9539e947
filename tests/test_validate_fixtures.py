"""Tiny catalogue and submissions for the validator tests (imported by test_validate_*.py).

Train ids 0..3, val ids 20210..20212 (file numbers 1..3, sizes unlike the train images'),
one test image; masks are real pycocotools RLEs of small rectangles.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from placeseg_core import rle
from placeseg_core.catalog import Catalog, catalog_from_dict
from placeseg_core.categories import default_categories

IMAGES = [
    ("ADE_train_00000001.jpg", 0, 12, 10),  # file_name, id, width, height
    ("ADE_train_00000002.jpg", 1, 8, 5),
    ("ADE_train_00000003.jpg", 2, 9, 9),
    ("ADE_train_00000004.jpg", 3, 4, 4),
    ("ADE_val_00000001.jpg", 20210, 8, 6),
    ("ADE_val_00000002.jpg", 20211, 6, 7),
    ("ADE_val_00000003.jpg", 20212, 7, 5),
    ("ADE_test_00000001.jpg", 22210, 5, 5),
]
VAL_IDS = [20210, 20211, 20212]
SIZES = {i: (h, w) for _, i, w, h in IMAGES}  # id -> (height, width)


def catalog_dict() -> dict[str, Any]:
    return {
        "images": [{"file_name": f, "width": w, "id": i, "height": h} for f, i, w, h in IMAGES],
        "categories": default_categories(),
    }


def make_catalog() -> Catalog:
    return catalog_from_dict(catalog_dict(), source="imgCatIds.json")


def write_catalog(tmp: Path) -> Path:
    path = tmp / "imgCatIds.json"
    path.write_text(json.dumps(catalog_dict()))
    return path


def mask_rle(height: int, width: int, seed: int = 0, empty: bool = False) -> dict[str, Any]:
    """The RLE of a small rectangle (different per seed), or of an empty mask."""
    mask = np.zeros((height, width), dtype=np.uint8)
    if not empty:
        y = seed % max(height - 1, 1)
        x = (seed // 3) % max(width - 1, 1)
        mask[y : y + 2, x : x + 2] = 1
    return dict(rle.encode(mask))


def pred(image_id: int, category_id: int = 1, score: float = 0.5, seed: int = 0, size: tuple[int, int] | None = None) -> dict[str, Any]:
    h, w = size or SIZES[image_id]
    return {"image_id": image_id, "category_id": category_id, "segmentation": mask_rle(h, w, seed), "score": score}


def valid_items() -> list[dict[str, Any]]:
    """Two predictions per val image, distinct scores: valid with no warning."""
    items = []
    k = 0
    for image_id in VAL_IDS:
        for c in (1, 4):
            items.append(pred(image_id, c, score=0.9 - 0.1 * k, seed=k))
            k += 1
    return items


def write_items(tmp: Path, items: Any, name: str = "preds.json") -> Path:
    path = tmp / name
    path.write_text(json.dumps(items))
    return path
