"""The ground truth an evaluation in the window scores against, and its link to the viewer.

It is what ``placeseg evaluate`` would load: for a challenge layout, the annotation PNGs
converted exactly as ``placeseg convert`` does (``convert_annotations``, ids from 0); for a
COCO file, its annotations. Two things make it one identity with what the viewer shows:

- the PNGs are decoded once: the window's background scan keeps each PNG's conversion
  (``ReviewDataset.decoded``) and the conversion here reuses it;
- each annotation keeps the viewer's name for the object (the PNG's instance id, the green
  value; a COCO file's annotation id), so evaluation rows and drawn objects are matched by
  that id, never by position.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from placeseg_core.catalog import Catalog, ImageRecord, load_catalog
from placeseg_core.errors import InputError
from placeseg_core.evaluation import GroundTruth, ground_truth_from_dict, load_ground_truth
from placeseg_core.isolated import kept_in_child
from placeseg_core.layout import discover
from placeseg_core.validate import ValidationReport, validate_submission

from .data import PredictionIndex, ReviewDataset


@dataclass(frozen=True)
class ScoringTruth:
    """A ground truth built for one data set, with the viewer's instance id of each annotation."""

    dataset_key: int  # id() of the ReviewDataset it was built for
    source: str  # the file or folder it came from
    gt: GroundTruth
    # instance id by annotation id (a layout's ids run 0..n-1); None: they are the same (COCO)
    instance_by_annotation: np.ndarray | None = None

    def instance_ids(self, annotation_ids: np.ndarray) -> np.ndarray:
        """The viewer's instance id of each of these annotation ids."""
        ids = np.asarray(annotation_ids, dtype=np.int64)
        return ids.copy() if self.instance_by_annotation is None else self.instance_by_annotation[ids]


def annotation_folder(ds: ReviewDataset, preds: PredictionIndex | None) -> Path | None:
    """The annotation folder to evaluate against: the one holding the predictions' images
    (most of them) when the layout has several splits."""
    folders: dict[Path, int] = {}
    for e in ds.entries:
        if e.annotation_path is not None:
            folder = e.annotation_path.parent
            folders[folder] = folders.get(folder, 0) + (preds.count(e.id) if preds is not None else 0) + 1
    if not folders:
        return None
    return max(folders, key=lambda f: folders[f])


def expected_images(ds: ReviewDataset, preds: PredictionIndex | None) -> list[int]:
    """The images being evaluated: those with an annotation PNG (in the chosen folder), or all
    images of a COCO ground truth."""
    if ds.kind != "layout":
        return [e.id for e in ds.entries]
    folder = annotation_folder(ds, preds)
    return [e.id for e in ds.entries if e.annotation_path is not None and e.annotation_path.parent == folder]


def dataset_catalog(ds: ReviewDataset) -> Catalog:
    """The catalogue the validator checks against: imgCatIds.json (all splits) for a layout,
    the ground truth's images for a COCO file."""
    source = catalog_source(ds)
    return load_catalog(source) if isinstance(source, Path) else source


def catalog_source(ds: ReviewDataset) -> Path | Catalog:
    """Where :func:`dataset_catalog` comes from: the imgCatIds.json path of a layout (cheaper
    to hand to another process than the catalogue itself), else the catalogue."""
    if ds.kind == "layout":
        layout = discover(ds.source)
        if layout.catalog is not None:
            return Path(layout.catalog)
    return Catalog(images=[ImageRecord(e.id, e.file_name, e.width, e.height, e.split) for e in ds.entries],
                   categories=list(ds.categories), source=str(ds.source))


def validate_against(path: Path, catalog: Path | Catalog, expected_image_ids: list[int] | None,
                     progress: Callable[[int, int], None] | None = None,
                     cancel: Callable[[], bool] | None = None) -> ValidationReport:
    """``validate_submission`` against a catalogue or its file: what the window runs in a
    process of its own (placeseg_core.isolated), so a module-level, Qt-free function; or in
    its thread where no process can be started (``cancel`` then stops it)."""
    if not isinstance(catalog, Catalog):
        catalog = load_catalog(catalog)
    return validate_submission(path, catalog, expected_image_ids=expected_image_ids, progress=progress,
                               cancel=cancel, keep_parsed=kept_in_child())


def build_scoring_truth(ds: ReviewDataset, preds: PredictionIndex | None,
                        progress: Callable[[int, int], None] | None = None,
                        cancelled: Callable[[], bool] | None = None) -> ScoringTruth:
    """The ground truth ``placeseg evaluate`` would load for this data set."""
    if ds.kind == "layout":
        folder = annotation_folder(ds, preds)
        if folder is None:
            raise InputError(f"{ds.source}: no annotation PNGs, so there is no ground truth to score against")
        from placeseg_core.convert import convert_annotations, list_annotation_files  # noqa: PLC0415

        files = list_annotation_files(folder)
        known = {f: ds.decoded[k] for f in files if (k := os.path.abspath(f)) in ds.decoded}
        result = convert_annotations(folder, dataset_catalog(ds), workers=1, progress=progress,
                                     cancelled=cancelled, decoded=known)
        return ScoringTruth(id(ds), str(folder), ground_truth_from_dict(result.dataset, source=str(folder)),
                            np.asarray(result.instance_ids, dtype=np.int64))
    anns = [a for per_image in (ds.coco_annotations or {}).values() for a in per_image]
    ids = [a.get("id") for a in anns]
    if len(set(ids)) != len(ids):
        # duplicate ids: pycocotools resolves them in file order, so read the file as it is
        return ScoringTruth(id(ds), str(ds.source), load_ground_truth(ds.source))
    data = {
        "images": [{"id": e.id, "file_name": e.file_name, "width": e.width, "height": e.height} for e in ds.entries],
        "categories": [{"id": c.id, "name": c.name} for c in ds.categories],
        "annotations": anns,
    }
    return ScoringTruth(id(ds), str(ds.source), ground_truth_from_dict(data, source=str(ds.source)))
