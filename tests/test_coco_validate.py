"""``placeseg validate --gt GT.json`` without ``--img-cat-ids``: any COCO set is checked against
its own images (ids, sizes) and categories; the challenge's rules apply to Places data only."""

from __future__ import annotations

import contextlib
import copy
import io
import json

import numpy as np
import pytest
from coco_cases import make_coco_case
from pycocotools.coco import COCO
from test_validate_fixtures import catalog_dict

from placeseg_core import rle as rle_utils
from placeseg_core.catalog import catalog_from_ground_truth, is_places_catalog
from placeseg_core.cli.main import main
from placeseg_core.validate import validate_submission

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def run_cli(capsys, *args):
    code = main(["validate", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _clean_items(case):
    known = {c["id"] for c in case.gt["categories"]}
    return [it for it in case.items if it["category_id"] in known]


@pytest.fixture
def coco(tmp_path):
    case = make_coco_case(2)
    gt = tmp_path / "gt.json"
    gt.write_text(json.dumps(case.gt))
    return case, gt


def test_gt_alone_gives_images_sizes_and_categories(coco, tmp_path, capsys):
    case, gt = coco
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps(_clean_items(case)))
    code, out, err = run_cli(capsys, preds, "--gt", gt, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["valid"] and doc["stats"]["rules"] == "coco"
    assert doc["stats"]["expected_images"] == len(case.gt["images"])
    assert set(doc["counts"]) <= {"missing-images", "score-ties"}  # one image has no prediction


def test_gt_alone_finds_category_size_and_image_faults(coco, tmp_path, capsys):
    case, gt = coco
    items = _clean_items(case)[:6]
    items[0] = dict(items[0], category_id=55)  # not one of the ground truth's categories
    items[1] = dict(items[1], category_id=2)  # 1..100 would accept it; this set has no 2
    img = next(im for im in case.gt["images"] if im["id"] == items[2]["image_id"])
    swapped = np.zeros((img["width"], img["height"]), np.uint8)
    swapped[1:4, 1:4] = 1
    items[2] = dict(items[2], segmentation=rle_utils.encode(swapped))
    items[3] = dict(items[3], image_id=424242)
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps(items))
    code, out, _ = run_cli(capsys, preds, "--gt", gt, "--format", "json")
    assert code == 1
    doc = json.loads(out)
    by_code: dict[str, list] = {}
    for p in doc["problems"]:
        by_code.setdefault(p["code"], []).append(p)
    assert [p["index"] for p in by_code["unknown-category"]] == [0, 1]
    msg = by_code["unknown-category"][0]["message"]
    assert "5 categories of the ground truth (1..90)" in msg and "pycocotools never loads" in msg
    (size,) = by_code["size-mismatch"]
    assert size["index"] == 2 and "swapped" in size["message"]
    assert f"[{img['height']}, {img['width']}]" in size["message"]
    assert [p["index"] for p in by_code["unknown-image"]] == [3]
    assert "gt.json" in by_code["unknown-image"][0]["message"]


def test_per_image_limit_applies_to_places_data_only(coco, tmp_path):
    case, gt = coco
    img = case.gt["images"][0]
    m = np.zeros((img["height"], img["width"]), np.uint8)
    m[2:6, 2:6] = 1
    items = [{"image_id": img["id"], "category_id": 1 + 2 * (k % 2), "segmentation": rle_utils.encode(m),
              "score": (k + 1) / 1000} for k in range(300)]
    coco_catalog = catalog_from_ground_truth(case.gt, source="gt.json")
    assert not is_places_catalog(coco_catalog)
    report = validate_submission(items, coco_catalog, expected_image_ids=[img["id"]])
    assert "too-many-per-image" not in report.counts and report.valid
    assert report.stats["per_image"]["max"] == 300
    # the same images with the challenge's 100 categories: the 255 rule is back
    places_gt = dict(case.gt, categories=catalog_dict()["categories"])
    places_catalog = catalog_from_ground_truth(places_gt, source="gt.json")
    assert is_places_catalog(places_catalog)
    report = validate_submission(items, places_catalog, expected_image_ids=[img["id"]])
    assert report.counts.get("too-many-per-image") == 1 and report.stats["rules"] == "places"
    # and places=False overrides the detection
    assert "too-many-per-image" not in validate_submission(items, places_catalog, places=False).counts


def test_polygon_predictions_message_says_what_pycocotools_does(coco, tmp_path, capsys):
    case, gt = coco
    items = copy.deepcopy(_clean_items(case)[:3])
    polygon = [[2.0, 2.0, 20.0, 2.0, 20.0, 15.0, 2.0, 15.0]]
    items[1]["segmentation"] = polygon
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps(items))
    code, out, _ = run_cli(capsys, preds, "--gt", gt, "--format", "json")
    assert code == 1
    (problem,) = [p for p in json.loads(out)["problems"] if p["field"] == "segmentation"]
    assert problem["index"] == 1 and "TypeError" in problem["message"] and "bbox" in problem["message"]
    # ... which is what pycocotools does: loadRes fails on the polygon ...
    coco_gt = COCO()
    coco_gt.dataset = copy.deepcopy(case.gt)
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt.createIndex()
        with pytest.raises(TypeError):
            coco_gt.loadRes(copy.deepcopy(items))
        # ... unless item 0 has a non-empty bbox: areas from boxes, polygons accepted
        boxed = [dict(it, bbox=[1.0, 1.0, 5.0, 5.0]) for it in copy.deepcopy(items)]
        res = coco_gt.loadRes(boxed)
    assert res.anns[2]["area"] == 25.0


def test_inputs_needed(coco, tmp_path, capsys):
    case, gt = coco
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps(_clean_items(case)))
    code, _, err = run_cli(capsys, preds)
    assert code == 2 and "--img-cat-ids" in err and "--gt" in err
    code, _, err = run_cli(capsys, preds, "--ann-dir", tmp_path)
    assert code == 2 and "--ann-dir needs --img-cat-ids" in err
    no_sizes = copy.deepcopy(case.gt)
    del no_sizes["images"][0]["height"]
    bad = tmp_path / "bad_gt.json"
    bad.write_text(json.dumps(no_sizes))
    code, _, err = run_cli(capsys, preds, "--gt", bad)
    assert code == 2 and "images[0]" in err and "height" in err and err.count("\n") == 1
