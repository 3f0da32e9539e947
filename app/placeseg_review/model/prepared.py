"""Everything one image needs on screen, decoded off the GUI thread (Qt-free).

:func:`prepare_image` reads the photo, decodes the ground truth into a label plane plus
instance records, and decodes only this image's predictions (pycocotools on its RLEs alone)
into small crops. The canvas then composes overlays from these arrays in a few milliseconds
whatever the display options are.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field

import numpy as np
from PIL import UnidentifiedImageError
from pycocotools import mask as mask_utils

from placeseg_core.annotations import (
    CATEGORY_OUT_OF_RANGE,
    MISSING_FILE,
    SIZE_MISMATCH,
    Finding,
    decode_annotation,
)
from placeseg_core.errors import InputError
from placeseg_core.safety.images import open_image

from .data import ImageEntry, PredictionIndex, ReviewDataset
from .overlay import dashed, hatch, inner_boundary
from .rle_crops import decode_masks


@dataclass(frozen=True)
class GtInstance:
    """A ground-truth object; ``label`` is its value in :attr:`GroundTruth.labels`."""

    label: int
    instance_id: int  # green value (PNG) or annotation id (COCO)
    category_id: int
    area: int
    bbox: tuple[int, int, int, int]  # x, y, w, h in pixels
    anchor: tuple[float, float]  # a point inside the mask (x, y), for its name
    iscrowd: bool = False  # a COCO crowd region (iscrowd 1): drawn hatched, ignored when scoring


@dataclass
class GroundTruth:
    labels: np.ndarray  # (H, W) uint8/uint16, 0 = background, else GtInstance.label
    instances: list[GtInstance]
    findings: list[Finding]
    boundary: np.ndarray  # (H, W) bool: pixels drawn opaque: instance edges, crowd regions' hatching
    by_label: dict[int, GtInstance] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_label = {inst.label: inst for inst in self.instances}


@dataclass
class Predictions:
    """This image's predictions, best score first (the evaluator's ranking; stable on ties)."""

    indices: np.ndarray  # positions in the submission file
    category_ids: np.ndarray
    scores: np.ndarray
    areas: np.ndarray
    crops: list[tuple[int, int, np.ndarray]]  # (y0, x0, bool mask crop) per prediction
    edges: list[tuple[np.ndarray, np.ndarray]]  # (ys, xs) of each mask's dashed outline pixels
    size_mismatch: int = 0  # RLEs whose size differs from the image (not drawn)
    # (file position, category id, score, RLE size [h, w]) of those, best score first: listed, never drawn
    mismatched: list[tuple[int, int, float, tuple[int, int]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.indices)

    def listed(self, index: int) -> bool:
        """The prediction at file position ``index`` is one of this image's (drawn or not)."""
        return bool((self.indices == index).any()) or any(m[0] == index for m in self.mismatched)


@dataclass
class PreparedImage:
    entry: ImageEntry
    photo: np.ndarray  # (H, W, 3) uint8
    gt: GroundTruth | None
    preds: Predictions | None
    notes: list[str] = field(default_factory=list)
    generation: int = 0  # the predictions generation it was prepared for
    layers: object | None = None  # render.RenderedLayers made in advance for the options of the day

    @property
    def shape(self) -> tuple[int, int]:
        return self.photo.shape[0], self.photo.shape[1]


def read_photo(entry: ImageEntry) -> tuple[np.ndarray, str | None]:
    """The photo as RGB, or a neutral grey placeholder of the catalogue's size and a note."""
    if entry.photo_path is not None:
        try:
            # a regular file of a bounded pixel count (placeseg_core.safety): a FIFO would hang
            # the worker, a decompression bomb would take gigabytes
            with open_image(entry.photo_path, "photo") as img:
                return np.asarray(img.convert("RGB")), None
        except InputError as exc:
            note = str(exc)
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            note = f"{entry.photo_path}: cannot read the image ({exc})"
    else:
        note = f"{entry.file_name}: image file not found"
    placeholder = np.full((entry.height, entry.width, 3), 96, dtype=np.uint8)
    placeholder[::32, :, :] = 110
    placeholder[:, ::32, :] = 110
    return placeholder, note


