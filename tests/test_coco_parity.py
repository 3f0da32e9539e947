"""Any COCO instance-segmentation set: polygons, crowd regions (compressed and uncompressed RLE),
``ignore`` fields and other maxDets, scored by both engines exactly as plain pycocotools."""

from __future__ import annotations

import numpy as np
import pytest
from coco_cases import make_coco_case, polygon_mask, uncompressed_rle
from test_eval_cases import run_pycocotools
from test_eval_parity import assert_same_arrays, assert_same_pairs

from placeseg_core import rle as rle_utils
from placeseg_core.evaluation import EvalParams, evaluate

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

MAX_DETS = [(1, 10, 100), (1, 50, 255), (1, 2, 3)]


@pytest.mark.parametrize("max_dets", MAX_DETS, ids=lambda m: "-".join(map(str, m)))
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_both_engines_equal_pycocotools(seed, max_dets):
    case = make_coco_case(seed, ties=seed % 2 == 1)
    E = run_pycocotools(case.gt, case.items, max_dets=max_dets)
    params = EvalParams(max_dets=max_dets)
    fast = evaluate(case.gt, case.items, engine="fast", params=params, workers=1)
    assert_same_arrays(fast, E)
    assert_same_pairs(fast, E, case.items)
    ref = evaluate(case.gt, case.items, engine="reference", params=params)
    assert_same_arrays(ref, E)
    assert ref.summary == fast.summary
    assert list(fast.summary)[6:9] == [f"AR{m}" for m in max_dets]
    for image_id in ref.records.image_ids_with_records().tolist():
        assert ref.records.image(image_id) == fast.records.image(image_id)


def test_two_processes_equal_pycocotools_on_crowd_sets():
    case = make_coco_case(11, n_images=12)
    E = run_pycocotools(case.gt, case.items, max_dets=(1, 10, 100))
    result = evaluate(case.gt, case.items, params=EvalParams(max_dets=(1, 10, 100)), workers=2)
    assert_same_arrays(result, E)


def test_the_generated_case_holds_every_trap():
    """What the parity test above relies on, checked on pycocotools' own per-image results."""
    case = make_coco_case(0)
    anns = case.gt["annotations"]
    sizes = {(im["height"], im["width"]) for im in case.gt["images"]}
    assert all(h != w for h, w in sizes) and len(sizes) > 1
    assert any(isinstance(a["segmentation"], list) for a in anns)
    crowd = [a for a in anns if a["iscrowd"]]
    assert any(isinstance(a["segmentation"]["counts"], list) for a in crowd)  # uncompressed RLE
    assert any(isinstance(a["segmentation"]["counts"], str) for a in crowd)  # compressed RLE
    assert case.ignore_only_ids
    assert case.image_without_predictions not in {it["image_id"] for it in case.items}
    assert any(a["image_id"] == case.image_without_predictions for a in anns)
    E = run_pycocotools(case.gt, case.items, max_dets=(1, 10, 100))
    most = 0
    for e in E.evalImgs:
        if e is None or e["aRng"] != E.params.areaRng[0]:
            continue
        for gid in case.crowd_ids:
            most = max(most, int((e["dtMatches"][0] == gid).sum()))
    assert most >= 2  # several predictions matched one crowd region


def _one_image(h: int, w: int, anns: list[dict]) -> dict:
    return {"images": [{"id": 5, "file_name": "a.jpg", "height": h, "width": w}],
            "categories": [{"id": 2, "name": "person"}, {"id": 9, "name": "boat"}], "annotations": anns}


