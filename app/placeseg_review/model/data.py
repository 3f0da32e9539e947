"""What the review window shows, as plain data: the open data set and the open predictions.

Qt-free on purpose (the widgets bind to these objects; tests use them without a display). Two
kinds of ground truth open the same way:

* a folder in the challenge layout (``images/<split>``, ``annotations_instance/<split>``,
  ``imgCatIds.json``): ground truth is decoded from the R/G annotation PNGs;
* a COCO ground-truth JSON, as ``placeseg convert`` writes it or any COCO instances file
  (polygons, uncompressed RLE, crowd regions), plus a folder of images.

Images are listed in a fixed order (by file name); ``ReviewDataset.entries`` is that list.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from placeseg_core.catalog import (
    Category,
    ImageRecord,
    catalog_from_dict,
    load_catalog,
    split_of_file_name,
)
from placeseg_core.categories import CATEGORY_NAMES
from placeseg_core.errors import InputError
from placeseg_core.jsonio import read_json_file
from placeseg_core.layout import DatasetLayout, discover
from placeseg_core.safety.coco import annotation_problem, first_unusable_rle
from placeseg_core.safety.files import open_input
from placeseg_core.safety.numbers import is_int64, short
from placeseg_core.submissions import Submission, SubmissionError, load_submission, rasterise

if TYPE_CHECKING:  # (the conversion module is imported only where PNGs are converted)
    from placeseg_core.convert import FileResult

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


@dataclass(frozen=True)
class ImageEntry:
    """One image of the open data set and where its files are (either may be missing)."""

    id: int
    file_name: str
    width: int
    height: int
    split: str | None
    photo_path: Path | None
    annotation_path: Path | None = None


@dataclass
class ReviewDataset:
    """The images, categories and (once known) per-image ground-truth statistics.

    ``kind`` is ``"layout"`` (annotation PNGs) or ``"coco"`` (a ground-truth JSON). For a COCO
    file the per-image counts are known at once; for PNGs a background scan fills them in.
    """

    kind: str
    source: Path
    entries: list[ImageEntry]
    categories: list[Category]
    coco_annotations: dict[int, list[dict]] | None = None  # image id -> annotations (COCO kind)
    gt_counts: np.ndarray | None = None  # instances per entry (-1 = not scanned yet)
    findings_counts: np.ndarray | None = None  # integrity findings per entry (-1 = not scanned)
    category_counts: np.ndarray = field(default_factory=lambda: np.zeros(256, dtype=np.int64))
    notes: list[str] = field(default_factory=list)  # things the user should know (not errors)
    # each annotation PNG's conversion, by absolute path, as the background scan decoded it:
    # the evaluation's ground truth reuses it instead of decoding every PNG again
    decoded: dict[str, FileResult] = field(default_factory=dict, repr=False)
    index_of: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.index_of = {e.id: i for i, e in enumerate(self.entries)}
        n = len(self.entries)
        if self.gt_counts is None:
            self.gt_counts = np.full(n, -1, dtype=np.int64)
        if self.findings_counts is None:
            self.findings_counts = np.full(n, -1, dtype=np.int64)
        self._names = {c.id: c.name for c in self.categories}

    @property
    def name(self) -> str:
        return self.source.name or str(self.source)

    @property
    def scanned(self) -> bool:
        return bool(self.gt_counts is not None and (self.gt_counts >= 0).all())

    def entry(self, image_id: int) -> ImageEntry:
        return self.entries[self.index_of[image_id]]

    def category_name(self, category_id: int) -> str:
        name = self._names.get(category_id)
        if name is not None:
            return name
        if 1 <= category_id <= len(CATEGORY_NAMES):
            return CATEGORY_NAMES[category_id - 1]
        return f"<unknown {category_id}>"


# --------------------------------------------------------------------------- opening a folder


def _files_by_name(folders: dict[str, Path], suffixes: tuple[str, ...]) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in folders.values():
        with os.scandir(folder) as it:
            for item in it:
                if item.name.lower().endswith(suffixes) and item.name not in found:
                    found[item.name] = Path(item.path)
    return found


def open_layout(root: str | os.PathLike[str]) -> ReviewDataset:
    """A folder in the challenge layout; raises :class:`InputError` with a one-line reason."""
    layout: DatasetLayout = discover(root)
    if layout.catalog is None:
        raise InputError(
            f"{layout.root}: no imgCatIds.json here or one level up; it gives every image its id "
            "(the challenge kit has it)"
        )
    catalog = load_catalog(layout.catalog)
    photos = _files_by_name(layout.images, IMAGE_SUFFIXES)
    pngs = _files_by_name(layout.annotations, (".png",))
    stems = {Path(n).stem for n in photos} | {Path(n).stem for n in pngs}
    entries: list[ImageEntry] = []
    unknown = 0
    for stem in sorted(stems):
        record = catalog.by_stem.get(stem)
        if record is None:
            unknown += 1
            continue
        photo = photos.get(record.file_name)
        if photo is None:  # same stem, other suffix
            photo = next((photos[stem + s] for s in IMAGE_SUFFIXES if stem + s in photos), None)
        entries.append(
            ImageEntry(record.id, record.file_name, record.width, record.height, record.split,
                       photo, pngs.get(stem + ".png"))
        )
    if not entries:
        raise InputError(f"{layout.root}: none of the image or annotation files is listed in {layout.catalog}")
    ds = ReviewDataset("layout", layout.root, entries, list(catalog.categories) or _default_categories())
    if unknown:
        ds.notes.append(f"{unknown} file(s) not listed in imgCatIds.json were left out")
    return ds


def _default_categories() -> list[Category]:
    return [Category(i + 1, n) for i, n in enumerate(CATEGORY_NAMES)]


# ------------------------------------------------------------------ opening a COCO ground truth


def _find_photo(folders: list[Path], file_name: str) -> Path | None:
    for folder in folders:
        for candidate in (folder / file_name, folder / os.path.basename(file_name)):
            if candidate.is_file():
                return candidate
    return None


def image_folders_for(gt_path: Path, images: str | os.PathLike[str] | None) -> list[Path]:
    """Folders to look in for a COCO file's images: the one given, else guesses beside the file."""
    bases = [Path(images)] if images else [gt_path.parent / "images", gt_path.parent, gt_path.parent.parent / "images"]
    folders: list[Path] = []
    for base in bases:
        if not base.is_dir():
            continue
        folders.append(base)
        for split_folder in ("validation", "training", "testing"):
            if (base / split_folder).is_dir():
                folders.append(base / split_folder)
    return folders


