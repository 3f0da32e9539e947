"""Odd polygons, failing files, the validator's words and the window, for predictions given as
polygons, run lists or boxes only.

Where pycocotools scores an odd shape (an odd number of coordinates, a later part of one or two
points, a box of negative width) we score the same; where it fails (item 0 without a bbox, a
first part of 4 numbers, an empty list) we fail with a located message; where it would crash
or read memory it should not (NaN, far-away points, bad run lengths) we refuse, in a subprocess
here so that a slip could not take the test run down with it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from coco_cases import make_coco_case, uncompressed_rle
from gui_fixtures import WAIT_MS
from PIL import Image
from pycocotools import mask as mask_utils
from test_eval_cases import run_pycocotools
from test_prediction_kinds import check_parity, fixture_shaped_set, kinds_items, mask_rle

from placeseg_core.analysis import analyze
from placeseg_core.catalog import catalog_from_ground_truth
from placeseg_core.errors import InputError
from placeseg_core.evaluation import EvalParams, evaluate, load_ground_truth
from placeseg_core.submissions import image_sizes, rasterise, submission_from_parsed
from placeseg_core.submissions.split import _first_item_is_rle
from placeseg_core.validate import validate_submission
from placeseg_review.model.data import load_predictions, open_coco
from placeseg_review.model.match_rows import ThresholdColumns, image_rows
from placeseg_review.model.prepared import prepare_image

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
K = 4  # the item made odd in each case


def _with(seg: Any = "keep", drop: tuple[str, ...] = (), **fields: Any) -> list[dict[str, Any]]:
    gt, dets = fixture_shaped_set()
    item = {k: v for k, v in dets[K].items() if k not in drop}
    if seg != "keep":
        item["segmentation"] = seg
    dets[K] = {**item, **fields}
    return dets


SCORED = {  # pycocotools' own reading of each, reproduced
    "odd-length": [[30, 30, 90, 30, 90, 80, 30, 80, 55]],
    "first-part-of-5": [[30, 30, 90, 30, 90]],
    "later-parts-of-0-to-4": [[30, 30, 90, 30, 90, 80, 30, 80], [], [7], [5, 5], [1, 2, 3], [9, 9, 20, 20]],
    "partly-outside": [[-40.5, -10, 300, 20, 120, 290.25]],
    "numeric-strings": [["30", "30", "90", "30.5", "90", "80", "12"]],  # numpy converts them, as frPoly does
    "box-negative-width": None,
    "box-zero-height": None,
}


@pytest.mark.parametrize("name", sorted(SCORED))
def test_odd_shapes_scored_as_pycocotools(name):
    gt, _ = fixture_shaped_set()
    if name.startswith("box"):
        box = [120.0, 40.0, -30.5, 50.0] if name == "box-negative-width" else [10, 10, 40, 0]
        dets = _with(drop=("segmentation",), bbox=box)
    else:
        dets = _with(SCORED[name])
    check_parity(gt, dets, engines=("fast", "reference"))


FAILS = {  # what pycocotools raises on each, and the field our message names
    "first-part-of-4": ([[30, 30, 90, 30], [1, 1, 5, 1, 5, 5]], TypeError, "segmentation[0]"),
    "first-part-of-3": ([[30, 30, 90]], Exception, "segmentation[0]"),
    "empty-list": ([], IndexError, "segmentation"),
    "flat-list": ([30, 30, 90, 30, 90, 80], TypeError, "segmentation[0]"),
    "no-counts": ({"size": [256, 256]}, KeyError, "segmentation"),
}


@pytest.mark.parametrize("name", sorted(FAILS))
def test_what_pycocotools_fails_on_is_a_located_error(name):
    gt, _ = fixture_shaped_set()
    seg, raised, field = FAILS[name]
    dets = _with(seg)
    with pytest.raises(raised):
        run_pycocotools(gt, dets)
    with pytest.raises(InputError, match=re.escape(f"item {K}, field {field}")):
        evaluate(gt, dets, workers=1)


def test_box_path_item_without_bbox_and_no_bbox_path_fail_as_pycocotools():
    gt, _ = fixture_shaped_set()
    dets = _with(drop=("bbox",))
    with pytest.raises((KeyError, TypeError)):
        run_pycocotools(gt, dets)
    with pytest.raises(InputError, match=f"item {K}, field bbox"):
        evaluate(gt, dets, workers=1)
    # item 0 without a bbox: mask.area reads only compressed RLE, so a later polygon or run list fails
    case = make_coco_case(4)
    for kind, field in (("polygon", "segmentation"), ("uncompressed", "segmentation.counts")):
        items = [{k: v for k, v in it.items() if k != "bbox"} for it in kinds_items(case.items, case.gt, ("rle",), 4)]
        items[3]["segmentation"] = kinds_items(case.items[3:4], case.gt, (kind,), 4)[0]["segmentation"]
        with pytest.raises(TypeError):
            run_pycocotools(case.gt, items)
        with pytest.raises(InputError, match=rf"item 3, field {field}: .*TypeError.*bbox"):
            evaluate(case.gt, items, workers=1)


UNSAFE = {  # pycocotools would crash, hang or read memory it should not: refused, never run
    "nan": ([[30.0, 30.0, float("nan"), 30.0, 90.0, 80.0]], "segmentation[0]"),
    "infinity": ([[30.0, 30.0, float("inf"), 30.0, 90.0, 80.0]], "segmentation[0]"),
    "far-outside": ([[1e12, 1e12, 1e12 + 10, 1e12, 1e12, 1e12 + 10]], "segmentation[0]"),
    "later-part-far": ([[30, 30, 90, 30, 90, 80], [-1e9, 5]], "segmentation[1]"),
    "null-coordinate": ([[30, None, 90, 30, 90, 80]], "segmentation[0]"),
    "word-coordinate": ([[30, "thirty", 90, 30, 90, 80]], "segmentation[0]"),
    "400-digits": ([[30, 30, "@BIG@", 30, 90, 80]], "segmentation[0]"),
    "runs-not-summing": ({"size": [256, 256], "counts": [10, 20]}, "segmentation.counts"),
    "negative-run": ({"size": [256, 256], "counts": [-5, 65541]}, "segmentation.counts"),
    "run-list-zero-height": ({"size": [0, 256], "counts": [0, 0]}, "segmentation.size"),
    "box-far-outside": (None, "bbox"),
}


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_unsafe_shapes_are_refused_in_one_line(name, tmp_path):
    gt, _ = fixture_shaped_set()
    seg, field = UNSAFE[name]
    dets = _with(drop=("segmentation",), bbox=[1e12, 0, 5, 5]) if seg is None else _with(seg)
    gt_path, preds = tmp_path / "gt.json", tmp_path / "preds.json"
    gt_path.write_text(json.dumps(gt))
    preds.write_text(json.dumps(dets).replace('"@BIG@"', "9" * 400))
    done = subprocess.run([sys.executable, "-m", "placeseg_core.cli.main", "evaluate", "--preds", str(preds),
                           "--gt", str(gt_path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stderr
    first = done.stderr.splitlines()[0]
    assert f"item {K}, field {field}" in first and "Traceback" not in done.stderr
    assert "INVALID" in done.stderr  # the validator's report follows


def test_validator_names_the_format_and_what_the_official_pipeline_does(tmp_path):
    gt, dets = fixture_shaped_set()
    dets[1] = {k: v for k, v in dets[1].items() if k != "segmentation"}  # box only
    dets[2]["segmentation"] = uncompressed_rle(mask_utils.decode(mask_rle(dets[2], gt)))
    dets[5]["segmentation"] = [[1.0, 2.0, float("nan"), 4.0, 5.0, 6.0]]
    catalog = catalog_from_ground_truth(gt)
    report = validate_submission(dets, catalog, expected_image_ids=[1, 2, 3])
    assert not report.valid
    assert report.stats["mask_kinds"] == {"polygon": 7, "uncompressed RLE": 1, "box only": 1}
    msgs = {p.index: p.message for p in report.problems if p.code in ("bad-type", "bad-rle", "missing-field")}
    assert "not the challenge's compressed RLE" in msgs[0] and "scores it" in msgs[0]
    assert "four-corner polygon" in msgs[1] and report.problems_for("missing-field")[0].index == 1
    assert "run lengths" in msgs[2] and "compressed at its own size" in msgs[2]
    assert "placeseg evaluate refuses it" in msgs[5] and "finite" in msgs[5]
    # no bbox on item 0: the same polygons are what pycocotools fails on, and the report says so
    report = validate_submission([{k: v for k, v in d.items() if k != "bbox"} for d in dets], catalog)
    assert "TypeError" in report.problems_for("bad-type")[0].message
    # and the scored ones (the run list compressed at its own size) equal pycocotools
    del dets[5]
    check_parity(gt, dets)


def test_two_processes_draw_the_same_and_name_the_same_first_fault():
    case = make_coco_case(6, n_images=12)
    items = kinds_items(case.items, case.gt, ("polygon", "box"), 6) * 4
    items[7] = dict(items[7], segmentation=[[10, 10, 40, 12, 30, 30, 5], [1, 1]])  # odd: drawn from the lists
    sub = submission_from_parsed(items)
    sizes = image_sizes(case.gt["images"])
    one, two = rasterise(sub, sizes, workers=1), rasterise(sub, sizes, workers=2)
    assert one.rles == two.rles and not one.needs_image_sizes and sub.needs_image_sizes
    for k, it in enumerate(items):
        assert one.rles[k]["counts"] == mask_rle(it, case.gt)["counts"].decode("ascii"), k
    bad = list(items)
    for k in (len(bad) - 3, 40, 41):  # faults in several size groups: the lowest index is named
        bad[k] = dict(bad[k], segmentation=[[1.0, 2.0, float("nan"), 4.0, 5.0, 6.0]])
    for workers in (1, 2):
        with pytest.raises(InputError, match=r"item 40, field segmentation\[0\]: coordinate 2 is nan"):
            rasterise(submission_from_parsed(bad), sizes, workers=workers)


def test_first_item_decides_the_split_loader():
    poly = json.dumps([{"image_id": 1, "segmentation": [[1, 2, 3, 4, 5, 6]], "bbox": [1, 2, 3, 4]}] * 3)
    rle = json.dumps([{"image_id": 1, "segmentation": {"size": [2, 2], "counts": "04"}}] * 3)
    assert not _first_item_is_rle(poly.encode())
    assert not _first_item_is_rle(b'[{"image_id": 1, "bbox": [1, 2, 3, 4], "score": 1}]')
    assert _first_item_is_rle(rle.encode()) and _first_item_is_rle(rle.encode()[:30])  # cut: no judgement


def _write_viewer_set(root: Path) -> tuple[Path, Path, dict[str, Any], list[dict[str, Any]]]:
    gt, dets = fixture_shaped_set()
    dets = dets[:4] + [{k: v for k, v in d.items() if k != "segmentation"} for d in dets[4:7]] + dets[7:]
    (root / "images").mkdir(parents=True)
    for im in gt["images"]:
        Image.fromarray(np.full((256, 256, 3), 90, np.uint8)).save(root / "images" / im["file_name"])
    gt_path, preds = root / "gt.json", root / "preds.json"
    gt_path.write_text(json.dumps(gt))
    preds.write_text(json.dumps(dets))
    return gt_path, preds, gt, dets


def test_viewer_draws_scores_and_explains_polygons_and_boxes(tmp_path):
    gt_path, preds, gt, dets = _write_viewer_set(tmp_path)
    ds = open_coco(gt_path, tmp_path / "images")
    index = load_predictions(preds, ds)
    sub = index.submission
    assert not sub.needs_image_sizes and sub.mask_kinds == {"polygon": 6, "box only": 3}
    for image_id in (1, 2, 3):
        prep = prepare_image(ds, image_id, index)
        assert prep.preds is not None and prep.preds.size_mismatch == 0
        for i, (y0, x0, crop) in zip(prep.preds.indices.tolist(), prep.preds.crops, strict=True):
            full = np.zeros((256, 256), bool)
            full[y0 : y0 + crop.shape[0], x0 : x0 + crop.shape[1]] = crop
            assert np.array_equal(full, mask_utils.decode(mask_rle(dets[i], gt)).astype(bool)), i
    truth = load_ground_truth(gt_path)
    result = evaluate(truth, sub, workers=1)
    E = run_pycocotools(gt, dets, max_dets=(1, 50, 255))
    assert np.array_equal(result.precision, E.eval["precision"])
    analysis = analyze(result, truth, sub)
    rows = image_rows(ThresholdColumns(result.records), 0, 2, analysis)
    assert len(rows.predictions) == 3 and rows.explained
    assert {r.why != "" for r in rows.predictions if r.outcome.name != "TP"} <= {True}


def test_window_opens_evaluates_and_analyses_box_only_predictions(qtbot, window, tmp_path):
    gt_path, preds, gt, dets = _write_viewer_set(tmp_path)
    window.controller.open_dataset(gt_path, images=str(tmp_path / "images"), predictions=preds, image_id=2)
    qtbot.waitUntil(lambda: window.session.predictions is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.session.image is not None and not window.controller.busy
                    and window.session.image.preds is not None, timeout=WAIT_MS)
    assert len(window.session.image.preds.crops) == 3  # two boxes and a polygon, drawn
    window.show_analysis("matches", run=True)
    qtbot.waitUntil(lambda: window.session.error_analysis is not None and not window.controller.jobs,
                    timeout=WAIT_MS)
    E = run_pycocotools(gt, dets, max_dets=(1, 50, 255))
    assert np.array_equal(window.session.evaluation.result.precision, E.eval["precision"])
    # the window says what `placeseg evaluate` says of such a file, first of its notes
    assert window.session.evaluation.notes[0].startswith("note: not the challenge's format")
    assert window.evaluation_view.notes.text().count("not the challenge's format") == 1


def test_model_like_polygons_at_scale_equal_pycocotools():
    """A generated set with every kind mixed and area-range edges, at maxDets 1 10 100."""
    case = make_coco_case(21, n_images=24, ties=True)
    items = kinds_items(case.items, case.gt, ("polygon", "box", "uncompressed", "rle"), 21, edges=True)
    check_parity(case.gt, items, engines=("fast", "reference"))
    check_parity(case.gt, items, max_dets=(1, 50, 255))
    assert EvalParams(max_dets=(1, 10, 100)).max_det == 100
