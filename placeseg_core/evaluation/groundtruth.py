"""Ground truth as typed columns, in exactly the order pycocotools' evaluator sees it.

pycocotools builds its per-(image, category) lists with ``getAnnIds(imgIds, catIds)`` then
``loadAnns``: images in ascending id order, each image's annotations in file order, and only
annotations whose image is listed in ``images`` and whose category is listed in ``categories``.
``loadAnns`` looks each annotation up again *by id*, so with duplicate ids every occurrence
becomes the last annotation with that id; we reproduce that too (and count it).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from ..errors import InputError
from ..jsonio import paused_gc, read_json_file
from ..safety.coco import first_unusable_rle
from ..safety.masks import polygon_problem, uncompressed_rle_problem
from ..safety.numbers import (
    image_area_problem,
    image_side_problem,
    is_finite_number,
    is_int64,
    short,
)


@dataclass
class GroundTruth:
    """Evaluated images, categories and annotations (in pycocotools' load order)."""

    image_ids: np.ndarray  # int64, sorted unique: pycocotools' params.imgIds
    category_ids: np.ndarray  # int64, sorted unique: params.catIds
    category_names: dict[int, str]
    ann_ids: np.ndarray  # int64 (G,)
    ann_image_ids: np.ndarray  # int64 (G,)
    ann_category_ids: np.ndarray  # int64 (G,)
    ann_areas: np.ndarray  # float64 (G,), the file's 'area' (pycocotools never recomputes it)
    ann_iscrowd: np.ndarray  # bool (G,): int(iscrowd) != 0, crowd IoU and matchable many times
    ann_ignore: np.ndarray  # bool (G,): bool(iscrowd), pycocotools' gt['ignore']
    ann_rles: list[dict[str, Any]]  # compressed RLE per annotation (polygons converted)
    dataset: dict[str, Any] = field(repr=False)  # as given, for the reference engine
    source: str = "<memory>"
    dropped_annotations: int = 0  # image or category not listed: pycocotools never sees them
    duplicate_ids: int = 0

    def __len__(self) -> int:
        return len(self.ann_ids)

    @property
    def has_id_zero(self) -> bool:
        """An annotation with id 0: pycocotools can never count a match with it."""
        return bool(np.any(self.ann_ids == 0))

    def image_rows(self, image_id: int) -> np.ndarray:
        """Row indices of one image's annotations (rows are grouped by image)."""
        lo = np.searchsorted(self.ann_image_ids, image_id, side="left")
        hi = np.searchsorted(self.ann_image_ids, image_id, side="right")
        return np.arange(lo, hi)


def _to_rle(seg: Any, image: dict[str, Any] | None, where: str) -> dict[str, Any]:
    """pycocotools' ``annToRLE``: polygons and uncompressed RLE become compressed RLE.

    Each shape is checked first (:mod:`placeseg_core.safety.masks`): pycocotools crashes on
    NaN or far-away polygon vertices and misreads bad run lengths. Compressed RLE is checked in
    bulk by the caller.
    """
    if isinstance(seg, dict) and isinstance(seg.get("counts"), (str, bytes)) and "size" in seg:
        return seg
    if image is None or _image_size(image) is None:
        raise InputError(f"{where}: segmentation is not a compressed RLE and its image has no usable height/width")
    height, width = image["height"], image["width"]
    if isinstance(seg, list):
        problem = polygon_problem(seg, height, width)
        if problem is not None:
            raise InputError(f"{where}.{problem}")
        try:
            return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
        except Exception as exc:  # pycocotools raises assorted errors on malformed shapes
            raise InputError(f"{where}: unusable segmentation ({exc})") from None
    if isinstance(seg, dict) and isinstance(seg.get("counts"), list):
        problem = uncompressed_rle_problem(seg, height, width)
        if problem is not None:
            raise InputError(f"{where}.{problem}")
        try:
            return mask_utils.frPyObjects(seg, height, width)
        except Exception as exc:  # pycocotools raises assorted errors on malformed shapes
            raise InputError(f"{where}: unusable segmentation ({exc})") from None
    raise InputError(f"{where}: segmentation must be an RLE {{'size', 'counts'}} or polygons")


def _image_size(image: dict[str, Any]) -> tuple[int, int] | None:
    """An image's (height, width) when both are usable, else None."""
    h, w = image.get("height"), image.get("width")
    if not (isinstance(h, int) and isinstance(w, int)) or image_side_problem(h, "height") or image_side_problem(w, "width"):
        return None
    return None if image_area_problem(h, w) else (h, w)


def _check_image(img: Any, where: str) -> None:
    """Image ids in int64; sizes, where given, usable (the window draws them, polygons are
    rasterised at them)."""
    if not isinstance(img, dict) or not is_int64(img.get("id")):
        got = short(img.get("id")) if isinstance(img, dict) else short(img)
        raise InputError(f"{where}.id: expected an object with an integer (64-bit) 'id', got {got}")
    for key in ("height", "width"):
        if key in img:
            problem = image_side_problem(img[key], key)
            if problem:
                raise InputError(f"{where}.{problem}")
    if "height" in img and "width" in img:
        problem = image_area_problem(img["height"], img["width"])
        if problem:
            raise InputError(f"{where}: {problem}")


def _numbers_usable(anns: list[dict[str, Any]]) -> bool:
    """True when every ``iscrowd`` and ``area`` passes :func:`_check_numbers` (vectorised)."""
    crowd = [a.get("iscrowd") for a in anns]
    area = [a.get("area") for a in anns]
    if not (set(map(type, crowd)) | set(map(type, area))) <= {int, float}:
        return False
    try:
        c = np.array(crowd, dtype=np.float64)
        a = np.array(area, dtype=np.float64)
    except OverflowError:
        return False
    return bool(np.isfinite(c).all() and (c >= 0).all() and (c < 256).all() and np.isfinite(a).all())


def _check_numbers(ann: dict[str, Any], where: str) -> None:
    """iscrowd becomes ``int(iscrowd)`` in pycocotools (NaN and Infinity cannot) and a uint8 in
    its mask.iou (so 0..255); ``area`` is compared with the area ranges as a float."""
    crowd: Any = ann.get("iscrowd")
    if not is_finite_number(crowd) or not 0 <= crowd < 256:
        raise InputError(f"{where}.iscrowd: expected 0 or 1 (pycocotools needs it), got {short(crowd)}")
    if not is_finite_number(ann.get("area")):
        raise InputError(f"{where}.area: missing or not a finite number (pycocotools compares it "
                         f"with the area ranges), got {short(ann.get('area'))}")


def _check_compressed_rles(rles: list[dict[str, Any]], rows: list[int], source: str) -> None:
    """Every compressed RLE of the file well formed and of its size (pycocotools trusts them;
    the ones pycocotools made from polygons, with ``bytes`` counts, are not looked at)."""
    bad = first_unusable_rle(rles)
    if bad is not None:
        k, field_name, reason = bad
        raise InputError(f"{source}: annotations[{rows[k]}].{field_name}: {reason}")


def ground_truth_from_dict(data: Any, source: str = "<memory>") -> GroundTruth:
    """Columns from a COCO ground-truth dict; :class:`InputError` names the item and field."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object with 'images', 'annotations', 'categories'")
    for key in ("images", "categories"):
        if not isinstance(data.get(key), list):
            raise InputError(f"{source}: missing or malformed field '{key}' (a list)")
    if "annotations" not in data:
        # pycocotools would score it (every number undefined); it is always a mix-up, say so.
        raise InputError(
            f"{source}: has no 'annotations', so it is not a ground truth (imgCatIds.json, the "
            "image catalogue, looks like this); use --ann-dir annotations_instance/<split> with "
            "--img-cat-ids, or make one with 'placeseg convert'"
        )
    if not data["images"]:
        raise InputError(f"{source}: lists no images, so there is nothing to score against")
    annotations = data["annotations"]
    if not isinstance(annotations, list):
        raise InputError(f"{source}: field 'annotations' must be a list")
    images: dict[int, dict[str, Any]] = {}
    for i, img in enumerate(data["images"]):
        _check_image(img, f"{source}: images[{i}]")
        images[img["id"]] = img
    names: dict[int, str] = {}
    for i, cat in enumerate(data["categories"]):
        if not isinstance(cat, dict) or not is_int64(cat.get("id")):
            raise InputError(f"{source}: categories[{i}]: expected an object with an integer (64-bit) 'id'")
        names[cat["id"]] = str(cat.get("name", cat["id"]))
    image_ids = np.array(sorted(images), dtype=np.int64)
    category_ids = np.array(sorted(names), dtype=np.int64)

    by_image: dict[int, list[int]] = {}
    last_with_id: dict[int, int] = {}
    for i, ann in enumerate(annotations):
        if not isinstance(ann, dict):
            raise InputError(f"{source}: annotations[{i}]: expected an object")
        for key in ("id", "image_id", "category_id"):
            if not is_int64(ann.get(key)):
                raise InputError(f"{source}: annotations[{i}].{key}: expected an integer (64-bit), got {short(ann.get(key))}")
        by_image.setdefault(ann["image_id"], []).append(i)
        last_with_id[ann["id"]] = i  # pycocotools' createIndex: anns[ann['id']] = ann
    # getAnnIds: images ascending (only listed ones), file order within, listed categories only;
    # loadAnns: each id looked up again, which picks the last annotation with that id.
    rows: list[int] = []
    kept = 0
    for image_id in image_ids.tolist():
        for i in by_image.get(image_id, ()):
            if annotations[i]["category_id"] in names:
                resolved = annotations[last_with_id[annotations[i]["id"]]]
                # the stand-in is filed under its own image and category; pycocotools only
                # ever reads the lists of listed images and categories
                if resolved["image_id"] in images and resolved["category_id"] in names:
                    rows.append(last_with_id[annotations[i]["id"]])
                kept += 1
    duplicates = len(annotations) - len(last_with_id)
    anns = [annotations[i] for i in rows]
    if not _numbers_usable(anns):  # the common case costs two array checks; else say which
        for r, ann in zip(rows, anns, strict=True):
            _check_numbers(ann, f"{source}: annotations[{r}]")
    for r, ann in zip(rows, anns, strict=True):
        if "segmentation" not in ann:
            raise InputError(f"{source}: annotations[{r}]: missing field 'segmentation'")
    rles = [_to_rle(a["segmentation"], images.get(a["image_id"]), f"{source}: annotations[{r}]")
            for r, a in zip(rows, anns, strict=True)]
    _check_compressed_rles(rles, rows, source)
    # A duplicate id can make an annotation stand in for one of another image or category:
    # pycocotools then files it under its own (image, category); keep rows grouped by image.
    ann_image_ids = np.array([a["image_id"] for a in anns], dtype=np.int64)
    order = np.argsort(ann_image_ids, kind="stable")
    if np.any(order != np.arange(len(order))):
        anns = [anns[i] for i in order]
        rles = [rles[i] for i in order]
        ann_image_ids = ann_image_ids[order]
    return GroundTruth(
        image_ids=image_ids,
        category_ids=category_ids,
        category_names=names,
        ann_ids=np.array([a["id"] for a in anns], dtype=np.int64),
        ann_image_ids=ann_image_ids,
        ann_category_ids=np.array([a["category_id"] for a in anns], dtype=np.int64),
        ann_areas=np.array([a["area"] for a in anns], dtype=np.float64),
        # pycocotools: gt['ignore'] = 'iscrowd' in gt and gt['iscrowd'] (any 'ignore' key is
        # overwritten), while mask.iou and the matcher use int(iscrowd) as the crowd flag.
        ann_iscrowd=np.array([int(a["iscrowd"]) != 0 for a in anns], dtype=bool),
        ann_ignore=np.array([bool(a["iscrowd"]) for a in anns], dtype=bool),
        ann_rles=rles,
        dataset=data,
        source=source,
        dropped_annotations=len(annotations) - kept,  # not listed image/category
        duplicate_ids=duplicates,
    )


def load_ground_truth(path: str | os.PathLike[str]) -> GroundTruth:
    """Read a ground-truth JSON file (``placeseg convert`` output or any COCO instances file)."""
    data = read_json_file(path)
    with paused_gc():
        return ground_truth_from_dict(data, source=str(path))


def ground_truth_from_ann_dir(
    ann_dir: str | os.PathLike[str],
    img_cat_ids: str | os.PathLike[str],
    first_id: int = 0,
    progress: Any = None,
    on_findings: Callable[[list[Any]], None] | None = None,
) -> GroundTruth:
    """Convert annotation PNGs on the fly, exactly as ``placeseg convert`` does by default;
    ``on_findings`` receives the integrity findings ``convert`` prints as warnings."""
    from ..catalog import load_catalog  # noqa: PLC0415 (only this path needs the converter)
    from ..convert import convert_annotations  # noqa: PLC0415

    catalog = load_catalog(img_cat_ids)
    result = convert_annotations(ann_dir, catalog, first_id=first_id, progress=progress)
    if on_findings is not None and result.findings:
        on_findings(result.findings)
    return ground_truth_from_dict(result.dataset, source=os.fspath(ann_dir))