def _anchors(labels: np.ndarray, ids: np.ndarray) -> tuple[dict[int, tuple[float, float]], dict[int, tuple[int, int, int, int]]]:
    """A point inside each label (middle pixel of its widest row) and its bounding box."""
    h, w = labels.shape
    nl = int(labels.max()) + 1 if labels.size else 1
    flat = labels.astype(np.int64)
    rows = np.bincount((np.arange(h, dtype=np.int64)[:, None] * nl + flat).ravel(), minlength=h * nl).reshape(h, nl)
    cols = np.bincount((np.arange(w, dtype=np.int64)[None, :] * nl + flat).ravel(), minlength=w * nl).reshape(w, nl)
    anchors: dict[int, tuple[float, float]] = {}
    boxes: dict[int, tuple[int, int, int, int]] = {}
    for label in ids.tolist():
        r = np.flatnonzero(rows[:, label])
        c = np.flatnonzero(cols[:, label])
        if r.size == 0:
            continue
        boxes[label] = (int(c[0]), int(r[0]), int(c[-1] - c[0] + 1), int(r[-1] - r[0] + 1))
        y = int(np.argmax(rows[:, label]))
        xs = np.flatnonzero(labels[y] == label)
        anchors[label] = (float(xs[len(xs) // 2]) + 0.5, float(y) + 0.5)
    return anchors, boxes


def _gt_from_png(entry: ImageEntry) -> GroundTruth | None:
    if entry.annotation_path is None:
        return None
    from placeseg_core.catalog import ImageRecord

    record = ImageRecord(entry.id, entry.file_name, entry.width, entry.height, entry.split)
    dec = decode_annotation(entry.annotation_path, record, keep_planes=True, with_rle=False)
    if dec.instance_plane is None:
        empty = np.zeros((entry.height, entry.width), dtype=np.uint8)
        return GroundTruth(empty, [], dec.findings, empty.astype(bool))
    labels = dec.instance_plane
    ids = np.array([i.instance_id for i in dec.instances], dtype=np.int64)
    anchors, boxes = _anchors(labels, ids)
    instances = [
        GtInstance(i.instance_id, i.instance_id, i.category_id, i.area,
                   boxes.get(i.instance_id, (0, 0, 0, 0)), anchors.get(i.instance_id, (0.0, 0.0)))
        for i in dec.instances
    ]
    return GroundTruth(labels, instances, dec.findings, inner_boundary(labels))


def coco_rle(seg: object, height: int, width: int) -> dict:
    """pycocotools' ``annToRLE``: polygons (parts merged) and uncompressed RLE become compressed
    RLE, converted at the image's size; a compressed RLE is used as it is."""
    if isinstance(seg, list):
        return mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    if isinstance(seg, dict) and isinstance(seg.get("counts"), list):
        return mask_utils.frPyObjects(seg, height, width)
    return seg  # type: ignore[return-value]


def _is_crowd(ann: dict) -> bool:
    value = ann.get("iscrowd", 0)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and int(value) != 0


def _gt_from_coco(entry: ImageEntry, anns: list[dict], source: str,
                  category_ids: set[int] | None = None) -> GroundTruth:
    h, w = entry.height, entry.width
    dtype = np.uint8 if len(anns) < 256 else np.uint16
    labels = np.zeros((h, w), dtype=dtype)
    findings: list[Finding] = []
    kept: list[tuple[int, dict]] = []
    # Crowd regions first, so that the objects inside one stay visible (and hoverable) on top.
    order = sorted(enumerate(anns, start=1), key=lambda pair: not _is_crowd(pair[1]))
    for k, ann in order:
        seg = ann["segmentation"]
        if isinstance(seg, dict) and list(seg.get("size", ())) != [h, w]:
            findings.append(Finding(SIZE_MISMATCH, f"{source}: annotation {ann.get('id')} has size "
                                    f"{seg.get('size')}, the image is {h}×{w} (H×W)", source, ann.get("id")))
            continue
        try:
            mask = mask_utils.decode(coco_rle(seg, h, w)).astype(bool)
        except Exception as exc:  # pycocotools raises assorted errors on malformed polygons / RLEs
            findings.append(Finding(SIZE_MISMATCH, f"{source}: annotation {ann.get('id')}: unusable "
                                    f"segmentation ({exc})", source, ann.get("id")))
            continue
        labels[mask] = k
        kept.append((k, ann))
        cat = ann["category_id"]
        if category_ids:
            if cat not in category_ids:
                findings.append(Finding(CATEGORY_OUT_OF_RANGE, f"{source}: annotation {ann.get('id')} has "
                                        f"category {cat!r}, not in the file's categories", source, ann.get("id")))
        elif not (isinstance(cat, int) and 1 <= cat <= 100):
            findings.append(Finding(CATEGORY_OUT_OF_RANGE, f"{source}: annotation {ann.get('id')} has "
                                    f"category {cat!r}, outside 1..100", source, ann.get("id")))
    kept.sort(key=lambda pair: pair[0])  # file order again
    ids = np.array([k for k, _ in kept], dtype=np.int64)
    anchors, boxes = _anchors(labels, ids)
    areas = np.bincount(labels.ravel(), minlength=len(anns) + 1)
    instances = [
        GtInstance(k, int(ann.get("id", k)), int(ann["category_id"]), int(areas[k]),
                   boxes.get(k, (0, 0, 0, 0)), anchors.get(k, (0.0, 0.0)), _is_crowd(ann))
        for k, ann in kept
        if areas[k] > 0
    ]
    boundary = inner_boundary(labels)
    crowd_labels = [i.label for i in instances if i.iscrowd]
    if crowd_labels:
        boundary |= hatch(np.isin(labels, crowd_labels))
    return GroundTruth(labels, instances, findings, boundary)


def decode_predictions(index: PredictionIndex, image_id: int, height: int, width: int,
                       cancelled: Callable[[], bool] = lambda: False) -> Predictions:
    """Decode one image's predictions into crops (only its RLEs; nothing else is touched)."""
    sub = index.submission
    idx = index.for_image(image_id)
    idx = idx[np.argsort(-sub.scores[idx], kind="stable")]
    kept: list[int] = []
    mismatched: list[tuple[int, int, float, tuple[int, int]]] = []
    for i in idx.tolist():
        rle = sub.rles[i]
        if list(rle["size"]) != [height, width]:
            mismatched.append((i, int(sub.category_ids[i]), float(sub.scores[i]), tuple(rle["size"])))
        else:
            kept.append(i)
    if cancelled():
        kept = []
    crops: list[tuple[int, int, np.ndarray]] = []
    edges: list[tuple[np.ndarray, np.ndarray]] = []
    areas: list[int] = []
    nothing = np.zeros(0, dtype=np.int64)
    for m in decode_masks([sub.rles[i]["counts"] for i in kept], height, width, cancelled):
        if m is None:  # an empty mask
            crops.append((0, 0, np.zeros((1, 1), dtype=bool)))
            areas.append(0)
            edges.append((nothing, nothing))
            continue
        crops.append((m.y0, m.x0, m.crop))
        areas.append(m.area)
        keep = dashed(m.edge_ys, m.edge_xs)
        edges.append((m.edge_ys[keep], m.edge_xs[keep]))
    sel = np.array(kept, dtype=np.int64)
    return Predictions(sel, sub.category_ids[sel], sub.scores[sel], np.array(areas, dtype=np.int64), crops, edges,
                       len(mismatched), mismatched)


def prepare_image(dataset: ReviewDataset, image_id: int, predictions: PredictionIndex | None,
                  generation: int = 0, cancelled: Callable[[], bool] = lambda: False,
                  pool: Executor | None = None) -> PreparedImage:
    """Photo, ground truth and predictions of one image (runs in a worker thread).

    With a ``pool``, the predictions are decoded there meanwhile, at the catalogue's size (the
    photo's when it differs, again here afterwards): the photo and the PNG decode mostly
    without the GIL, and a cold image switch took a third less (benchmarks/gui_switch.py)."""
    entry = dataset.entry(image_id)
    early: Future[Predictions] | None = None
    if pool is not None and predictions is not None:
        early = pool.submit(decode_predictions, predictions, image_id, entry.height, entry.width, cancelled)
    photo, note = read_photo(entry)
    notes = [note] if note else []
    if cancelled():  # the caller discards it: stop between the steps (a prefetch stopped for another image)
        if early is not None:
            early.result()  # not left running on its own
        return PreparedImage(entry, photo, None, None, notes, generation)
    h, w = photo.shape[:2]
    if (h, w) != (entry.height, entry.width):
        notes.append(f"{entry.file_name}: photo is {w}×{h} (W×H) but the catalogue says {entry.width}×{entry.height}")
    gt: GroundTruth | None
    if dataset.kind == "coco":
        gt = _gt_from_coco(entry, (dataset.coco_annotations or {}).get(image_id, []), str(dataset.source),
                           {c.id for c in dataset.categories})
    else:
        gt = _gt_from_png(entry)
        if gt is None:
            notes.append(f"{entry.file_name}: no annotation file")
        elif any(f.code == MISSING_FILE for f in gt.findings):
            gt = None
    if gt is not None and gt.labels.shape != (h, w):
        # Draw nothing rather than something misplaced; the finding says why.
        notes.append("ground truth and photo differ in size: ground truth not drawn")
        gt = GroundTruth(np.zeros((h, w), np.uint8), gt.instances, gt.findings, np.zeros((h, w), bool))
    preds = None
    if early is not None and (h, w) == (entry.height, entry.width):
        preds = early.result()
    elif predictions is not None and not cancelled():
        preds = decode_predictions(predictions, image_id, h, w, cancelled)
    if preds is not None and preds.size_mismatch:
        notes.append(f"{preds.size_mismatch} prediction(s) have an RLE size other than {h}×{w}: not drawn")
    return PreparedImage(entry, photo, gt, preds, notes, generation)
