"""The built-in demo data set: synthetic photos, annotations and predictions in the challenge layout.

``build_demo`` writes::

    DIR/images/validation/ADE_val_*.jpg
    DIR/annotations_instance/validation/ADE_val_*.png   (R = category, G = instance)
    DIR/imgCatIds.json                                  (these images, real val ids, 100 categories)
    DIR/predictions.json                                (a valid submission, AP in the 20-40 range)
    DIR/predictions-b.json                              (a better model's, to compare with)

It refuses to write into a non-empty folder that it did not make itself (marker file), so a
mistyped path never overwrites the user's files.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .atomic import write_bytes_atomic, write_text_atomic
from .catalog import Catalog, Category
from .categories import CATEGORY_NAMES
from .errors import InputError
from .synth import PredictionStyle, make_predictions, render_photo, synth_scene

DEFAULT_IMAGES = 24
MARKER = ".placeseg-demo"


@dataclass(frozen=True)
class DemoInfo:
    root: Path
    n_images: int
    n_instances: int
    n_predictions: int

    @property
    def catalog_path(self) -> Path:
        return self.root / "imgCatIds.json"

    @property
    def predictions_path(self) -> Path:
        return self.root / "predictions.json"

    @property
    def annotation_dir(self) -> Path:
        return self.root / "annotations_instance" / "validation"

    @property
    def image_dir(self) -> Path:
        return self.root / "images" / "validation"


BETTER_MODEL = PredictionStyle(detect_large=0.92, detect_small=0.65, loose_fraction=0.2, wrong_class=0.08)


def _check_target(root: Path) -> None:
    if root.exists() and not root.is_dir():
        raise InputError(f"{root}: exists and is not a folder")
    if root.is_dir() and any(root.iterdir()) and not (root / MARKER).exists():
        raise InputError(
            f"{root}: folder is not empty and was not made by 'placeseg demo'; choose a new folder"
        )


def _png_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def _jpg_bytes(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def build_demo(
    root: str | os.PathLike[str],
    n_images: int = DEFAULT_IMAGES,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> DemoInfo:
    """Write the demo set under ``root`` (deterministic for a given ``n_images`` and ``seed``)."""
    base = Path(root)
    _check_target(base)
    image_dir = base / "images" / "validation"
    ann_dir = base / "annotations_instance" / "validation"
    if seed < 0:
        raise InputError(f"seed must be 0 or more, got {seed}")
    try:
        image_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
        (base / MARKER).write_text("made by placeseg demo; safe to delete\n")
    except OSError as exc:
        raise InputError(f"{base}: cannot write the demo here ({exc.strerror or exc})") from None
    # A rebuild replaces the whole set: files of a larger earlier build must not linger (a
    # stale PNG would name an image the new imgCatIds.json does not list).
    for stale in [*image_dir.glob("ADE_val_*.jpg"), *ann_dir.glob("ADE_val_*.png")]:
        stale.unlink()
    records = []
    predictions: list[dict] = []
    predictions_b: list[dict] = []
    n_instances = 0
    for index in range(n_images):
        scene = synth_scene(seed, index)
        photo_rng = np.random.default_rng([seed, index, 2])
        photo = render_photo(scene, photo_rng)
        planes = np.zeros((*scene.green.shape, 3), dtype=np.uint8)
        planes[..., 0] = scene.red
        planes[..., 1] = scene.green
        stem = Path(scene.record.file_name).stem
        write_bytes_atomic(image_dir / f"{stem}.jpg", _jpg_bytes(photo))
        write_bytes_atomic(ann_dir / f"{stem}.png", _png_bytes(planes))
        predictions.extend(make_predictions(np.random.default_rng([seed, index, 1]), scene))
        # a second, better model (fewer misses, tighter masks): what `compare` is for
        predictions_b.extend(make_predictions(np.random.default_rng([seed, index, 3]), scene, BETTER_MODEL))
        records.append(scene.record)
        n_instances += len(scene.objects)
        if progress:
            progress(index + 1, n_images)
    catalog = Catalog(images=records, categories=[Category(i + 1, n) for i, n in enumerate(CATEGORY_NAMES)])
    write_text_atomic(base / "imgCatIds.json", json.dumps(catalog.to_json_dict()))
    write_text_atomic(base / "predictions-b.json", json.dumps(predictions_b))
    write_text_atomic(base / "predictions.json", json.dumps(predictions))
    return DemoInfo(base, n_images, n_instances, len(predictions))
