"""The evaluation API: quirks reported with their corrected scores, the README rule, undefined
numbers as None, per-image records, progress, cancellation and input errors."""

from __future__ import annotations

import json
import threading

import numpy as np
import pytest
from test_eval_cases import H, W, make_case, run_pycocotools

from placeseg_core import rle as rle_utils
from placeseg_core.errors import InputError
from placeseg_core.evaluation import (
    VARIANT_ALL_PREDICTIONS,
    VARIANT_ID0_COUNTED,
    VARIANT_README_RULE,
    EvaluationCancelled,
    evaluate,
    ground_truth_from_dict,
)


def square(y, x, side, h=H, w=W):
    m = np.zeros((h, w), dtype=np.uint8)
    m[y : y + side, x : x + side] = 1
    return m


def tiny_gt(first_id=0):
    """One image, two GTs of category 1 (ids first_id, first_id+1); category 2 has no GT."""
    anns = []
    for k, (y, x) in enumerate([(0, 0), (60, 60)]):
        m = square(y, x, 40)
        anns.append({"id": first_id + k, "image_id": 7, "segmentation": rle_utils.encode(m),
                     "category_id": 1, "iscrowd": 0, "area": int(m.sum())})
    return {"images": [{"id": 7, "file_name": "ADE_val_00000001.jpg", "width": W, "height": H},
                       {"id": 8, "file_name": "ADE_val_00000002.jpg", "width": W, "height": H}],
            "categories": [{"id": 1, "name": "bed"}, {"id": 2, "name": "windowpane"}],
            "annotations": anns}


def pred(mask, score, image_id=7, category_id=1):
    return {"image_id": image_id, "category_id": category_id, "segmentation": rle_utils.encode(mask),
            "score": score}


def test_match_with_gt_id_zero_counts_as_none_and_is_reported():
    gt = tiny_gt(first_id=0)
    items = [pred(square(0, 0, 40), 0.9), pred(square(60, 60, 40), 0.8)]
    result = evaluate(gt, items, workers=1)
    # pycocotools: the perfect match with id 0 is a false positive, GT 0 is missed
    E = run_pycocotools(gt, items)
    assert np.array_equal(result.precision, E.eval["precision"])
    assert result.quirks.gt_has_id_zero and result.quirks.id0_predictions == 1
    assert result.quirks.id0_matches == 10
    rec = result.records.image(7)
    first = rec.predictions[0]
    assert first.matched_gt == (0,) * 10 and first.outcome == ("fp_gt_id_0",) * 10
    assert first.matched_gt_id_zero
    assert rec.ground_truth[0].matched_pred == (0,) * 10  # geometrically matched by item 0
    corrected = result.variants[VARIANT_ID0_COUNTED]
    assert corrected.mean_ap == pytest.approx(1.0)
    assert result.mean_ap < corrected.mean_ap
    assert result.changed_by(VARIANT_ID0_COUNTED)
    # numbered from 1 there is no quirk
    clean = evaluate(tiny_gt(first_id=1), items, workers=1)
    assert clean.variants == {} and clean.mean_ap == pytest.approx(1.0)


def test_undefined_categories_are_none_and_left_out():
    gt = tiny_gt(first_id=1)
    items = [pred(square(0, 0, 40), 0.9), pred(square(0, 0, 40), 0.5, category_id=2)]
    result = evaluate(gt, items, workers=1)
    assert result.per_category_ap[2] is None
    # one of two GTs found at precision 1: recall thresholds 0.00..0.50 -> 51 of 101 points
    assert result.per_category_ap[1] == pytest.approx(51 / 101)
    assert result.mean_ap == pytest.approx(51 / 101)  # category 2 left out of the mean
    assert result.summary["APs"] is None  # no small ground truth: pycocotools says -1
    assert result.precision[0, 0, 1, 0, 2] == -1  # the raw array keeps pycocotools' -1
    doc = result.to_json()
    text = json.dumps(doc, allow_nan=False)
    assert "-1" not in json.dumps(doc["summary"]) and "NaN" not in text
    assert doc["per_category"][1] == {"id": 2, "name": "windowpane", "ap": None}


def test_equal_scores_file_order_decides():
    gt = tiny_gt(first_id=1)
    a, b = square(0, 0, 40), square(2, 2, 40)  # b overlaps GT 1 less than a
    for items, winner in (([pred(a, 0.5), pred(b, 0.5)], 0), ([pred(b, 0.5), pred(a, 0.5)], 0)):
        result = evaluate(gt, items, workers=1)
        E = run_pycocotools(gt, items)
        assert np.array_equal(result.precision, E.eval["precision"])
        first = result.records.prediction(winner)
        assert first.matched_gt[0] == 1 and first.rank == 0


