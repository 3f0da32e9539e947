"""Polygon, uncompressed-RLE and box-only predictions score exactly as pycocotools scores them.

pycocotools' loadRes sends every item down its box path when item 0 has a bbox: areas are the
boxes' w*h, an item without segmentation becomes its box's polygon, and COCOeval draws polygons
(several parts merged) and run lists at the image's size (annToRLE). The cases here are made in
the tests: COCO-style sets with non-square images, polygon / RLE / crowd ground truth
(tests/coco_cases.py) whose predictions are turned into each kind, a set shaped like
faster-coco-eval's own fixture (three 256x256 photos, polygon ground truth, nine polygon
detections with boxes), and real COCO polygons when ../shared has them. Plain pycocotools, run as
the challenge runs it, is the reference for the arrays and for every per-image match.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from coco_cases import make_coco_case, uncompressed_rle
from pycocotools import mask as mask_utils
from test_eval_cases import run_pycocotools
from test_eval_parity import assert_same_arrays, assert_same_pairs

from placeseg_core.cli.main import main
from placeseg_core.evaluation import EvalParams, evaluate
from placeseg_core.submissions import submission_from_parsed

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

COCO_DETS = (1, 10, 100)
KINDS = ("polygon", "box", "uncompressed", "rle")


def outline(m: np.ndarray, rng: np.random.Generator) -> list[float]:
    """A polygon around a mask: the top edge of sampled columns left to right, then their bottom
    edge back, with float jitter (what a model's contour export looks like, roughly)."""
    cols = np.flatnonzero(m.any(axis=0))
    top = m.argmax(axis=0)
    bottom = m.shape[0] - m[::-1].argmax(axis=0)
    step = max(1, len(cols) // int(rng.integers(3, 12)))
    sel = list(cols[::step]) + ([cols[-1]] if (len(cols) - 1) % step else [])
    pts = [(float(cols[0]), float(top[cols[0]]))]
    pts += [(x + 0.5, float(top[x])) for x in sel] + [(cols[-1] + 1.0, float(top[cols[-1]]))]
    pts += [(cols[-1] + 1.0, float(bottom[cols[-1]]))] + [(x + 0.5, float(bottom[x])) for x in reversed(sel)]
    pts += [(float(cols[0]), float(bottom[cols[0]]))]
    flat = [v + float(rng.normal(0, 0.3)) for p in pts for v in p]
    return [round(v, 2) for v in flat] if rng.random() < 0.7 else [int(round(v)) for v in flat]


def as_polygons(m: np.ndarray, rng: np.random.Generator, h: int, w: int) -> list[list[Any]]:
    """Polygons for a mask, with the shapes pycocotools handles its own way now and then."""
    first = outline(m, rng)
    if len(first) < 6:
        first = first + first[:2] + first[:2]
    polys: list[list[Any]] = [first]
    r = rng.random()
    if r < 0.15:  # a second part, partly outside the image (pycocotools clips it)
        x, y = float(rng.uniform(-4, w)), float(rng.uniform(-4, h))
        polys.append([x, y, x + 9.0, y + 1.5, x + 3.0, y + 8.0])
    elif r < 0.25:  # odd length: frPoly reads len // 2 points, the last number is dropped
        polys[0] = first + [float(rng.uniform(0, w))]
    elif r < 0.32:  # a later part of 1 or 2 points: a degenerate outline, scored all the same
        polys.append([float(v) for v in rng.uniform(0, min(h, w), int(rng.choice([2, 4])))])
    return polys


def kinds_items(items: list[dict[str, Any]], gt: dict[str, Any], kinds: tuple[str, ...], seed: int,
                edges: bool = False) -> list[dict[str, Any]]:
    """The RLE predictions of a case as ``kinds`` (picked at random per item), each with a bbox
    that is not its mask's tight box (so box areas move predictions between area ranges)."""
    rng = np.random.default_rng([seed, 77])
    sizes = {im["id"]: (im["height"], im["width"]) for im in gt["images"]}
    out = []
    for it in items:
        h, w = sizes[it["image_id"]]
        m = mask_utils.decode(it["segmentation"])
        x, y, bw, bh = (float(v) for v in mask_utils.toBbox(it["segmentation"]))
        box = [round(x - rng.uniform(0, 3), 2), round(y - rng.uniform(0, 3), 2),
               round(bw * rng.uniform(0.8, 1.4), 2), round(bh * rng.uniform(0.8, 1.4), 2)]
        side = 32 if rng.random() < 0.5 else 96
        if edges and rng.random() < 0.3 and box[0] + side <= 2 * w and box[1] + side <= 2 * h:
            box[2], box[3] = side, side  # exactly on an area-range bound (both ends included)
        new: dict[str, Any] = {"image_id": it["image_id"], "category_id": it["category_id"], "score": it["score"],
                               "bbox": box}
        kind = kinds[int(rng.integers(len(kinds)))]
        if kind == "polygon":
            new["segmentation"] = as_polygons(m, rng, h, w)
        elif kind == "uncompressed":
            new["segmentation"] = uncompressed_rle(m)
        elif kind == "rle":
            new["segmentation"] = it["segmentation"]
        out.append(new)
    return out


def check_parity(gt: dict[str, Any], items: list[dict[str, Any]], max_dets: tuple[int, ...] = COCO_DETS,
                 engines: tuple[str, ...] = ("fast",)) -> None:
    E = run_pycocotools(gt, items, max_dets=max_dets)
    for engine in engines:
        result = evaluate(gt, items, engine=engine, params=EvalParams(max_dets=max_dets), workers=1)
        assert_same_arrays(result, E)
        assert_same_pairs(result, E, items)


@pytest.mark.parametrize("kinds", [("polygon",), ("box",), ("uncompressed",), KINDS])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_kind_equals_pycocotools(kinds, seed):
    case = make_coco_case(seed)
    items = kinds_items(case.items, case.gt, kinds, seed, edges=seed == 2)
    check_parity(case.gt, items)
    check_parity(case.gt, items, max_dets=(1, 50, 255))


@pytest.mark.parametrize("kinds", [("polygon", "rle"), ("box", "polygon")])
def test_reference_engine_ties_and_first_item_rle(kinds):
    """Score ties (file order decides), the reference engine, and an RLE item 0 with a bbox: the
    box path holds for every item whatever item 0's own mask is."""
    case = make_coco_case(5, ties=True)
    items = kinds_items(case.items, case.gt, kinds, 5)
    items[0] = dict(items[0], segmentation=case.items[0]["segmentation"])
    check_parity(case.gt, items, engines=("fast", "reference"))
    result = evaluate(case.gt, items, params=EvalParams(max_dets=COCO_DETS), workers=1)
    drawn = [dict(it, segmentation=mask_rle(it, case.gt)) for it in items]
    no_box = run_pycocotools(case.gt, _no_bbox(drawn), max_dets=COCO_DETS)
    # the mask-area variant: pycocotools on the drawn masks without boxes
    assert np.array_equal(result.variants["mask_areas"].precision, no_box.eval["precision"])


def mask_rle(item: dict[str, Any], gt: dict[str, Any]) -> dict[str, Any]:
    """What annToRLE makes of an item's mask (its box's polygon when it has none)."""
    im = next(i for i in gt["images"] if i["id"] == item["image_id"])
    seg = item.get("segmentation")
    if seg is None:
        x, y, w, h = item["bbox"]
        seg = [[x, y, x, y + h, x + w, y + h, x + w, y]]
    if isinstance(seg, list):
        return mask_utils.merge(mask_utils.frPyObjects(seg, im["height"], im["width"]))
    return mask_utils.frPyObjects(seg, *seg["size"]) if isinstance(seg["counts"], list) else seg


def _no_bbox(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in it.items() if k != "bbox"} for it in items]


def test_two_processes_and_split_load_equal_pycocotools(tmp_path):
    """Files large enough for the split loader: polygons take the one-process loader (the first
    item says so, or the helper's columns fail and it falls back), and the fast engine's two
    processes give the same arrays."""
    case = make_coco_case(3, n_images=60)
    items = kinds_items(case.items, case.gt, ("polygon", "box", "rle"), 3) * 30
    for first in ("polygon", "rle"):
        path = tmp_path / f"preds_{first}.json"
        k = next(i for i, it in enumerate(items)
                 if isinstance(it.get("segmentation"), list if first == "polygon" else dict))
        path.write_text(json.dumps([items[k]] + items[:k] + items[k + 1:], indent=1))
        assert path.stat().st_size > 4 << 20
        E = run_pycocotools(case.gt, json.loads(path.read_text()), max_dets=(1, 50, 255))
        for workers in (1, 2):
            assert_same_arrays(evaluate(case.gt, path, workers=workers), E)


# ------------------------------------------------- a set shaped like faster-coco-eval's fixture


def _blob(cx: float, cy: float, r: float, k: int, wobble: float, seed: int) -> list[int]:
    rng = np.random.default_rng(seed)
    a = np.linspace(0, 2 * np.pi, k, endpoint=False)
    rad = r * (1 + wobble * rng.uniform(-1, 1, k))
    return [int(round(v)) for p in zip(cx + rad * np.cos(a), cy + rad * np.sin(a), strict=True) for v in p]


def _star(cx: float, cy: float, r: float) -> list[int]:
    a = np.linspace(0, 2 * np.pi, 12, endpoint=False)
    rad = np.where(np.arange(12) % 2, r * 0.5, r)
    return [int(round(v)) for p in zip(cx + rad * np.sin(a), cy - rad * np.cos(a), strict=True) for v in p]


def fixture_shaped_set() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Three 256x256 photos with three polygon objects each (blobs, a star, an L), and nine
    detections given as polygons with boxes and the fields such exports carry (id, iscrowd and
    an area that loadRes overwrites); some are exact, some moved, some in the wrong category."""
    L = [4, 200, 56, 157, 59, 156, 60, 176, 110, 177, 109, 224, 60, 224, 60, 245, 58, 246, 4, 201]
    shapes = [
        (1, 1, _blob(80, 80, 52, 60, 0.08, 1)), (1, 2, _blob(198, 78, 54, 26, 0.1, 2)), (1, 3, L),
        (2, 1, _blob(80, 80, 52, 60, 0.08, 1)), (2, 4, _star(64, 200, 54)), (2, 2, _blob(185, 184, 53, 24, 0.1, 3)),
        (3, 1, _blob(200, 58, 55, 62, 0.12, 4)), (3, 4, _star(172, 183, 63)), (3, 1, _blob(58, 215, 40, 60, 0.12, 5)),
    ]

    def box(poly: list[int]) -> list[int]:
        xs, ys = poly[0::2], poly[1::2]
        return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]

    gt = {"info": {"description": "shaped like faster-coco-eval's tests/dataset"},
          "images": [{"id": i, "width": 256, "height": 256, "file_name": f"img_{i}.jpg"} for i in (1, 2, 3)],
          "categories": [{"id": c, "name": f"class{c}"} for c in (1, 2, 3, 4)],
          "annotations": [{"id": k + 1, "iscrowd": 0, "image_id": img, "category_id": cat, "segmentation": [poly],
                           "bbox": box(poly), "area": float(mask_utils.area(mask_utils.merge(
                               mask_utils.frPyObjects([poly], 256, 256))))}
                          for k, (img, cat, poly) in enumerate(shapes)]}
    cats = [2, 1, 3, 1, 4, 2, 1, 4, 1]  # the first two swapped
    dets = []
    for k, ((img, _, poly), cat) in enumerate(zip(shapes, cats, strict=True)):
        if k in (5, 8):  # moved by a few pixels
            poly = [v + (7 if j % 2 else -5) for j, v in enumerate(poly)]
        dets.append({"id": 21 + k, "iscrowd": 0, "image_id": img, "category_id": cat, "segmentation": [poly],
                     "bbox": box(poly), "area": 8000, "score": (19 + k) / 30})
    return gt, dets


def test_fixture_shaped_set_through_the_cli(tmp_path, capsys):
    gt, dets = fixture_shaped_set()
    gt_path, preds_path, out = tmp_path / "gt.json", tmp_path / "dt.json", tmp_path / "scores.json"
    gt_path.write_text(json.dumps(gt, indent=4))
    preds_path.write_text(json.dumps(dets, indent=4))
    E = run_pycocotools(gt, dets, max_dets=COCO_DETS)
    argv = ["--preds", str(preds_path), "--gt", str(gt_path), "--max-dets", "1", "10", "100"]
    assert main(["evaluate", *argv, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    doc = json.loads(out.read_text())
    p = E.eval["precision"][:, :, :, 0, 2]
    official = float(np.mean(p[p > -1]))
    assert 0.3 < official < 0.95 and doc["mean_ap"] == official  # bit for bit
    assert f"mean AP: {official:.10f}" in text
    (note,) = [line for line in text.splitlines() if line.startswith("note: not the challenge's format")]
    assert "9 are polygons" in note and note in doc["notes"]
    result = evaluate(gt, dets, params=EvalParams(max_dets=COCO_DETS), workers=1)
    assert_same_arrays(result, E)
    assert_same_pairs(result, E, dets)
    assert main(["matches", *argv, "--image-id", "1"]) == 0
    captured = capsys.readouterr()
    records = json.loads(captured.out)
    assert [r["matched_gt"][0] for r in records["predictions"]] == [None, None, 3]  # swapped: no match
    assert "not the challenge's format" in captured.err
    # the same file with its boxes removed is what pycocotools refuses: so do we, saying why
    preds_path.write_text(json.dumps(_no_bbox(dets)))
    with pytest.raises(TypeError):
        run_pycocotools(gt, _no_bbox(dets))
    assert main(["evaluate", *argv]) == 1
    err = capsys.readouterr().err
    assert "item 0, field segmentation: polygons" in err and "TypeError" in err and "bbox" in err


def test_box_only_file_is_its_boxes(tmp_path):
    """No segmentation anywhere: each box is scored as its four-corner polygon."""
    gt, dets = fixture_shaped_set()
    boxes = [{k: v for k, v in d.items() if k != "segmentation"} for d in dets]
    check_parity(gt, boxes)
    sub = submission_from_parsed(boxes)
    assert sub.mask_kinds == {"box only": 9} and sub.needs_image_sizes
    x, y, w, h = boxes[0]["bbox"]
    assert sub.pending_polygons[0] == [[x, y, x, y + h, x + w, y + h, x + w, y]]


def test_real_coco_polygons_as_predictions(shared_dir):
    """Real-shaped polygons: COCO val2014's own annotation polygons (several parts, float
    vertices) given back as predictions with their boxes, categories and images shuffled a
    little, against that ground truth, maxDets 1 10 100."""
    folder = shared_dir / "coco-val2014-100"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the COCO reference files are not in this copy of shared/")
    gt = json.loads((folder / "instances_val2014_100.json").read_text())
    rng = np.random.default_rng(8)
    cats = [c["id"] for c in gt["categories"]]
    dets = []
    for a in gt["annotations"]:
        if not isinstance(a["segmentation"], list) or rng.random() < 0.15:
            continue
        seg = [[round(v + float(rng.normal(0, 1.5)), 2) for v in part] for part in a["segmentation"]]
        cat = a["category_id"] if rng.random() < 0.85 else int(rng.choice(cats))
        dets.append({"image_id": a["image_id"], "category_id": cat, "segmentation": seg, "bbox": a["bbox"],
                     "score": round(float(rng.uniform(0.05, 1)), 3)})
    assert sum(len(d["segmentation"]) > 1 for d in dets) > 10  # objects of several parts
    check_parity(gt, dets, engines=("fast", "reference"))
