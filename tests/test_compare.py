"""``compare()`` and its bootstrap against pycocotools.

Both files' numbers and the deltas equal plain pycocotools; each checked bootstrap sample
equals pycocotools run on the resample built literally (copies of the drawn images with new
image and annotation ids, in draw order), precision array and mean AP bit for bit.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from coco_cases import make_coco_case
from compare_cases import literal_resample, official_mean_ap, second_model
from test_eval_cases import make_case, run_pycocotools

from placeseg_core.compare import build_table, compare, draw_resamples, resampled_mean_ap
from placeseg_core.compare.resample import as_pycocotools, resampled_precision
from placeseg_core.evaluation import (
    EvalParams,
    EvaluationCancelled,
    evaluate,
    ground_truth_from_dict,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

# ids from 1: the literal copies cannot reproduce the id-0 quirk (one annotation keeps id 0)
CASES = {
    "ties": lambda: make_case(3, ties=True, first_id=1),
    "crowd_empty": lambda: make_case(5, crowd=True, empty_images=True, ties=True, first_id=1),
    "many_edges": lambda: make_case(2, many=True, area_edges=True, ties=True, first_id=1),
    "boxes": lambda: make_case(4, bbox=True, first_id=1),
    "coco": lambda: make_coco_case(1, ties=True),
}


def _pair(name):
    case = CASES[name]()
    return case.gt, case.items, second_model(case.items, 17, ties=name != "boxes")


def _max_dets(name):
    return (1, 10, 100) if name == "coco" else (1, 50, 255)


@pytest.mark.parametrize("name", sorted(CASES))
def test_both_scores_and_the_deltas_equal_pycocotools(name):
    gt, items_a, items_b = _pair(name)
    params = EvalParams(max_dets=_max_dets(name))
    cmp = compare(gt, items_a, items_b, params=params, workers=1)
    E_a = run_pycocotools(gt, items_a, max_dets=params.max_dets)
    E_b = run_pycocotools(gt, items_b, max_dets=params.max_dets)
    assert np.array_equal(cmp.a.precision, E_a.eval["precision"])
    assert np.array_equal(cmp.b.precision, E_b.eval["precision"])
    assert np.array_equal(cmp.b.recall, E_b.eval["recall"])
    mean_a, mean_b = official_mean_ap(E_a), official_mean_ap(E_b)
    assert cmp.a.mean_ap == mean_a and cmp.b.mean_ap == mean_b
    doc = cmp.to_json()
    assert doc["delta"]["mean_ap"] == mean_b - mean_a
    for key, value in doc["delta"]["summary"].items():
        a, b = cmp.a.summary[key], cmp.b.summary[key]
        assert value == (None if a is None or b is None else b - a), key
    p_a, p_b = E_a.eval["precision"][:, :, :, 0, -1], E_b.eval["precision"][:, :, :, 0, -1]
    for k, row in enumerate(doc["delta"]["per_category"]):
        sa, sb = p_a[:, :, k], p_b[:, :, k]
        ap_a = float(np.mean(sa[sa > -1])) if (sa > -1).any() else None
        ap_b = float(np.mean(sb[sb > -1])) if (sb > -1).any() else None
        assert (row["a"], row["b"]) == (ap_a, ap_b)
        assert row["delta"] == (None if ap_a is None or ap_b is None else ap_b - ap_a)
    assert doc["bootstrap"] is None


@pytest.mark.parametrize("name", sorted(CASES))
def test_bootstrap_samples_equal_pycocotools_on_literal_resamples(name):
    gt, items_a, items_b = _pair(name)
    params = EvalParams(max_dets=_max_dets(name))
    cmp = compare(gt, items_a, items_b, params=params, resamples=12, seed=7, workers=1)
    boot = cmp.bootstrap
    ids = cmp.image_ids
    draws = draw_resamples(len(ids), 12, 7)
    assert np.array_equal(draws, np.random.default_rng(7).integers(0, len(ids), size=(12, len(ids))))
    has_gt = np.array([any(a["category_id"] == c for a in gt["annotations"]) for c in cmp.a.category_ids])
    repeated = absent = False
    for r in (0, 1, 5, 11):
        lit_gt, lit_a = literal_resample(gt, items_a, ids, draws[r])
        _, lit_b = literal_resample(gt, items_b, ids, draws[r])
        E_a = run_pycocotools(lit_gt, lit_a, max_dets=params.max_dets)
        E_b = run_pycocotools(lit_gt, lit_b, max_dets=params.max_dets)
        assert boot.a[r] == official_mean_ap(E_a) and boot.b[r] == official_mean_ap(E_b), r
        repeated |= bool(np.bincount(draws[r]).max() > 1)
        absent |= bool(np.any(has_gt & np.all(E_a.eval["precision"][:, :, :, 0, -1] == -1, axis=(0, 1))))
    assert repeated  # an image drawn several times
    assert absent or name == "coco"  # a category with ground truth, none in a resample
    # the whole precision array, for the first draws
    table = build_table(cmp.a.records, ids, cmp.a.category_ids, params)
    lit_gt, lit_a = literal_resample(gt, items_a, ids, draws[0])
    E = run_pycocotools(lit_gt, lit_a, max_dets=params.max_dets)
    assert np.array_equal(as_pycocotools(*resampled_precision(table, draws[:1]))[0],
                          E.eval["precision"][:, :, :, 0, -1])


def _tied_pair(crowd: bool):
    """Two images, one category, one object each; at the same score image X's prediction is a
    hit and image Y's a false alarm: the draw order alone decides which comes first. With
    ``crowd``, each image also has a crowd region, and equal-scored parts of it (ignored
    predictions) sit among the others."""
    from placeseg_core import rle as rle_utils

    h, w = 20, 30
    obj = np.zeros((h, w), np.uint8)
    obj[2:12, 3:15] = 1
    other = np.zeros((h, w), np.uint8)
    other[12:19, 18:28] = 1
    region = np.zeros((h, w), np.uint8)
    region[0:8, 20:30] = 1
    part = np.zeros((h, w), np.uint8)
    part[1:5, 22:26] = 1

    def img(i):
        return {"id": i, "file_name": f"{i}.jpg", "height": h, "width": w}

    def ann(i, m, iscrowd):
        return {"id": 10 * i + iscrowd, "image_id": i, "category_id": 1, "iscrowd": iscrowd,
                "area": int(m.sum()), "segmentation": rle_utils.encode(m)}

    anns = [ann(i, obj, 0) for i in (1, 2)] + ([ann(i, region, 1) for i in (1, 2)] if crowd else [])
    gt = {"images": [img(1), img(2)], "categories": [{"id": 1, "name": "thing"}], "annotations": anns}
    hit, miss, ignored = rle_utils.encode(obj), rle_utils.encode(other), rle_utils.encode(part)

    def item(i, m):
        return {"image_id": i, "category_id": 1, "segmentation": m, "score": 0.5}

    items = [item(1, hit), item(2, miss), item(2, hit)]  # a tie in one image too
    if crowd:
        items = [item(1, ignored), item(1, hit), item(2, miss), item(2, ignored), item(2, hit)]
    return gt, items


@pytest.mark.parametrize("crowd", [False, True])
def test_ties_across_images_follow_the_draw_order(crowd):
    gt, items = _tied_pair(crowd)
    truth = ground_truth_from_dict(gt)
    result = evaluate(truth, items, workers=1)
    table = build_table(result.records, truth.image_ids, truth.category_ids, result.params)
    assert table.num_groups == 1  # the equal scores mix hits and a false alarm
    assert bool(table.group_patterns) == crowd  # ignored ones among them: counted per threshold
    draws = np.array([[0, 1], [1, 0], [1, 1], [0, 0]])
    means = resampled_mean_ap(table, draws)
    official = []
    for draw in draws:
        lit_gt, lit_items = literal_resample(gt, items, truth.image_ids, draw)
        official.append(official_mean_ap(run_pycocotools(lit_gt, lit_items)))
    assert means.tolist() == official
    assert official[0] != official[1]  # same images, other order: another number
    three = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0]])
    for draw, mean in zip(three, resampled_mean_ap(table, three), strict=True):
        lit_gt, lit_items = literal_resample(gt, items, truth.image_ids, draw)
        assert mean == official_mean_ap(run_pycocotools(lit_gt, lit_items))


@pytest.mark.parametrize("kwargs", [dict(id0_match=True, ties=True), dict(bbox=True, crowd=True),
                                    dict(many=True, empty_images=True)])
def test_the_identity_draw_is_the_official_evaluation(kwargs):
    """Drawing every image once in id order is the data set itself: the arrays of the
    evaluation, quirks included (a match with GT id 0, box areas, maxDets per image)."""
    case = make_case(8, **kwargs)
    truth = ground_truth_from_dict(case.gt)
    result = evaluate(truth, case.items, workers=1)
    table = build_table(result.records, truth.image_ids, truth.category_ids, result.params)
    identity = np.arange(len(truth.image_ids))[None, :]
    precision = as_pycocotools(*resampled_precision(table, identity))[0]
    assert np.array_equal(precision, result.precision[:, :, :, 0, -1])
    assert resampled_mean_ap(table, identity)[0] == result.mean_ap


def test_bootstrap_statistics_follow_the_definition():
    gt, items_a, items_b = _pair("ties")
    cmp = compare(gt, items_a, items_b, resamples=40, seed=3, workers=1)
    boot = cmp.bootstrap
    draws = draw_resamples(len(cmp.image_ids), 40, 3)
    table_b = build_table(cmp.b.records, cmp.image_ids, cmp.b.category_ids, cmp.b.params)
    assert np.array_equal(resampled_mean_ap(table_b, draws), boot.b)  # the same draws: paired
    doc = boot.to_json()
    assert doc["resamples"] == 40 and doc["seed"] == 3 and len(doc["samples"]) == 40
    assert [s["a"] for s in doc["samples"]] == boot.a.tolist()
    assert doc["ci95"]["a"] == np.percentile(boot.a, [2.5, 97.5]).tolist()
    assert doc["ci95"]["delta"] == np.percentile(boot.b - boot.a, [2.5, 97.5]).tolist()
    assert doc["b_better"] == np.count_nonzero(boot.b > boot.a) / 40
    again = compare(gt, items_a, items_b, resamples=40, seed=3, workers=1).bootstrap
    assert np.array_equal(again.a, boot.a) and np.array_equal(again.b, boot.b)


def test_two_processes_give_the_same_samples():
    gt, items_a, items_b = _pair("crowd_empty")
    one = compare(gt, items_a, items_b, resamples=30, seed=1, workers=1).bootstrap
    two = compare(gt, items_a, items_b, resamples=30, seed=1, workers=2).bootstrap
    assert np.array_equal(one.a, two.a) and np.array_equal(one.b, two.b)


def test_progress_and_cancel():
    gt, items_a, items_b = _pair("ties")
    seen = []
    compare(gt, items_a, items_b, resamples=300, workers=1, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1] and all(t == seen[0][1] for _, t in seen)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    stop = threading.Event()

    def progress(done, total):
        if done > 2 * total // 3:  # into the bootstrap
            stop.set()

    with pytest.raises(EvaluationCancelled):
        compare(gt, items_a, items_b, resamples=300, workers=1, progress=progress, cancel=stop)


def test_match_breakdown_equals_pycocotools_matches():
    gt, items_a, items_b = _pair("crowd_empty")
    cmp = compare(gt, items_a, items_b, workers=1)
    crowd = {a["id"] for a in gt["annotations"] if a["iscrowd"]}
    found, per_image = [], []
    for items in (items_a, items_b):
        E = run_pycocotools(gt, items)
        hits, counts = set(), {}
        for e in E.evalImgs:
            if e is None or e["aRng"] != E.params.areaRng[0]:
                continue
            tp = fp = 0
            for d in range(len(e["dtIds"])):
                if e["dtIgnore"][0, d]:
                    continue
                tp, fp = (tp + 1, fp) if e["dtMatches"][0, d] else (tp, fp + 1)
            gts = [g for j, g in enumerate(e["gtIds"]) if g not in crowd and e["gtMatches"][0, j]]
            hits |= set(gts)
            n = sum(g not in crowd for g in e["gtIds"])
            c = counts.setdefault(e["image_id"], [0, 0, 0])
            c[0], c[1], c[2] = c[0] + tp, c[1] + fp, c[2] + n - len(gts)
        found.append(hits)
        per_image.append(counts)
    m = cmp.to_json()["matches"]
    objects = {a["id"] for a in gt["annotations"]} - crowd
    assert m["iou"] == 0.5
    assert m["ground_truth"] == {"both": len(found[0] & found[1]), "a_only": len(found[0] - found[1]),
                                 "b_only": len(found[1] - found[0]), "neither": len(objects - found[0] - found[1])}
    assert [row["image_id"] for row in m["images"]] == sorted(im["id"] for im in gt["images"])
    for row in m["images"]:
        for side, counts in zip("ab", per_image, strict=True):
            expected = counts.get(row["image_id"], [0, 0, 0])
            assert [row[f"tp_{side}"], row[f"fp_{side}"], row[f"fn_{side}"]] == expected
