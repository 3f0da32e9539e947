"""Error analysis on hand-made images where every error type, fix and "why" is known."""

from __future__ import annotations

import numpy as np
import pytest

from placeseg_core import rle as rle_utils
from placeseg_core.analysis import analyze
from placeseg_core.evaluation import evaluate, ground_truth_from_dict
from placeseg_core.submissions import submission_from_parsed

H = W = 40
EPS = np.spacing(1)


def box(y0: int, y1: int, x0: int, x1: int) -> dict:
    m = np.zeros((H, W), np.uint8)
    m[y0:y1, x0:x1] = 1
    return rle_utils.encode(m)


def dataset(anns: list[tuple[int, int, dict]], image_id: int = 7) -> dict:
    """``anns``: (id, category, rle) on one image."""
    return {
        "images": [{"id": image_id, "width": W, "height": H, "file_name": "a.jpg"}],
        "categories": [{"id": c, "name": n} for c, n in ((1, "bed"), (2, "chair"), (3, "lamp"))],
        "annotations": [{"id": i, "image_id": image_id, "category_id": c, "segmentation": r, "iscrowd": 0,
                         "area": float(rle_utils.area([r])[0])} for i, c, r in anns],
    }


def pred(cat: int, rle: dict, score: float, image_id: int = 7) -> dict:
    return {"image_id": image_id, "category_id": cat, "segmentation": rle, "score": score}


A, B, C, D = box(0, 10, 0, 10), box(20, 30, 0, 10), box(0, 10, 20, 30), box(30, 40, 30, 40)
GT = [(1, 1, A), (2, 2, B), (3, 1, C), (4, 3, D)]  # D: nothing comes near it
PREDS = [
    pred(1, A, 0.9),  # 0: true positive on A
    pred(1, A, 0.8),  # 1: duplicate of A, suppressed by #0
    pred(1, B, 0.7),  # 2: classification: a 'bed' exactly on chair B
    pred(1, box(0, 10, 20, 24), 0.6),  # 3: localisation: IoU 0.4 with bed C
    pred(2, box(0, 10, 7, 10), 0.5),  # 4: both: a 'chair' with IoU 0.3 on bed A
    pred(1, box(15, 18, 15, 18), 0.4),  # 5: background
]


def run(gt_anns=GT, preds=PREDS, **kw):
    gt = ground_truth_from_dict(dataset(gt_anns))
    sub = submission_from_parsed(preds)
    result = evaluate(gt, sub)
    return result, analyze(result, gt, sub, **kw)


def test_each_error_type_is_found_with_its_target():
    result, a = run()
    kinds = [a.explain_prediction(i).kind for i in range(len(PREDS))]
    assert kinds == ["true_positive", "duplicate", "classification", "localisation", "both", "background"]
    c = a.columns
    assert c.suppressor[1] == 0
    assert result.records.gt_ids[c.target[2]] == 2 and result.records.gt_ids[c.target[3]] == 3
    assert result.records.gt_ids[c.target[4]] == 1
    assert c.target_iou[3] == pytest.approx(0.4) and c.target_iou[4] == pytest.approx(0.3)
    assert [a.explain_ground_truth(r).kind for r in range(4)] == ["matched", "claimed", "claimed", "missed"]
    assert a.counts == {"classification": 1, "localisation": 1, "both": 1, "duplicate": 1, "background": 1,
                        "missed": 1, "id0_quirk": 0, "true_positives": 1}


def test_why_texts_name_the_culprits():
    _, a = run()
    why = [a.explain_prediction(i).text for i in range(len(PREDS))]
    assert "true positive" in why[0] and "GT 1" in why[0]
    assert why[1].startswith("duplicate") and "prediction #0" in why[1] and "GT 1 ('bed')" in why[1]
    assert why[2].startswith("classification") and "GT 2 ('chair')" in why[2] and "1.000" in why[2]
    assert why[3].startswith("localisation") and "0.400 < 0.50" in why[3] and "GT 3 ('bed')" in why[3]
    assert why[4].startswith("classification and localisation") and "0.300" in why[4]
    assert why[5].startswith("background") and "best 0.000" in why[5]
    d = a.explain_ground_truth(3)
    assert d.kind == "missed" and d.best_pred is None and "no scored prediction overlaps it" in d.text
    claimed = a.explain_ground_truth(1)
    assert claimed.claimed_by == 2 and "classification error prediction #2" in claimed.text


def test_missed_gt_names_its_best_candidate_and_why_it_failed():
    e = box(35, 40, 10, 20)  # a lamp; a small chair overlaps it with IoU 10 / 52
    _, a = run(GT + [(5, 3, e)], PREDS + [pred(2, box(34, 40, 10, 12), 0.3)])
    g = a.explain_ground_truth(4)
    assert g.kind == "missed" and g.best_pred == 6 and g.best_pred_iou == pytest.approx(10 / 52)
    assert "best candidate prediction #6 ('chair'" in g.text and "another category" in g.text
    assert "both error" in g.text
    assert a.explain_prediction(6).kind == "both"


