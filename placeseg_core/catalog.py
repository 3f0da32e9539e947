"""The challenge's image catalogue, ``imgCatIds.json``, as typed records.

``image_id`` in ground truth and submissions is the ``id`` of the image's file name in this
file, not the number inside the file name (docs/scoring.md, section 1), so every part of the tool resolves images
through a :class:`Catalog`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .jsonio import read_json_file
from .safety.numbers import image_area_problem, image_side_problem, is_int64, short

SPLIT_PREFIXES = {"ADE_train_": "train", "ADE_val_": "val", "ADE_test_": "test"}
SPLITS = ("train", "val", "test")


@dataclass(frozen=True)
class ImageRecord:
    """One image of the catalogue."""

    id: int
    file_name: str
    width: int
    height: int
    split: str | None  # "train", "val", "test", or None for a name outside the ADE scheme
    # The item exactly as the file has it: the official converter copies it into the ground
    # truth unchanged (same keys, same order), and so do we.
    raw: dict[str, Any] | None = field(default=None, compare=False, hash=False, repr=False)

    @property
    def stem(self) -> str:
        return os.path.splitext(self.file_name)[0]

    @property
    def file_number(self) -> int | None:
        """The number in the file name (``ADE_val_00000012.jpg`` -> 12), if there is one."""
        digits = self.stem.rsplit("_", 1)[-1]
        return int(digits) if digits.isdigit() else None


@dataclass(frozen=True)
class Category:
    id: int
    name: str


def split_of_file_name(file_name: str) -> str | None:
    """The split an ADE20K file name belongs to, from its prefix."""
    base = os.path.basename(file_name)
    for prefix, split in SPLIT_PREFIXES.items():
        if base.startswith(prefix):
            return split
    return None


@dataclass
class Catalog:
    """Images by id and by file name, and the categories."""

    images: list[ImageRecord]
    categories: list[Category]
    source: str = "<memory>"
    by_id: dict[int, ImageRecord] = field(init=False, repr=False)
    by_file_name: dict[str, ImageRecord] = field(init=False, repr=False)
    by_stem: dict[str, ImageRecord] = field(init=False, repr=False)
    category_by_id: dict[int, Category] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {im.id: im for im in self.images}
        self.by_file_name = {im.file_name: im for im in self.images}
        self.by_stem = {im.stem: im for im in self.images}
        self.category_by_id = {c.id: c for c in self.categories}

    def split_images(self, split: str) -> list[ImageRecord]:
        return [im for im in self.images if im.split == split]

    def category_name(self, category_id: int) -> str:
        cat = self.category_by_id.get(category_id)
        return cat.name if cat else f"<unknown {category_id}>"

    raw_categories: list[Any] | None = field(default=None, repr=False)

    def image_dict(self, image: ImageRecord) -> dict[str, Any]:
        """An image as the file has it (key order of the challenge kit when built here)."""
        if image.raw is not None:
            return image.raw
        return {"file_name": image.file_name, "width": image.width, "id": image.id, "height": image.height}

    def categories_json(self) -> list[Any]:
        if self.raw_categories is not None:
            return self.raw_categories
        return [{"id": c.id, "name": c.name} for c in self.categories]

    def to_json_dict(self) -> dict[str, Any]:
        """The catalogue in the file's own shape."""
        return {
            "images": [self.image_dict(im) for im in self.images],
            "categories": self.categories_json(),
        }


def catalog_from_dict(data: Any, source: str = "<memory>") -> Catalog:
    """Build a :class:`Catalog` from parsed JSON, naming the item and field of any fault."""
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a JSON object with 'images' and 'categories'")
    for key in ("images", "categories"):
        if key not in data:
            raise InputError(f"{source}: missing field '{key}'")
        if not isinstance(data[key], list):
            raise InputError(f"{source}: field '{key}' must be a list")
    images: list[ImageRecord] = []
    for i, item in enumerate(data["images"]):
        where = f"{source}: images[{i}]"
        if not isinstance(item, dict):
            raise InputError(f"{where}: expected an object")
        for key in ("id", "file_name", "width", "height"):
            if key not in item:
                raise InputError(f"{where}: missing field '{key}'")
        if not is_int64(item["id"]):
            raise InputError(f"{where}.id: expected an integer (64-bit), got {short(item['id'])}")
        if not isinstance(item["file_name"], str):
            raise InputError(f"{where}.file_name: expected a string")
        for key in ("width", "height"):
            problem = image_side_problem(item[key], key)
            if problem:
                raise InputError(f"{where}.{problem}")
        problem = image_area_problem(item["height"], item["width"])
        if problem:
            raise InputError(f"{where}: {problem}")
        images.append(
            ImageRecord(
                id=item["id"],
                file_name=item["file_name"],
                width=item["width"],
                height=item["height"],
                split=split_of_file_name(item["file_name"]),
                raw=item,
            )
        )
    categories: list[Category] = []
    for i, item in enumerate(data["categories"]):
        where = f"{source}: categories[{i}]"
        if not isinstance(item, dict) or "id" not in item or "name" not in item:
            raise InputError(f"{where}: expected an object with 'id' and 'name'")
        if not is_int64(item["id"]):
            raise InputError(f"{where}.id: expected an integer (64-bit), got {short(item['id'])}")
        categories.append(Category(id=item["id"], name=str(item["name"])))
    seen: set[int] = set()
    for im in images:
        if im.id in seen:
            raise InputError(f"{source}: image id {im.id} appears twice ({im.file_name})")
        seen.add(im.id)
    return Catalog(images=images, categories=categories, source=source, raw_categories=data["categories"])


def is_places_catalog(catalog: Catalog) -> bool:
    """True when the catalogue's categories are the challenge's 100 (see is_places_categories)."""
    from .categories import is_places_categories  # noqa: PLC0415 (data only)

    return is_places_categories({c.id: c.name for c in catalog.categories})


def catalog_from_ground_truth(data: Any, source: str = "<memory>") -> Catalog:
    """The images (ids, sizes) and categories of a COCO ground truth, as a :class:`Catalog`.

    Any COCO instances file works (its images have ``file_name``, ``width``, ``height``); a
    missing ``file_name`` is tolerated (the id stands in), missing sizes are an InputError since
    the validator checks every mask's size against them.
    """
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise InputError(f"{source}: not a COCO ground truth (expected an object with an 'images' list)")
    if not isinstance(data.get("categories"), list):
        raise InputError(f"{source}: not a COCO ground truth (expected a 'categories' list)")
    images = [dict(im, file_name=str(im.get("id"))) if isinstance(im, dict) and "file_name" not in im else im
              for im in data["images"]]
    categories = [dict(c, name=str(c.get("id"))) if isinstance(c, dict) and "name" not in c else c
                  for c in data["categories"]]
    return catalog_from_dict({"images": images, "categories": categories}, source=source)


def load_catalog(path: str | os.PathLike[str]) -> Catalog:
    """Read ``imgCatIds.json``; raise :class:`InputError` with a one-line reason on failure."""
    p = Path(path)
    return catalog_from_dict(read_json_file(p, " (the challenge kit's imgCatIds.json)"), source=str(p))
