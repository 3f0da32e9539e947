"""Small COCO-format cases the tests build themselves: polygons, crowd regions, ``ignore`` fields.

``make_coco_case`` draws non-square images with ground truth in every form pycocotools reads:
polygons (one or several parts, COCO-style float areas from the polygon, not the pixel count),
compressed RLE, and crowd regions in compressed *and* uncompressed RLE laid over ordinary
instances of the same category. Some annotations carry an ``ignore`` field that disagrees with
``iscrowd`` (pycocotools overwrites it). Predictions: jittered copies of the objects, several
parts of each crowd region (they all match it), clutter, a category the ground truth does not
list, an image with ground truth and no prediction. Category ids are not contiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pycocotools import mask as mask_utils

from placeseg_core import rle as rle_utils

SIZES = ((90, 140), (120, 70), (64, 200), (101, 77))  # (height, width): none square
CATEGORIES = (1, 3, 7, 18, 90)


@dataclass
class CocoCase:
    gt: dict[str, Any]
    items: list[dict[str, Any]]
    crowd_ids: list[int] = field(default_factory=list)
    ignore_only_ids: list[int] = field(default_factory=list)  # 'ignore': 1 without iscrowd
    image_without_predictions: int | None = None


def _polygon(rng: np.random.Generator, h: int, w: int) -> list[float]:
    cx, cy = rng.uniform(0.15 * w, 0.85 * w), rng.uniform(0.15 * h, 0.85 * h)
    r = rng.uniform(4, 0.35 * min(h, w))
    k = int(rng.integers(3, 9))
    angles = np.sort(rng.uniform(0, 2 * np.pi, k))
    radii = r * rng.uniform(0.6, 1.0, k)
    xs = np.clip(cx + radii * np.cos(angles), 0, w - 0.01)
    ys = np.clip(cy + radii * np.sin(angles), 0, h - 0.01)
    return [round(float(v), 2) for pair in zip(xs, ys, strict=True) for v in pair]


def _shoelace(poly: list[float]) -> float:
    xs, ys = np.array(poly[0::2]), np.array(poly[1::2])
    return float(0.5 * abs(np.dot(xs, np.roll(ys, 1)) - np.dot(ys, np.roll(xs, 1))))


def polygon_mask(polys: list[list[float]], h: int, w: int) -> np.ndarray:
    """What pycocotools' annToRLE makes of polygons: frPyObjects at the image size, merged."""
    return mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects(polys, h, w))).astype(np.uint8)


def uncompressed_rle(m: np.ndarray) -> dict[str, Any]:
    """COCO's uncompressed RLE: column-major run lengths starting with zeros."""
    flat = np.asfortranarray(m).ravel(order="F").astype(np.int8)
    change = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], change, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        runs = [0, *runs]
    return {"size": [int(m.shape[0]), int(m.shape[1])], "counts": [int(v) for v in runs]}


def _shift(m: np.ndarray, rng: np.random.Generator, amount: int) -> np.ndarray:
    dy, dx = (int(v) for v in rng.integers(-amount, amount + 1, 2))
    out = np.roll(np.roll(m, dy, axis=0), dx, axis=1)
    return out if out.any() else m