def test_dap_per_type_matches_the_hand_computed_ap():
    result, a = run()
    ap1 = 51 * (1 / (1 + EPS)) / 101  # bed: one TP first, recall 1/2
    base = ap1 / 3  # chair and lamp: AP 0
    assert a.ap == result.summary["AP50"]
    assert a.ap == pytest.approx(base, abs=1e-15)
    expected = {
        "classification": (ap1 + 1) / 3,  # the 'bed' on the chair becomes the chair's TP, ranked first
        "localisation": (51 + 50 * 0.5) / 101 / 3,  # bed: TP, FP, FP, TP -> precision 0.5 at recall 1
        "both": base, "duplicate": base, "background": base, "id0_quirk": base,
        "missed": ap1 / 2,  # the lamp leaves the mean: no GT left to find
    }
    for name, value in expected.items():
        assert a.fixed_ap[name] == pytest.approx(value, abs=1e-12), name
        assert a.dap[name] == pytest.approx(value - base, abs=1e-12), name
    assert a.fixed_ap["all"] == pytest.approx(1.0, abs=1e-15)


def test_per_image_lost_ap_and_counts():
    _, a = run()
    row = a.images.row(7)
    assert row["false_positives"] == 5 and row["missed"] == 1 and row["duplicate"] == 1
    assert row["classification"] == 1 and row["unmatched_gt"] == 3 and row["gt"] == 4
    # one image: fixing its errors is fixing everything
    assert row["lost_ap"] == pytest.approx(a.fixed_ap["all"] - a.ap, abs=1e-12)


def test_confusion_matrix_cells_list_predictions_and_missed_gt():
    _, a = run()
    m = a.confusion
    assert m.cell(1, 1)[0].tolist() == [0, 1]  # TP and duplicate, on bed A
    assert m.cell(2, 1)[0].tolist() == [2]  # a 'bed' on the chair
    assert m.cell("background", 1)[0].tolist() == [3, 5]  # IoU 0.4 and 0 are under 0.5
    assert m.cell("background", 2)[0].tolist() == [4]
    assert [int(a.records.gt_ids[r]) for r in m.cell(1, "missed")[1]] == [3]
    assert [int(a.records.gt_ids[r]) for r in m.cell(3, "missed")[1]] == [4]
    assert int(m.counts.sum()) == 6 + 2
    loose = a.confusion_at(0.3)
    assert loose.cell(1, 1)[0].tolist() == [0, 1, 3] and loose.cell(1, 2)[0].tolist() == [4]
    assert loose.cell(1, "missed")[1].tolist() == []


def test_official_id0_quirk_is_its_own_reason():
    gt = [(0, 1, A), (2, 2, B)]
    preds = [pred(1, A, 0.9), pred(1, A, 0.8), pred(2, B, 0.7)]
    result, a = run(gt, preds)
    p0 = a.explain_prediction(0)
    assert p0.kind == "id0_quirk" and "id 0" in p0.text
    assert a.explain_prediction(1).kind == "duplicate" and a.columns.suppressor[1] == 0
    assert a.explain_ground_truth(0).kind == "id0_quirk"
    assert a.counts["id0_quirk"] == 1 and a.counts["missed"] == 0
    counted = result.variants["id0_counted"]
    assert a.fixed_ap["id0_quirk"] == counted.ap(iou=0.5)
    assert a.dap["id0_quirk"] > 0


def test_other_thresholds_and_bad_arguments():
    loose = box(0, 10, 0, 7)  # IoU 0.7 with A
    result, a = run([(1, 1, A)], [pred(1, loose, 0.9)], iou_threshold=0.75)
    assert a.explain_prediction(0).kind == "localisation"
    assert a.ap == result.scores.ap(iou=0.75)
    again = analyze(result, ground_truth_from_dict(dataset([(1, 1, A)])),
                    submission_from_parsed([pred(1, loose, 0.9)]), 0.5, overlaps=a.overlaps)
    assert again.explain_prediction(0).kind == "true_positive"
    gt, sub = ground_truth_from_dict(dataset([(1, 1, A)])), submission_from_parsed([pred(1, loose, 0.9)])
    with pytest.raises(ValueError, match="not one of the IoU thresholds"):
        analyze(result, gt, sub, 0.62)
    with pytest.raises(ValueError, match="background_threshold"):
        analyze(result, gt, sub, 0.5, background_threshold=0.6)
    with pytest.raises(ValueError, match="do not belong together"):
        analyze(result, gt, submission_from_parsed([pred(1, loose, 0.9)] * 2))


def test_unscored_predictions_are_explained_by_their_status():
    preds = [*PREDS, {**pred(9, A, 0.95)}]  # category 9 is not in the ground truth
    _, a = run(GT, preds)
    why = a.explain_prediction(6)
    assert why.kind is None and why.status == "unknown_category" and "not scored" in why.text
    e = a.explain_image(7)
    assert [p.index for p in e.predictions] == [0, 1, 2, 3, 4, 5, 6]
    assert [g.id for g in e.ground_truth] == [1, 2, 3, 4]