def test_equal_iou_goes_to_the_later_gt():
    """pycocotools replaces its best match on ``iou >= best`` ('<' to skip): the later GT wins."""
    gt = tiny_gt(first_id=1)
    left, right = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    left[0:10, 0:10], right[0:10, 10:20] = 1, 1
    for ann, m in zip(gt["annotations"], (left, right), strict=True):
        ann.update(segmentation=rle_utils.encode(m), area=int(m.sum()))
    items = [pred(left | right, 0.9)]  # IoU exactly 0.5 with both
    result = evaluate(gt, items, workers=1)
    assert np.array_equal(result.precision, run_pycocotools(gt, items).eval["precision"])
    rec = result.records.prediction(0)
    assert rec.matched_gt[0] == 2 and rec.iou[0] == 0.5 and rec.matched_gt[1] is None


def test_max_dets_per_image_and_category_and_readme_rule():
    gt = tiny_gt(first_id=1)
    rng = np.random.default_rng(0)
    items = [pred(square(int(rng.integers(0, 80)), int(rng.integers(0, 100)), 30), float(rng.random()))
             for _ in range(300)]
    items += [pred(square(0, 0, 40), 0.001 * k, category_id=2) for k in range(10)]
    result = evaluate(gt, items, workers=1)
    assert result.quirks.beyond_max_dets == 45  # 300 in one image and category, 255 scored
    statuses = [result.records.prediction(i).status for i in range(len(items))]
    assert statuses.count("beyond_max_dets") == 45
    assert result.readme.broken and not result.readme.applied
    assert result.readme.images_over == {7: 310} and result.readme.removed == 55
    # the README-rule score equals pycocotools on the kept items
    order = sorted(range(len(items)), key=lambda i: (-items[i]["score"], i))[:255]
    kept = [items[i] for i in sorted(order)]
    E = run_pycocotools(gt, kept)
    assert np.array_equal(result.variants[VARIANT_README_RULE].precision, E.eval["precision"])
    applied = evaluate(gt, items, readme_rule=True, workers=1)
    assert applied.readme.applied and np.array_equal(applied.precision, E.eval["precision"])
    assert applied.variants[VARIANT_ALL_PREDICTIONS].same_numbers(result.scores)
    removed = [i for i in range(len(items)) if applied.records.prediction(i).status == "removed_by_readme_rule"]
    assert sorted(removed) == sorted(set(range(len(items))) - set(order))


def test_readme_rule_ties_keep_the_earlier_item():
    gt = tiny_gt(first_id=1)
    items = [pred(square(0, 0, 40), 0.5) for _ in range(257)]
    applied = evaluate(gt, items, readme_rule=True, workers=1)
    removed = [i for i in range(257) if applied.records.prediction(i).status == "removed_by_readme_rule"]
    assert removed == [255, 256]


def test_area_range_edges_are_inclusive():
    gt = tiny_gt(first_id=1)
    m = square(0, 0, 32)  # 1024 pixels: small and medium
    gt["annotations"][0].update(segmentation=rle_utils.encode(m), area=1024)
    items = [pred(m, 0.9), pred(square(60, 60, 40), 0.8)]  # the other GT: 1600 px, medium
    result = evaluate(gt, items, workers=1)
    assert result.summary["APs"] == pytest.approx(1.0) and result.summary["APm"] == pytest.approx(1.0)
    k = 0  # category 1: one non-ignored GT in "small", two in "medium"
    assert result.recall[0, k, 1, 2] == 1.0 and result.recall[0, k, 2, 2] == 1.0
    E = run_pycocotools(gt, items)
    assert np.array_equal(result.precision, E.eval["precision"])


def test_crowd_ground_truth_is_ignored_and_matched_many_times():
    gt = tiny_gt(first_id=1)
    gt["annotations"][1]["iscrowd"] = 1
    items = [pred(square(60, 60, 40), 0.9), pred(square(62, 62, 36), 0.8), pred(square(0, 0, 40), 0.7)]
    result = evaluate(gt, items, workers=1)
    E = run_pycocotools(gt, items)
    assert np.array_equal(result.precision, E.eval["precision"])
    recs = result.records.image(7).predictions
    assert recs[0].outcome[0] == "ignored" and recs[1].outcome[0] == "ignored"
    assert recs[0].matched_gt[0] == 2 and recs[1].matched_gt[0] == 2
    assert result.records.image(7).ground_truth[1].matched_pred[0] == 1  # the last one, as gtm keeps