def make_coco_case(seed: int, n_images: int = 6, ties: bool = False) -> CocoCase:
    rng = np.random.default_rng(seed)
    images = []
    for i in range(n_images):
        h, w = SIZES[i % len(SIZES)]
        images.append({"id": 1000 + 7 * i, "file_name": f"COCO_val_{i:06d}.jpg", "height": h, "width": w})
    anns: list[dict[str, Any]] = []
    masks: list[tuple[int, int, np.ndarray, bool]] = []  # image id, category, mask, crowd
    case = CocoCase({}, [])
    next_id = 1
    for img in images:
        h, w = img["height"], img["width"]
        placed: list[tuple[int, np.ndarray]] = []
        for _ in range(int(rng.integers(2, 7))):
            cat = int(rng.choice(CATEGORIES[:-1]))  # 90: listed, never annotated
            if rng.random() < 0.6:
                polys = [_polygon(rng, h, w)]
                if rng.random() < 0.3:
                    polys.append(_polygon(rng, h, w))  # a second part, merged as annToRLE does
                m = polygon_mask(polys, h, w)
                if not m.any():
                    continue
                ann = {"segmentation": polys, "area": round(sum(_shoelace(p) for p in polys), 3)}
            else:
                m = np.zeros((h, w), np.uint8)
                y0, x0 = int(rng.integers(0, h - 4)), int(rng.integers(0, w - 4))
                m[y0 : y0 + int(rng.integers(3, h // 2)), x0 : x0 + int(rng.integers(3, w // 2))] = 1
                ann = {"segmentation": rle_utils.encode(m), "area": float(m.sum())}
            ann.update(id=next_id, image_id=img["id"], category_id=cat, iscrowd=0, bbox=[0, 0, 1, 1])
            if rng.random() < 0.15:
                ann["ignore"] = 1  # pycocotools overwrites it with iscrowd: not ignored
                case.ignore_only_ids.append(next_id)
            anns.append(ann)
            masks.append((img["id"], cat, m, False))
            placed.append((cat, m))
            next_id += 1
        # a crowd region over the first object (same category), in either RLE form
        if placed:
            cat, under = placed[0]
            ys, xs = np.nonzero(under)
            crowd = np.zeros((h, w), np.uint8)
            crowd[max(ys.min() - 6, 0) : ys.max() + 7, max(xs.min() - 6, 0) : xs.max() + 7] = 1
            compressed = rng.random() < 0.5
            seg = rle_utils.encode(crowd) if compressed else uncompressed_rle(crowd)
            ann = {"id": next_id, "image_id": img["id"], "category_id": cat, "iscrowd": 1,
                   "area": float(crowd.sum()), "segmentation": seg, "bbox": [0, 0, 1, 1]}
            if rng.random() < 0.5:
                ann["ignore"] = 0  # overwritten too: a crowd region is always ignored
            anns.append(ann)
            masks.append((img["id"], cat, crowd, True))
            case.crowd_ids.append(next_id)
            next_id += 1
    case.image_without_predictions = images[1]["id"]
    items: list[dict[str, Any]] = []

    def score() -> float:
        s = float(rng.uniform(0.05, 1.0))
        return round(s, 1) if ties else s

    def add(img_id: int, cat: int, m: np.ndarray) -> None:
        items.append({"image_id": img_id, "category_id": cat, "segmentation": rle_utils.encode(m),
                      "score": score()})

    by_image = {img["id"]: img for img in images}
    for img_id, cat, m, crowd in masks:
        if img_id == case.image_without_predictions:
            continue
        h, w = by_image[img_id]["height"], by_image[img_id]["width"]
        if crowd:  # several parts of the region: each has crowd IoU (|d & g| / |d|) near 1
            ys, xs = np.nonzero(m)
            for _ in range(int(rng.integers(3, 6))):
                part = np.zeros((h, w), np.uint8)
                y0, x0 = int(rng.integers(ys.min(), ys.max())), int(rng.integers(xs.min(), xs.max()))
                part[y0 : y0 + int(rng.integers(2, 12)), x0 : x0 + int(rng.integers(2, 12))] = 1
                add(img_id, cat, part & m if (part & m).any() else m)
            continue
        if rng.random() < 0.85:
            add(img_id, cat, _shift(m, rng, 2))
        if rng.random() < 0.3:
            add(img_id, cat, _shift(m, rng, 6))
    for img in images:
        if img["id"] == case.image_without_predictions:
            continue
        h, w = img["height"], img["width"]
        for _ in range(int(rng.integers(1, 4))):
            m = np.zeros((h, w), np.uint8)
            y0, x0 = int(rng.integers(0, h - 4)), int(rng.integers(0, w - 4))
            m[y0 : y0 + int(rng.integers(2, 30)), x0 : x0 + int(rng.integers(2, 30))] = 1
            add(img["id"], int(rng.choice((*CATEGORIES, 55))), m)  # 55: not in the GT
    order = rng.permutation(len(items))
    case.items = [items[i] for i in order]
    case.gt = {"info": {"description": "coco_cases"}, "images": images, "annotations": anns,
               "categories": [{"id": c, "name": f"thing{c}", "supercategory": "x"} for c in CATEGORIES]}
    return case