def _item(m: np.ndarray, score: float, cat: int = 2) -> dict:
    return {"image_id": 5, "category_id": cat, "segmentation": rle_utils.encode(m), "score": score}


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_several_predictions_match_one_uncompressed_crowd_region(engine):
    h, w = 40, 90
    person = np.zeros((h, w), np.uint8)
    person[5:20, 5:20] = 1
    crowd = np.zeros((h, w), np.uint8)
    crowd[10:35, 40:85] = 1
    gt = _one_image(h, w, [
        {"id": 1, "image_id": 5, "category_id": 2, "iscrowd": 0, "area": 225.0, "segmentation": rle_utils.encode(person)},
        {"id": 2, "image_id": 5, "category_id": 2, "iscrowd": 1, "area": float(crowd.sum()),
         "segmentation": uncompressed_rle(crowd)},
    ])
    parts = []
    for x0 in (42, 55, 70):
        p = np.zeros((h, w), np.uint8)
        p[12:30, x0 : x0 + 10] = 1
        parts.append(p)
    items = [_item(parts[0], 0.9), _item(person, 0.8), _item(parts[1], 0.7), _item(parts[2], 0.6)]
    E = run_pycocotools(gt, items, max_dets=(1, 10, 100))
    result = evaluate(gt, items, engine=engine, params=EvalParams(max_dets=(1, 10, 100)), workers=1)
    assert_same_arrays(result, E)
    recs = {r.index: r for r in result.records.image(5).predictions}
    for i in (0, 2, 3):  # each part matches the crowd region and is ignored, at every threshold
        assert list(recs[i].matched_gt) == [2] * 10 and set(recs[i].outcome) == {"ignored"}
    assert set(recs[1].outcome) == {"tp"}
    assert result.summary["AP"] == pytest.approx(1.0) and result.summary["AR10"] == 1.0
    # maxDets 1 keeps the best-scored prediction of the image and category: a crowd part
    assert result.summary["AR1"] == 0.0


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_ignore_field_is_read_as_pycocotools_reads_it(engine):
    """pycocotools sets gt['ignore'] = iscrowd: 'ignore': 1 alone ignores nothing, and a crowd
    region marked 'ignore': 0 is still ignored."""
    h, w = 30, 50
    a = np.zeros((h, w), np.uint8)
    a[2:12, 2:20] = 1
    b = np.zeros((h, w), np.uint8)
    b[15:28, 25:45] = 1
    gt = _one_image(h, w, [
        {"id": 1, "image_id": 5, "category_id": 2, "iscrowd": 0, "ignore": 1, "area": 180.0, "segmentation": rle_utils.encode(a)},
        {"id": 2, "image_id": 5, "category_id": 9, "iscrowd": 1, "ignore": 0, "area": 260.0, "segmentation": rle_utils.encode(b)},
    ])
    items = [_item(a, 0.9), _item(b, 0.8, cat=9)]
    E = run_pycocotools(gt, items)
    result = evaluate(gt, items, engine=engine, workers=1)
    assert_same_arrays(result, E)
    aps = result.per_category_ap
    assert aps[9] is None  # boat: only a crowd region, no positives
    assert aps[2] == pytest.approx(1.0)  # the person marked 'ignore': 1 counts
    recs = {r.index: r for r in result.records.image(5).predictions}
    assert set(recs[0].outcome) == {"tp"} and set(recs[1].outcome) == {"ignored"}


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_polygon_ground_truth_on_a_non_square_image(engine):
    h, w = 37, 121  # a transposed conversion would not even have the prediction's size
    polys = [[3.5, 2.0, 60.2, 4.1, 58.0, 30.7, 6.0, 33.9], [80.0, 5.0, 118.5, 5.0, 100.0, 35.5]]
    exact = polygon_mask(polys, h, w)
    shifted = np.roll(exact, 3, axis=1)
    gt = _one_image(h, w, [{"id": 1, "image_id": 5, "category_id": 2, "iscrowd": 0, "area": 2100.5,
                            "segmentation": polys}])
    items = [_item(exact, 0.9), _item(shifted, 0.5)]
    E = run_pycocotools(gt, items, max_dets=(1, 10, 100))
    result = evaluate(gt, items, engine=engine, params=EvalParams(max_dets=(1, 10, 100)), workers=1)
    assert_same_arrays(result, E)
    rec = {r.index: r for r in result.records.image(5).predictions}[0]
    assert rec.iou[0] == 1.0  # the polygons were rasterised exactly as annToRLE does
    gt_rec = result.records.image(5).ground_truth[0]
    assert gt_rec.area == 2100.5  # the file's area, as pycocotools reads it (not the pixel count)
