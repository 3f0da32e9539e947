"""Synthetic scenes, annotations and model-like predictions: the demo and the test fixtures.

Each image is generated from its own seed (``[seed, index]``), so any subset is reproducible and
the same generator serves the built-in demo, the tests and the benchmarks. Objects are drawn in
painter's order (far to near), so annotations hold visible parts, as ADE20K's do, while
predictions are drawn from whole shapes with model-like errors: loose outlines, wrong classes,
duplicates, background detections and misses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from . import rle as rle_utils
from .annotations import instances_from_planes
from .catalog import Catalog, Category, ImageRecord
from .categories import CATEGORY_NAMES

VAL_FIRST_ID = 20210  # ADE_val_00000001.jpg in imgCatIds.json
# (width, height) of validation images, most common first (from the challenge's val split).
VAL_SIZES = ((683, 512), (256, 256), (768, 512), (512, 683), (640, 480), (512, 512))
VAL_SIZE_WEIGHTS = (0.56, 0.16, 0.08, 0.08, 0.06, 0.06)

# Categories that stand on the floor, hang on the wall, or sit on something; with weights.
_FLOOR = {4: 6, 8: 5, 6: 4, 3: 3, 1: 2, 11: 2, 14: 2, 19: 3, 5: 3, 9: 3, 12: 2, 36: 1, 17: 2,
          18: 1, 30: 1, 41: 2, 70: 2, 72: 1, 92: 1, 63: 1, 71: 1, 86: 1, 38: 1, 20: 1}
_WALL = {2: 5, 10: 4, 7: 3, 13: 2, 52: 3, 88: 2, 99: 1, 25: 2, 54: 1, 96: 1, 97: 1}
_SMALL = {40: 3, 64: 3, 89: 2, 39: 2, 22: 3, 34: 2, 81: 1, 94: 1, 98: 2, 91: 1, 95: 1, 46: 1}
_ROUND = {22, 34, 39, 40, 52, 54, 64, 76, 81, 88, 89, 92, 94, 98, 99}
_BOXY = {1, 2, 3, 5, 6, 10, 12, 13, 17, 18, 25, 30, 36, 46, 58, 95, 96, 97}


@dataclass(frozen=True)
class Shape:
    """A drawable object outline in image coordinates."""

    kind: str  # "ellipse", "rect" or "poly"
    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    points: tuple[tuple[float, float], ...] = ()  # unit-box polygon for "poly" (0..1 coords)

    def moved(self, dx: float, dy: float, sx: float, sy: float) -> Shape:
        x0, y0, x1, y1 = self.box
        cx, cy = (x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy
        hw, hh = (x1 - x0) / 2 * sx, (y1 - y0) / 2 * sy
        return Shape(self.kind, (cx - hw, cy - hh, cx + hw, cy + hh), self.points)

    def draw(self, draw: ImageDraw.ImageDraw, fill: int, ox: float = 0.0, oy: float = 0.0) -> None:
        x0, y0, x1, y1 = self.box
        box = (x0 - ox, y0 - oy, x1 - ox, y1 - oy)
        if self.kind == "ellipse":
            draw.ellipse(box, fill=fill)
        elif self.kind == "rect":
            draw.rectangle(box, fill=fill)
        else:
            w, h = box[2] - box[0], box[3] - box[1]
            draw.polygon([(box[0] + u * w, box[1] + v * h) for u, v in self.points], fill=fill)

    def crop_mask(self, height: int, width: int) -> tuple[np.ndarray, int, int] | None:
        """The shape rasterised on its bounding crop, clipped to the image; None if outside."""
        x0, y0, x1, y1 = self.box
        cx0, cy0 = max(int(np.floor(x0)), 0), max(int(np.floor(y0)), 0)
        cx1, cy1 = min(int(np.ceil(x1)) + 1, width), min(int(np.ceil(y1)) + 1, height)
        if cx1 <= cx0 or cy1 <= cy0:
            return None
        img = Image.new("L", (cx1 - cx0, cy1 - cy0), 0)
        self.draw(ImageDraw.Draw(img), 1, cx0, cy0)
        crop = np.asarray(img, dtype=np.uint8)
        if not crop.any():
            return None
        return crop, cy0, cx0


@dataclass
class SceneObject:
    instance_id: int
    category_id: int
    shape: Shape
    colour: tuple[int, int, int]


@dataclass
class Scene:
    """One generated image: its catalogue record, label planes and objects (in drawing order)."""

    record: ImageRecord
    red: np.ndarray
    green: np.ndarray
    objects: list[SceneObject]
    horizon: int


@dataclass
class SynthDataset:
    """A whole generated set, in memory."""

    catalog: Catalog
    ground_truth: dict[str, Any]
    predictions: list[dict[str, Any]]
    scenes: list[Scene] = field(default_factory=list)


def _pick(rng: np.random.Generator, table: dict[int, int]) -> int:
    keys = list(table)
    weights = np.array([table[k] for k in keys], dtype=float)
    return int(keys[rng.choice(len(keys), p=weights / weights.sum())])


def category_colour(category_id: int) -> tuple[int, int, int]:
    """A stable, muted base colour per category (used for the photo and as overlay default)."""
    golden = 0.61803398875
    hue = (category_id * golden) % 1.0
    sat = 0.35 + 0.3 * ((category_id * 7) % 5) / 4
    val = 0.45 + 0.4 * ((category_id * 3) % 4) / 3
    i = int(hue * 6)
    f = hue * 6 - i
    p, q, t = val * (1 - sat), val * (1 - f * sat), val * (1 - (1 - f) * sat)
    r, g, b = [(val, t, p), (q, val, p), (p, val, t), (p, q, val), (t, p, val), (val, p, q)][i % 6]
    return int(r * 255), int(g * 255), int(b * 255)


def _shape_for(rng: np.random.Generator, category_id: int, box: tuple[float, float, float, float]) -> Shape:
    if category_id in _ROUND:
        return Shape("ellipse", box)
    if category_id in _BOXY and rng.random() < 0.7:
        return Shape("rect", box)
    n = int(rng.integers(7, 13))
    angles = np.sort(rng.uniform(0, 2 * np.pi, n))
    radius = rng.uniform(0.7, 1.0, n)
    pts = tuple(
        (float(0.5 + 0.5 * r * np.cos(a)), float(0.5 + 0.5 * r * np.sin(a)))
        for a, r in zip(angles, radius, strict=True)
    )
    return Shape("poly", box, pts)


def make_scene(rng: np.random.Generator, record: ImageRecord, n_objects: int) -> Scene:
    """Lay out objects (wall ones first, then floor ones far to near) and draw the label planes."""
    h, w = record.height, record.width
    horizon = int(h * rng.uniform(0.4, 0.6))
    specs: list[tuple[float, int, Shape]] = []  # (depth key, category, shape)
    for _ in range(n_objects):
        kind = rng.choice(3, p=[0.5, 0.25, 0.25])
        if kind == 0:  # floor object: size grows as it stands lower in the picture
            cat = _pick(rng, _FLOOR)
            bottom = rng.uniform(horizon + 5, h + 0.15 * h)
            scale = (bottom - horizon) / (h - horizon + 1e-6)
            ow = w * rng.uniform(0.08, 0.3) * (0.4 + scale)
            oh = ow * rng.uniform(0.6, 2.2)
            cx = rng.uniform(0, w)
            box = (cx - ow / 2, bottom - oh, cx + ow / 2, bottom)
            depth = bottom
        elif kind == 1:  # wall object, above the horizon
            cat = _pick(rng, _WALL)
            ow = w * rng.uniform(0.08, 0.25)
            oh = ow * rng.uniform(0.6, 1.6)
            cx = rng.uniform(0, w)
            cy = rng.uniform(oh / 2, max(horizon - oh / 2, oh / 2 + 1))
            box = (cx - ow / 2, cy - oh / 2, cx + ow / 2, cy + oh / 2)
            depth = -1.0
        else:  # small object anywhere below mid-height
            cat = _pick(rng, _SMALL)
            ow = w * rng.uniform(0.02, 0.08)
            oh = ow * rng.uniform(0.7, 1.6)
            cx = rng.uniform(0, w)
            cy = rng.uniform(h * 0.3, h)
            box = (cx - ow / 2, cy - oh / 2, cx + ow / 2, cy + oh / 2)
            depth = cy + h  # drawn last: small things sit in front
        specs.append((depth, cat, _shape_for(rng, cat, box)))
    specs.sort(key=lambda s: s[0])
    red_img = Image.new("L", (w, h), 0)
    green_img = Image.new("L", (w, h), 0)
    red_draw, green_draw = ImageDraw.Draw(red_img), ImageDraw.Draw(green_img)
    objects: list[SceneObject] = []
    for k, (_, cat, shape) in enumerate(specs, start=1):
        base = np.array(category_colour(cat), dtype=float)
        colour = tuple(int(c) for c in np.clip(base * rng.uniform(0.75, 1.2) + rng.normal(0, 12, 3), 0, 255))
        shape.draw(red_draw, cat)
        shape.draw(green_draw, k)
        objects.append(SceneObject(k, cat, shape, colour))  # type: ignore[arg-type]
    red = np.asarray(red_img, dtype=np.uint8).copy()
    green = np.asarray(green_img, dtype=np.uint8).copy()
    present = set(np.unique(green).tolist())
    objects = [o for o in objects if o.instance_id in present]  # fully hidden ones vanish
    return Scene(record, red, green, objects, horizon)


def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    gh, gw = max(h // cell, 2), max(w // cell, 2)
    grid = Image.fromarray((rng.random((gh, gw)) * 255).astype(np.uint8))
    return np.asarray(grid.resize((w, h), Image.Resampling.BICUBIC), dtype=np.float32) / 255.0 - 0.5


def render_photo(scene: Scene, rng: np.random.Generator) -> np.ndarray:
    """A photo-like RGB rendering: shaded wall and floor, textured and lit objects, grain."""
    h, w = scene.green.shape
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    wall = np.array(rng.uniform(150, 225, 3), dtype=np.float32)
    floor = np.array(rng.uniform(70, 150, 3), dtype=np.float32)
    is_floor = (yy >= scene.horizon).astype(np.float32)
    light_x = rng.uniform(0, w)
    falloff = 1.0 - 0.35 * np.abs(xx - light_x) / w
    wall_shade = (0.8 + 0.25 * (1 - yy / max(scene.horizon, 1))) * falloff
    floor_shade = (0.6 + 0.5 * (yy - scene.horizon) / max(h - scene.horizon, 1)) * falloff
    shade = np.where(is_floor > 0, floor_shade, wall_shade)
    base = np.where(is_floor[..., None] > 0, floor, wall)
    tex = _smooth_noise(rng, h, w, 24) * 40 + _smooth_noise(rng, h, w, 6) * 14
    planks = np.where(is_floor > 0, 10 * np.sin(xx / 9.0 + (yy - scene.horizon) * 0.02), 0.0)
    photo = base * shade[..., None] + (tex + planks)[..., None]
    fine = _smooth_noise(rng, h, w, 3)
    for obj in scene.objects:
        x0, y0, x1, y1 = obj.shape.box
        cx0, cy0 = max(int(x0), 0), max(int(y0), 0)
        cx1, cy1 = min(int(np.ceil(x1)) + 1, w), min(int(np.ceil(y1)) + 1, h)
        if cx1 <= cx0 or cy1 <= cy0:
            continue
        sel = scene.green[cy0:cy1, cx0:cx1] == obj.instance_id
        if not sel.any():
            continue
        u = (np.arange(cx0, cx1, dtype=np.float32)[None, :] - x0) / max(x1 - x0, 1)
        v = (np.arange(cy0, cy1, dtype=np.float32)[:, None] - y0) / max(y1 - y0, 1)
        light = 1.15 - 0.45 * (0.6 * u + 0.8 * v) + 0.25 * np.exp(-((u - 0.3) ** 2 + (v - 0.25) ** 2) * 8)
        pattern = 8 * np.sin((u * 3 + v) * (4 + obj.category_id % 7) * np.pi) if obj.category_id % 3 == 0 else 0
        colour = np.array(obj.colour, dtype=np.float32)
        patch = colour * light[..., None] + (fine[cy0:cy1, cx0:cx1] * 30 + pattern)[..., None]
        region = photo[cy0:cy1, cx0:cx1]
        region[sel] = patch[sel]
    # Dark edges where labels change: objects read as objects, and annotation outlines line up.
    g = scene.green
    edge = np.zeros((h, w), dtype=bool)
    edge[1:, :] |= g[1:, :] != g[:-1, :]
    edge[:, 1:] |= g[:, 1:] != g[:, :-1]
    photo[edge] *= 0.55
    photo += rng.normal(0, 4, (h, w, 1)).astype(np.float32)
    out = Image.fromarray(np.clip(photo, 0, 255).astype(np.uint8))
    return np.asarray(out)


@dataclass(frozen=True)
class PredictionStyle:
    """How the synthetic model behaves: tuned so that the demo scores a plausible AP (20-40)."""

    detect_large: float = 0.85
    detect_small: float = 0.5
    loose_fraction: float = 0.35
    wrong_class: float = 0.12
    duplicate: float = 0.15
    background_rate: float = 2.5


def _jittered(rng: np.random.Generator, shape: Shape, sigma: float) -> Shape:
    x0, y0, x1, y1 = shape.box
    size = max(x1 - x0, y1 - y0)
    return shape.moved(
        rng.normal(0, sigma * size), rng.normal(0, sigma * size),
        float(np.exp(rng.normal(0, sigma))), float(np.exp(rng.normal(0, sigma))),
    )


def make_predictions(
    rng: np.random.Generator,
    scene: Scene,
    style: PredictionStyle = PredictionStyle(),
    total: int | None = None,
) -> list[dict[str, Any]]:
    """Model-like predictions for one scene; ``total`` pads with low-score clutter (or trims)."""
    h, w = scene.green.shape
    areas = np.bincount(scene.green.ravel(), minlength=256)
    cands: list[tuple[int, Shape, float]] = []  # (category, shape, score)
    for obj in scene.objects:
        small = areas[obj.instance_id] < 32 * 32
        if rng.random() > (style.detect_small if small else style.detect_large):
            continue  # a miss
        loose = rng.random() < style.loose_fraction
        sigma = rng.uniform(0.12, 0.25) if loose else rng.uniform(0.01, 0.06)
        score = rng.uniform(0.3, 0.75) if loose else 0.55 + 0.45 * rng.beta(3, 1.5)
        cat = obj.category_id
        if rng.random() < style.wrong_class:
            cat = int(rng.integers(1, len(CATEGORY_NAMES) + 1))
            score *= rng.uniform(0.4, 0.9)
        cands.append((cat, _jittered(rng, obj.shape, sigma), score))
        if rng.random() < style.duplicate:
            cands.append((cat, _jittered(rng, obj.shape, 0.12), score * rng.uniform(0.4, 0.9)))
    for _ in range(rng.poisson(style.background_rate)):
        bw, bh = w * rng.uniform(0.05, 0.25), h * rng.uniform(0.05, 0.25)
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        cat = _pick(rng, {**_FLOOR, **_WALL, **_SMALL})
        cands.append((cat, _shape_for(rng, cat, (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2)), rng.uniform(0.05, 0.5)))
    if total is not None:
        while len(cands) < total:
            if scene.objects and rng.random() < 0.7:
                obj = scene.objects[int(rng.integers(len(scene.objects)))]
                shape = _jittered(rng, obj.shape, 0.3)
                cat = obj.category_id if rng.random() < 0.5 else int(rng.integers(1, 101))
            else:
                bw, bh = w * rng.uniform(0.03, 0.3), h * rng.uniform(0.03, 0.3)
                cx, cy = rng.uniform(0, w), rng.uniform(0, h)
                cat = int(rng.integers(1, 101))
                shape = _shape_for(rng, cat, (cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2))
            cands.append((cat, shape, rng.uniform(0.001, 0.12)))
        cands = cands[:total]
    run_lengths: list[np.ndarray] = []
    kept: list[tuple[int, float]] = []
    for cat, shape, score in cands:
        raster = shape.crop_mask(h, w)
        if raster is None:
            continue
        crop, y0, x0 = raster
        run_lengths.append(rle_utils.crop_to_run_lengths(crop, y0, x0, h, w))
        kept.append((cat, round(float(score), 4)))
    rles = rle_utils.from_run_lengths(run_lengths, h, w)
    return [
        {"image_id": scene.record.id, "category_id": cat, "segmentation": r, "score": score}
        for (cat, score), r in zip(kept, rles, strict=True)
    ]


def val_record(index: int, rng: np.random.Generator) -> ImageRecord:
    """Catalogue record of the ``index``-th (0-based) validation image, with a val-like size."""
    width, height = VAL_SIZES[rng.choice(len(VAL_SIZES), p=VAL_SIZE_WEIGHTS)]
    name = f"ADE_val_{index + 1:08d}.jpg"
    return ImageRecord(id=VAL_FIRST_ID + index, file_name=name, width=int(width), height=int(height), split="val")


def image_rng(seed: int, index: int) -> np.random.Generator:
    return np.random.default_rng([seed, index])


def synth_scene(seed: int, index: int, objects_per_image: float = 11.0) -> Scene:
    rng = image_rng(seed, index)
    record = val_record(index, rng)
    n = max(1, int(rng.poisson(objects_per_image)))
    return make_scene(rng, record, n)


def ground_truth_dict(catalog: Catalog, scenes: list[Scene], first_id: int = 0) -> dict[str, Any]:
    """COCO ground truth of the scenes, built exactly as the converter builds it from PNGs."""
    annotations: list[dict[str, Any]] = []
    ann_id = first_id
    for scene in scenes:
        instances, _ = instances_from_planes(scene.red, scene.green)
        for inst in instances:
            annotations.append(
                {"id": ann_id, "image_id": scene.record.id, "segmentation": inst.rle,
                 "category_id": inst.category_id, "iscrowd": 0, "area": inst.area}
            )
            ann_id += 1
    return {
        "categories": catalog.categories_json(),
        "images": [catalog.image_dict(s.record) for s in scenes],
        "annotations": annotations,
    }


def synth_dataset(
    n_images: int,
    seed: int = 0,
    preds_per_image: int | None = None,
    objects_per_image: float = 11.0,
    style: PredictionStyle = PredictionStyle(),
    keep_scenes: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SynthDataset:
    """A generated validation-like set: catalogue, ground truth and predictions, in memory."""
    scenes: list[Scene] = []
    predictions: list[dict[str, Any]] = []
    for index in range(n_images):
        scene = synth_scene(seed, index, objects_per_image)
        pred_rng = np.random.default_rng([seed, index, 1])
        predictions.extend(make_predictions(pred_rng, scene, style, preds_per_image))
        scenes.append(scene)
        if progress:
            progress(index + 1, n_images)
    catalog = Catalog(
        images=[s.record for s in scenes],
        categories=[Category(i + 1, n) for i, n in enumerate(CATEGORY_NAMES)],
        source="<synthetic>",
    )
    gt = ground_truth_dict(catalog, scenes)
    return SynthDataset(catalog, gt, predictions, scenes if keep_scenes else [])