def open_coco(gt_path: str | os.PathLike[str], images: str | os.PathLike[str] | None = None) -> ReviewDataset:
    """A COCO ground-truth JSON (``{"categories", "images", "annotations"}``) and its images."""
    path = Path(gt_path)
    data = read_json_file(path)
    if not isinstance(data, dict) or "annotations" not in data:
        if isinstance(data, list):
            raise InputError(f"{path}: this is a list (a predictions file?), expected a COCO ground truth object")
        raise InputError(f"{path}: expected a COCO ground truth with 'images', 'categories' and 'annotations'")
    if images is not None and not Path(images).is_dir():
        raise InputError(f"{images}: image folder not found")
    catalog = catalog_from_dict(data, source=str(path))
    anns = data["annotations"]
    if not isinstance(anns, list):
        raise InputError(f"{path}: field 'annotations' must be a list")
    by_image: dict[int, list[dict]] = {im.id: [] for im in catalog.images}
    cat_counts = np.zeros(256, dtype=np.int64)
    for i, ann in enumerate(anns):
        if not isinstance(ann, dict) or not {"image_id", "category_id", "segmentation"} <= ann.keys():
            raise InputError(f"{path}: annotations[{i}]: expected image_id, category_id and segmentation")
        seg = ann["segmentation"]
        # what pycocotools' annToRLE reads: polygons (a list of [x, y, ...] lists), or an RLE
        # {'size', 'counts'} with counts compressed (a string) or not (a list of run lengths)
        if not (isinstance(seg, list) or (isinstance(seg, dict) and "counts" in seg and "size" in seg)):
            raise InputError(f"{path}: annotations[{i}].segmentation: expected polygons or an RLE "
                             "{'size', 'counts'}")
        image = catalog.by_id.get(ann["image_id"]) if is_int64(ann["image_id"]) else None
        # the scorer's bounds, before pycocotools draws anything (NaN or far-away polygon
        # points crash it; absurd numbers overflow)
        problem = annotation_problem(ann, (image.height, image.width) if image else None)
        if problem:
            raise InputError(f"{path}: annotations[{i}].{problem}")
        if image is None:
            raise InputError(f"{path}: annotations[{i}].image_id {short(ann['image_id'])} is not in 'images'")
        by_image[ann["image_id"]].append(ann)
        cat = ann["category_id"]
        if isinstance(cat, int) and 0 <= cat < 256:
            cat_counts[cat] += 1
    bad_rle = first_unusable_rle([a["segmentation"] for a in anns])
    if bad_rle is not None:
        k, field_name, reason = bad_rle
        raise InputError(f"{path}: annotations[{k}].{field_name}: {reason}")
    folders = image_folders_for(path, images)
    records: list[ImageRecord] = sorted(catalog.images, key=lambda r: r.file_name)
    entries = [
        ImageEntry(r.id, r.file_name, r.width, r.height, r.split or split_of_file_name(r.file_name),
                   _find_photo(folders, r.file_name))
        for r in records
    ]
    counts = np.array([len(by_image[e.id]) for e in entries], dtype=np.int64)
    ds = ReviewDataset("coco", path, entries, list(catalog.categories) or _default_categories(),
                       coco_annotations=by_image, gt_counts=counts,
                       findings_counts=np.zeros(len(entries), dtype=np.int64), category_counts=cat_counts)
    missing = sum(e.photo_path is None for e in entries)
    if missing:
        where = ", ".join(str(f) for f in folders) or "no image folder found"
        ds.notes.append(f"{missing} of {len(entries)} images not found ({where})")
    return ds