def test_records_cover_every_prediction_without_rerunning():
    case = make_case(2, many=True, ties=True)
    result = evaluate(case.gt, case.items, workers=1)
    seen = 0
    for image in case.gt["images"]:
        rec = result.records.image(image["id"])
        seen += len(rec.predictions)
        assert [p.index for p in rec.predictions] == sorted(p.index for p in rec.predictions)
        json.dumps(rec.to_json(), allow_nan=False)
    assert seen == len(case.items)
    assert result.records.prediction(0).index == 0


def test_progress_reaches_total_and_cancel_stops():
    case = make_case(1)
    calls = []
    evaluate(case.gt, case.items, workers=1, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1] > 0
    assert all(b[0] >= a[0] for a, b in zip(calls, calls[1:], strict=False))
    event = threading.Event()
    event.set()
    with pytest.raises(EvaluationCancelled):
        evaluate(case.gt, case.items, cancel=event)
    for engine in ("fast", "reference"):
        polls = iter(range(1_000_000))
        with pytest.raises(EvaluationCancelled):
            evaluate(case.gt, case.items, engine=engine, cancel=lambda p=polls: next(p) >= 3, workers=1)


@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_cancel_late_in_the_run(engine):
    """Polled until the end (the reference engine also inside pycocotools' accumulate)."""
    case = make_case(8, many=True)
    polls = {"n": 0}

    def count():
        polls["n"] += 1
        return False

    evaluate(case.gt, case.items, engine=engine, cancel=count, workers=1)
    total = polls["n"]
    assert total > 10
    polls["n"] = 0
    with pytest.raises(EvaluationCancelled):
        evaluate(case.gt, case.items, engine=engine, workers=1,
                 cancel=lambda: count() or polls["n"] >= total - 1)


def test_input_errors():
    gt = tiny_gt()
    with pytest.raises(InputError, match="image_id 9 is not in the ground truth"):
        evaluate(gt, [pred(square(0, 0, 4), 0.5, image_id=9)])
    with pytest.raises(InputError, match="empty list"):
        evaluate(gt, [])
    bad = tiny_gt()
    del bad["annotations"][0]["iscrowd"]
    with pytest.raises(InputError, match="iscrowd"):
        ground_truth_from_dict(bad)
    with pytest.raises(InputError, match="counts"):
        evaluate(gt, [{"image_id": 7, "category_id": 1, "score": 0.5,
                       "segmentation": {"size": [H, W], "counts": [0, 5]}}])
    with pytest.raises(ValueError):
        evaluate(gt, [pred(square(0, 0, 4), 0.5)], engine="turbo")


def test_null_bbox_on_first_item_switches_pycocotools_to_boxes_and_we_refuse_it(tmp_path):
    """pycocotools' loadRes reads boxes when item 0 has a 'bbox' key that is not [] (even null)
    and then fails on it; we give a located message instead of a wrong score."""
    import json

    import numpy as np
    import pytest

    from placeseg_core import rle
    from placeseg_core.errors import InputError
    from placeseg_core.evaluation import evaluate
    from placeseg_core.submissions import first_item_uses_bbox

    m = np.zeros((8, 8), np.uint8)
    m[2:5, 2:5] = 1
    gt = {"images": [{"id": 1, "width": 8, "height": 8}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": rle.encode(m),
                           "area": 9, "iscrowd": 0}]}
    item = {"image_id": 1, "category_id": 1, "segmentation": rle.encode(m), "score": 0.9, "bbox": None}
    assert first_item_uses_bbox(item) and not first_item_uses_bbox({**item, "bbox": []})
    path = tmp_path / "p.json"
    path.write_text(json.dumps([item]))
    with pytest.raises(InputError, match="bbox"):
        evaluate(gt, path)
    path.write_text(json.dumps([{**item, "bbox": []}]))
    assert evaluate(gt, path).mean_ap == pytest.approx(1.0)


def test_score_beyond_float_range_is_a_located_input_error(tmp_path):
    import json

    import numpy as np
    import pytest

    from placeseg_core import rle
    from placeseg_core.errors import InputError
    from placeseg_core.evaluation import evaluate

    m = np.zeros((8, 8), np.uint8)
    m[2:5, 2:5] = 1
    gt = {"images": [{"id": 1, "width": 8, "height": 8}], "categories": [{"id": 1, "name": "a"}],
          "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "segmentation": rle.encode(m),
                           "area": 9, "iscrowd": 0}]}
    path = tmp_path / "p.json"
    path.write_text('[{"image_id": 1, "category_id": 1, "score": 1' + "0" * 400
                    + ', "segmentation": ' + json.dumps(rle.encode(m)) + "}]")
    with pytest.raises(InputError, match=r"item 0, field score: expected a finite number, got an integer of 401 digits"):
        evaluate(gt, path)
