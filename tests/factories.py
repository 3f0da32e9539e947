"""Small on-disk fixtures the tests build themselves: R/G annotation PNGs and catalogues."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from placeseg_core.categories import default_categories


def write_label_png(path: Path, red: np.ndarray, green: np.ndarray, mode: str = "RGB") -> Path:
    """Write an annotation PNG with the given red (category) and green (instance) planes."""
    rgb = np.zeros((*green.shape, 3), dtype=np.uint8)
    rgb[..., 0] = red
    rgb[..., 1] = green
    img = Image.fromarray(rgb)
    if mode != "RGB":
        img = img.convert(mode)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)
    return path


def write_catalog(path: Path, images: list[tuple[str, int, int, int]]) -> Path:
    """imgCatIds.json with ``(file_name, id, width, height)`` images and the 100 categories."""
    data = {
        "images": [{"file_name": f, "width": w, "id": i, "height": h} for f, i, w, h in images],
        "categories": default_categories(),
    }
    path.write_text(json.dumps(data))
    return path


def two_object_planes(h: int = 40, w: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """A bed (instance 1) and a person (instance 2) on background."""
    red = np.zeros((h, w), np.uint8)
    green = np.zeros((h, w), np.uint8)
    red[5:15, 5:25], green[5:15, 5:25] = 1, 1
    red[20:35, 30:50], green[20:35, 30:50] = 4, 2
    return red, green
