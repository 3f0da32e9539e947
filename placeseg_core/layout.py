"""Finding a data set in the challenge layout on disk (docs/scoring.md, section 1)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError

# Split name in the challenge's folder names -> split name in the catalogue.
SPLIT_FOLDERS = {"training": "train", "validation": "val", "testing": "test"}
CATALOG_NAMES = ("imgCatIds.json",)


@dataclass(frozen=True)
class DatasetLayout:
    """Where the parts of a data set are; any part may be absent (None)."""

    root: Path
    catalog: Path | None
    images: dict[str, Path]  # split -> folder of that split's images
    annotations: dict[str, Path]  # split -> folder of that split's annotation PNGs
    predictions: Path | None

    def image_path(self, file_name: str, split: str | None) -> Path | None:
        """The image file, looking in the split's folder first, then in every image folder.

        The kit's own text once listed the validation images under ``images/training/``, so a
        validation image is also looked for there.
        """
        return _find(self.images, file_name, split)

    def annotation_path(self, file_name: str, split: str | None) -> Path | None:
        """The annotation PNG of an image (same search order as :meth:`image_path`)."""
        return _find(self.annotations, Path(file_name).with_suffix(".png").name, split)


def _find(folders_by_split: dict[str, Path], name: str, split: str | None) -> Path | None:
    folders = [folders_by_split[split]] if split in folders_by_split else []
    folders.extend(f for s, f in folders_by_split.items() if s != split)
    for folder in folders:
        candidate = folder / name
        if candidate.exists():
            return candidate
    return None


def _subfolders(base: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    if base.is_dir():
        for folder_name, split in SPLIT_FOLDERS.items():
            if (base / folder_name).is_dir():
                found[split] = base / folder_name
    return found


def discover(root: str | os.PathLike[str]) -> DatasetLayout:
    """Describe the data set under ``root``: ``images/<split>``, ``annotations_instance/<split>``,
    ``imgCatIds.json`` (at the root or one level up) and ``predictions.json`` if present.
    """
    base = Path(root)
    if not base.exists():
        raise InputError(f"{base}: folder not found")
    if not base.is_dir():
        raise InputError(f"{base}: not a folder")
    catalog = None
    for candidate_dir in (base, base.parent):
        for name in CATALOG_NAMES:
            # lexists: a catalogue that is a FIFO, a folder or a broken link is found here and
            # refused by its reader with the reason, not reported as absent
            if os.path.lexists(candidate_dir / name):
                catalog = candidate_dir / name
                break
        if catalog:
            break
    images = _subfolders(base / "images")
    annotations = _subfolders(base / "annotations_instance")
    predictions = base / "predictions.json"
    if not images and not annotations:
        raise InputError(
            f"{base}: no images/<split> or annotations_instance/<split> folders "
            "(expected the challenge layout, e.g. images/validation and annotations_instance/validation)"
        )
    return DatasetLayout(
        root=base,
        catalog=catalog,
        images=images,
        annotations=annotations,
        predictions=predictions if predictions.is_file() else None,
    )