def open_ground_truth(path: str | os.PathLike[str], images: str | os.PathLike[str] | None = None) -> ReviewDataset:
    """A folder (challenge layout) or a COCO ground-truth JSON file."""
    p = Path(path)
    if p.is_dir():
        return open_layout(p)
    if p.suffix.lower() == ".json" or p.is_file():
        if p.name == "imgCatIds.json":
            return open_layout(p.parent)
        return open_coco(p, images)
    raise InputError(f"{p}: no such file or folder")


# ------------------------------------------------------------------------------- predictions


@dataclass
class PredictionIndex:
    """A loaded submission grouped by image (indices into the file's order)."""

    submission: Submission
    by_image: dict[int, np.ndarray]
    category_counts: np.ndarray  # predictions per category id over the images of the data set
    unknown_images: int  # predictions naming an image that is not in the data set
    path: Path | None = None
    size_mismatch: dict[int, int] = field(default_factory=dict)  # image id -> RLEs not of the image's size

    def for_image(self, image_id: int) -> np.ndarray:
        return self.by_image.get(image_id, _EMPTY)

    def count(self, image_id: int) -> int:
        return len(self.by_image.get(image_id, _EMPTY))


_EMPTY = np.zeros(0, dtype=np.int64)


def index_predictions(sub: Submission, image_ids: set[int] | None = None, path: Path | None = None) -> PredictionIndex:
    """Group predictions by image id; ``image_ids`` (the data set's) decides what is unknown."""
    order = np.argsort(sub.image_ids, kind="stable")
    sorted_ids = sub.image_ids[order]
    uniq, starts = np.unique(sorted_ids, return_index=True)
    bounds = np.append(starts, len(order))
    by_image = {int(u): order[bounds[k]: bounds[k + 1]] for k, u in enumerate(uniq.tolist())}
    known = np.ones(len(sub), dtype=bool)
    unknown = 0
    if image_ids is not None:
        known = np.isin(sub.image_ids, np.fromiter(image_ids, dtype=np.int64, count=len(image_ids)))
        unknown = int((~known).sum())
    cats = sub.category_ids[known]
    cats = cats[(cats >= 0) & (cats < 256)]
    counts = np.bincount(cats, minlength=256)[:256].astype(np.int64)
    return PredictionIndex(sub, by_image, counts, unknown, path)


def load_predictions(path: str | os.PathLike[str], dataset: ReviewDataset | None) -> PredictionIndex:
    """Read and index a submission; :class:`InputError` (one line) when it cannot be used."""
    p = Path(path)
    if p.is_dir():
        raise SubmissionError(f"{p}: is a folder, expected a predictions JSON file")
    # the evaluator's bulk loader (same columns and messages, ~5x faster than item by item); one
    # process: this runs in a worker thread, where forking is unsafe
    sub = load_submission(p, workers=1)
    if sub.needs_image_sizes:
        # polygons and boxes (item 0 has a bbox): drawn at the images' sizes now, as pycocotools
        # draws them, so that the canvas, the evaluation and the tables see compressed RLE
        if dataset is None:
            raise SubmissionError(f"{p}: its polygons are drawn at their images' sizes: open a data set first")
        sub = rasterise(sub, {e.id: (e.height, e.width) for e in dataset.entries}, skip_unknown=True)
    ids = set(dataset.index_of) if dataset is not None else None
    index = index_predictions(sub, ids, p)
    if dataset is not None:
        index.size_mismatch = count_size_mismatches(index, dataset)
    if ids is not None and index.unknown_images == len(sub):
        raise SubmissionError(
            f"{p}: none of its {len(sub)} predictions names an image of the open data set "
            f"({dataset.name if dataset else ''}); image_id is the id in imgCatIds.json"
        )
    return index


def count_size_mismatches(index: PredictionIndex, dataset: ReviewDataset) -> dict[int, int]:
    """Per image, the predictions whose RLE size is not the image's (the viewer cannot draw them)."""
    rles = index.submission.rles
    out: dict[int, int] = {}
    for entry in dataset.entries:
        size = [entry.height, entry.width]
        n = sum(list(rles[i]["size"]) != size for i in index.for_image(entry.id).tolist())
        if n:
            out[entry.id] = n
    return out


def sniff_json_kind(path: str | os.PathLike[str]) -> str:
    """``"predictions"`` for a JSON list, ``"ground-truth"`` for an object (first bytes only)."""
    with open_input(path) as handle:  # a regular file only: a FIFO would block here for ever
        head = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"["):
        return "predictions"
    if head.startswith(b"{"):
        return "ground-truth"
    return "unknown"
