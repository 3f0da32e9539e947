"""Generated evaluation cases and the plain-pycocotools yardstick, shared by the test_eval_* files.

``make_case`` draws small scenes (rectangles and ellipses) with ground truth numbered from 0,
and model-like predictions: jittered copies, duplicates, wrong classes, background clutter.
Options switch on each trap the evaluator must reproduce. The tests at the bottom check that
the options really produce what the parity tests rely on.
"""

from __future__ import annotations

import contextlib
import copy
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

from placeseg_core import rle as rle_utils

H, W = 128, 160


@dataclass
class Case:
    gt: dict[str, Any]
    items: list[dict[str, Any]]
    notes: dict[str, Any] = field(default_factory=dict)


def _shape_mask(rng: np.random.Generator, h: int = H, w: int = W, box: tuple | None = None) -> np.ndarray:
    m = np.zeros((h, w), dtype=np.uint8)
    if box is None:
        bw, bh = int(rng.integers(3, 110)), int(rng.integers(3, 100))
        x0, y0 = int(rng.integers(0, w - min(bw, w - 1))), int(rng.integers(0, h - min(bh, h - 1)))
        box = (x0, y0, bw, bh)
    x0, y0, bw, bh = box
    if rng.random() < 0.5:
        m[y0 : y0 + bh, x0 : x0 + bw] = 1
    else:
        yy, xx = np.mgrid[0:h, 0:w]
        cy, cx = y0 + bh / 2, x0 + bw / 2
        m[((yy - cy) / max(bh / 2, 1)) ** 2 + ((xx - cx) / max(bw / 2, 1)) ** 2 <= 1] = 1
    if not m.any():
        m[min(y0, h - 1), min(x0, w - 1)] = 1
    return m


def _jitter(rng: np.random.Generator, mask: np.ndarray, amount: int) -> np.ndarray:
    dy, dx = (int(v) for v in rng.integers(-amount, amount + 1, 2))
    out = np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    if rng.random() < 0.5:  # grow or shrink a little
        k = int(rng.integers(1, 3))
        if rng.random() < 0.5:
            out = out | np.roll(out, k, axis=0) | np.roll(out, k, axis=1)
        else:
            out = out & np.roll(out, k, axis=0) & np.roll(out, k, axis=1)
    if not out.any():
        out = mask.copy()
    return out.astype(np.uint8)


