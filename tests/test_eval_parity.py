"""Fast engine, reference engine and plain pycocotools give identical numbers and matches."""

from __future__ import annotations

import numpy as np
import pytest
from test_eval_cases import make_case, run_pycocotools, shifted_ids

from placeseg_core.evaluation import (
    VARIANT_ID0_COUNTED,
    VARIANT_MASK_AREAS,
    VARIANT_README_RULE,
    evaluate,
)
from placeseg_core.synth import synth_dataset

CASES = {
    "plain": dict(),
    "ties": dict(ties=True),
    "crowd": dict(crowd=True),
    "bbox": dict(bbox=True),
    "many": dict(many=True),
    "id0": dict(id0_match=True),
    "empty_images": dict(empty_images=True),
    "area_edges": dict(area_edges=True),
    "ids_from_1": dict(first_id=1),
    "everything": dict(ties=True, crowd=True, many=True, id0_match=True, empty_images=True, area_edges=True),
}


def assert_same_arrays(result, E):
    assert np.array_equal(result.precision, E.eval["precision"])
    assert np.array_equal(result.recall, E.eval["recall"])
    assert np.array_equal(result.scores.scores, E.eval["scores"])


def assert_same_pairs(result, E, items):
    """Every (prediction, GT, threshold) pair of pycocotools' area-'all' evaluateImg."""
    records = result.records
    gt_row = {int(g): r for r, g in enumerate(records.gt_ids.tolist())}
    all_rng = E.params.areaRng[0]
    checked = 0
    for e in E.evalImgs:
        if e is None or e["aRng"] != all_rng:
            continue
        for j, gid in enumerate(e["gtIds"]):
            rec = records.ground_truth(gt_row[gid])
            expected = [int(d) - 1 if d > 0 else None for d in e["gtMatches"][:, j]]
            assert list(rec.matched_pred) == expected, (gid, expected, rec)
        for d, dt_id in enumerate(e["dtIds"]):
            rec = records.prediction(dt_id - 1)
            assert rec.status == "scored"
            for t in range(10):
                official = int(e["dtMatches"][t, d])
                if official:
                    assert rec.matched_gt[t] == official
                else:  # none, or the geometric match with id 0 the official code cannot store
                    assert rec.matched_gt[t] in (None, 0)
                ignored = bool(e["dtIgnore"][t, d])
                assert (rec.outcome[t] == "ignored") == ignored
            checked += 1
    assert checked > 0


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_equals_pycocotools(name, seed):
    case = make_case(seed, **CASES[name])
    E = run_pycocotools(case.gt, case.items)
    result = evaluate(case.gt, case.items, engine="fast", workers=1)
    assert_same_arrays(result, E)
    assert_same_pairs(result, E, case.items)
    if result.readme.broken:  # the README-rule score: pycocotools on each image's 255 best
        by_image = {}
        for i, it in enumerate(case.items):
            by_image.setdefault(it["image_id"], []).append(i)
        kept = sorted(i for idx in by_image.values()
                      for i in sorted(idx, key=lambda i: (-case.items[i]["score"], i))[:255])
        E2 = run_pycocotools(case.gt, [case.items[i] for i in kept])
        assert np.array_equal(result.variants[VARIANT_README_RULE].precision, E2.eval["precision"])


@pytest.mark.parametrize("name", ["plain", "everything", "bbox"])
def test_reference_equals_pycocotools_and_fast(name):
    case = make_case(7, **CASES[name])
    E = run_pycocotools(case.gt, case.items)
    ref = evaluate(case.gt, case.items, engine="reference")
    fast = evaluate(case.gt, case.items, engine="fast", workers=1)
    assert_same_arrays(ref, E)
    assert ref.summary == fast.summary and ref.mean_ap == fast.mean_ap
    assert ref.variants.keys() == fast.variants.keys()
    for key in ref.variants:
        assert ref.variants[key].same_numbers(fast.variants[key]), key
    for image_id in ref.records.image_ids_with_records().tolist():
        assert ref.records.image(image_id) == fast.records.image(image_id)


def test_variants_equal_pycocotools_on_changed_inputs():
    case = make_case(11, bbox=True, many=True, id0_match=True)
    result = evaluate(case.gt, case.items, workers=1)
    assert set(result.variants) == {VARIANT_ID0_COUNTED, VARIANT_MASK_AREAS, VARIANT_README_RULE}
    # id 0 counted == pycocotools on the same GT with every id shifted by one
    E = run_pycocotools(shifted_ids(case.gt), case.items)
    assert np.array_equal(result.variants[VARIANT_ID0_COUNTED].precision, E.eval["precision"])
    # mask areas == pycocotools on items without boxes
    no_box = [{k: v for k, v in it.items() if k != "bbox"} for it in case.items]
    E = run_pycocotools(case.gt, no_box)
    assert np.array_equal(result.variants[VARIANT_MASK_AREAS].precision, E.eval["precision"])
    assert result.changed_by(VARIANT_MASK_AREAS) and result.changed_by(VARIANT_ID0_COUNTED)


def test_synthetic_scenes_two_processes_equal_pycocotools():
    ds = synth_dataset(40, seed=3, preds_per_image=30)
    E = run_pycocotools(ds.ground_truth, ds.predictions)
    one = evaluate(ds.ground_truth, ds.predictions, workers=1)
    two = evaluate(ds.ground_truth, ds.predictions, workers=2)
    assert_same_arrays(one, E)
    assert_same_arrays(two, E)
    assert_same_pairs(two, E, ds.predictions)
    for image_id in (20210, 20230, 20249):
        assert one.records.image(image_id) == two.records.image(image_id)


def test_other_max_dets_parametrised():
    from placeseg_core.evaluation import EvalParams

    case = make_case(4, many=True, ties=True)
    E = run_pycocotools(case.gt, case.items, max_dets=(1, 10, 100))
    result = evaluate(case.gt, case.items, params=EvalParams(max_dets=(1, 10, 100)), workers=1)
    assert_same_arrays(result, E)
    assert set(result.summary) == {"AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100",
                                   "ARs", "ARm", "ARl"}


def test_ground_truth_oddities_as_pycocotools_reads_them():
    """Annotations of unlisted images / categories are never seen; a duplicate id makes
    pycocotools load the last annotation with that id in place of each; polygons in the GT."""
    case = make_case(9)
    gt = case.gt
    anns = gt["annotations"]
    anns.append(dict(anns[0], id=10_000, image_id=555))  # image not listed
    anns.append(dict(anns[1], id=10_001, category_id=77))  # category not listed
    anns[3] = dict(anns[3], id=anns[2]["id"])  # duplicate id: both occurrences become anns[3]
    poly_img = gt["images"][0]["id"]
    anns.append({"id": 10_002, "image_id": poly_img, "category_id": 1, "iscrowd": 0, "area": 600.0,
                 "segmentation": [[10, 10, 40, 10, 40, 30, 10, 30]]})
    E = run_pycocotools(gt, case.items)
    for engine in ("fast", "reference"):
        result = evaluate(gt, case.items, engine=engine, workers=1)
        assert_same_arrays(result, E)
    assert result.quirks.gt_duplicate_ids == 1 and result.quirks.gt_dropped_annotations == 2