def make_case(
    seed: int,
    n_images: int = 6,
    categories: tuple[int, ...] = (1, 2, 3, 4, 5),
    ties: bool = False,
    crowd: bool = False,
    bbox: bool = False,
    many: bool = False,
    first_id: int = 0,
    id0_match: bool = False,
    empty_images: bool = False,
    area_edges: bool = False,
) -> Case:
    rng = np.random.default_rng(seed)
    images = [{"id": 100 + i, "file_name": f"ADE_val_{i + 1:08d}.jpg", "width": W, "height": H}
              for i in range(n_images)]
    # category 5 (if listed) never has ground truth; the last listed one never has predictions
    gt_cats = [c for c in categories if c != 5]
    pred_cats = list(categories[:-1]) + [99]  # 99: not in the ground truth's categories
    anns: list[dict[str, Any]] = []
    masks: dict[int, tuple[int, int, np.ndarray]] = {}
    next_id = first_id
    for i, img in enumerate(images):
        if empty_images and i == 0:
            continue  # an image without ground truth
        for _ in range(int(rng.integers(1, 7))):
            cat = int(rng.choice(gt_cats))
            m = _shape_mask(rng)
            ann = {"id": next_id, "image_id": img["id"], "segmentation": rle_utils.encode(m),
                   "category_id": cat, "iscrowd": 0, "area": int(m.sum())}
            if crowd and rng.random() < 0.2:
                ann["iscrowd"] = 1
            anns.append(ann)
            masks[next_id] = (img["id"], cat, m)
            next_id += 1
    if area_edges:
        for side in (32, 96):  # areas exactly 32**2 and 96**2: both ranges either side
            m = np.zeros((H, W), dtype=np.uint8)
            m[5 : 5 + side, 5 : 5 + side] = 1
            img_id = images[-1]["id"]
            anns.append({"id": next_id, "image_id": img_id, "segmentation": rle_utils.encode(m),
                         "category_id": gt_cats[0], "iscrowd": 0, "area": int(m.sum())})
            masks[next_id] = (img_id, gt_cats[0], m)
            next_id += 1
    items: list[dict[str, Any]] = []

    def score() -> float:
        s = float(rng.uniform(0.05, 1.0))
        return round(s, 1) if ties else s

    def add(img_id: int, cat: int, m: np.ndarray, s: float) -> None:
        item = {"image_id": img_id, "category_id": cat, "segmentation": rle_utils.encode(m), "score": s}
        if bbox:
            ys, xs = np.nonzero(m)
            # a loose box: its area (w*h) often lies in another range than the mask's
            x0, y0 = float(xs.min()), float(ys.min())
            item["bbox"] = [x0, y0, float(xs.max() - x0 + 1) * 1.6, float(ys.max() - y0 + 1) * 1.6]
        items.append(item)

    for img_id, cat, m in masks.values():
        if empty_images and img_id == images[1]["id"]:
            continue  # an image with ground truth but no predictions
        if cat == categories[-1]:
            continue
        if rng.random() < 0.8:
            wrong = rng.random() < 0.1
            add(img_id, int(rng.choice(pred_cats)) if wrong else cat, _jitter(rng, m, 3), score())
        if rng.random() < 0.3:
            add(img_id, cat, _jitter(rng, m, 8), score())
    for img in images:
        if empty_images and img["id"] == images[1]["id"]:
            continue
        for _ in range(int(rng.poisson(3))):
            add(img["id"], int(rng.choice(pred_cats)), _shape_mask(rng), score())
    if many:
        img_id = images[-1]["id"]
        near = [m for (i, c, m) in masks.values() if i == img_id and c == gt_cats[0]]
        for j in range(300):  # one category: beyond maxDets per image and category
            base = near[j % len(near)] if near and j % 3 == 0 else _shape_mask(rng)
            add(img_id, gt_cats[0], _jitter(rng, base, 6), score())
        img_id = images[-2]["id"]
        for _ in range(280):  # across categories: breaks the README rule only
            add(img_id, int(rng.choice(pred_cats)), _shape_mask(rng), score())
    if id0_match:
        zero = [a for a in anns if a["id"] == 0]
        assert zero, "id0_match needs first_id=0"
        img_id, cat, m = masks[0]
        add(img_id, cat, m.copy(), 0.99)  # the same mask as GT id 0: IoU 1
    order = rng.permutation(len(items)) if not bbox else np.arange(len(items))
    items = [items[i] for i in order]
    gt = {"categories": [{"id": c, "name": f"cat{c}"} for c in categories],
          "images": images, "annotations": anns}
    return Case(gt, items, {"seed": seed})


def run_pycocotools(gt: dict[str, Any], items: list[dict[str, Any]],
                    max_dets: tuple[int, ...] = (1, 50, 255)) -> COCOeval:
    """The challenge's evaluation, plain: COCO() + dataset + loadRes + COCOeval segm."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        dt = coco.loadRes(copy.deepcopy(items))
        E = COCOeval(coco, dt, "segm")
        E.params.maxDets = list(max_dets)
        E.evaluate()
        E.accumulate()
    return E


def shifted_ids(gt: dict[str, Any], by: int = 1) -> dict[str, Any]:
    out = copy.deepcopy(gt)
    for a in out["annotations"]:
        a["id"] += by
    return out


# --- the generator does what the parity tests rely on ---------------------------------------


def test_options_produce_their_traps():
    case = make_case(3, ties=True, many=True, empty_images=True, area_edges=True)
    scores = [it["score"] for it in case.items]
    assert len(set(scores)) < len(scores)  # equal scores
    per_image: dict[int, int] = {}
    for it in case.items:
        per_image[it["image_id"]] = per_image.get(it["image_id"], 0) + 1
    assert max(per_image.values()) > 255
    gt_images = {a["image_id"] for a in case.gt["annotations"]}
    assert len(gt_images) < len(case.gt["images"])  # an image without ground truth
    assert len(per_image) < len(case.gt["images"])  # an image without predictions
    assert {1024, 9216} <= {a["area"] for a in case.gt["annotations"]}
    assert 99 in {it["category_id"] for it in case.items}


def test_id0_case_really_hits_the_quirk():
    case = make_case(5, id0_match=True)
    E = run_pycocotools(case.gt, case.items)
    E2 = run_pycocotools(shifted_ids(case.gt), case.items)
    assert not np.array_equal(E.eval["precision"], E2.eval["precision"])
