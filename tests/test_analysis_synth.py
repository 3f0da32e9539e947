"""Error analysis on generated sets: consistent with the engine's records and the official AP,
dAP checked against re-evaluations, per-image lost AP against a brute-force re-computation."""

from __future__ import annotations

import numpy as np
import pytest
from test_eval_cases import make_case

from placeseg_core.analysis import ALL_ERROR_TYPES, IMAGE_COLUMNS, analyze
from placeseg_core.analysis.apcalc import precision_table, score_rank
from placeseg_core.analysis.errors import fixed_state
from placeseg_core.evaluation import evaluate, ground_truth_from_dict
from placeseg_core.evaluation.records import STATUS_NAMES, Outcome, PredStatus
from placeseg_core.evaluation.summary import mean_defined
from placeseg_core.submissions import submission_from_parsed
from placeseg_core.synth import synth_dataset


@pytest.fixture(scope="module")
def synth():
    s = synth_dataset(30, seed=5, preds_per_image=40)
    gt = ground_truth_from_dict(s.ground_truth)
    sub = submission_from_parsed(s.predictions)
    result = evaluate(gt, sub, workers=1)
    return s, gt, sub, result, analyze(result, gt, sub)


def test_threshold_columns_equal_the_per_prediction_records(synth):
    _, _, sub, result, _ = synth
    r = result.records
    for t in (0, 5, 9):
        rows, ious, code = r.threshold_columns(t)
        for i in range(len(sub)):
            rec = r.prediction(i)
            expected = Outcome(int(code[i])).json_name
            assert rec.outcome[t] == expected
            assert rec.matched_gt[t] == (None if rows[i] < 0 else int(r.gt_ids[rows[i]]))


def test_one_outcome_vocabulary_with_unchanged_json_names(synth):
    from placeseg_review.model.evaluation import outcome_table

    r = synth[3].records
    table = outcome_table(r)
    for t in range(r.num_thresholds):
        assert np.array_equal(table[:, t], r.threshold_columns(t)[2])
    assert set(np.unique(table).tolist()) <= {int(o) for o in Outcome}
    assert [o.json_name for o in Outcome] == [None, "tp", "fp", "ignored", "fp_gt_id_0"]
    assert STATUS_NAMES == tuple(s.json_name for s in PredStatus) == (
        "scored", "unknown_category", "beyond_max_dets", "removed_by_readme_rule")


@pytest.mark.parametrize("iou", [0.5, 0.75, 0.95])
def test_true_positive_iff_the_record_says_matched(synth, iou):
    _, gt, sub, result, a = synth
    b = a if iou == 0.5 else analyze(result, gt, sub, iou, overlaps=a.overlaps)
    t = result.params.threshold_index(iou)
    assert b.ap == result.scores.ap(iou=iou)  # fixing nothing: the official AP, bit for bit
    for image_id in result.records.image_ids_with_records().tolist():
        rec = result.records.image(image_id)
        why = {p.index: p for p in b.explain_image(image_id).predictions}
        assert set(why) == {p.index for p in rec.predictions}
        for p in rec.predictions:
            assert (why[p.index].kind == "true_positive") == (p.outcome[t] == "tp")
            assert why[p.index].matched_gt == p.matched_gt[t]
            assert (why[p.index].kind is None) == (p.status != "scored")
        gts = {g.row: g for g in b.explain_image(image_id).ground_truth}
        for g in rec.ground_truth:
            assert gts[g.row].matched_pred == g.matched_pred[t]
            assert (gts[g.row].kind == "matched") == (g.matched_pred[t] is not None and g.id != 0)
    assert b.fixed_ap["all"] == pytest.approx(1.0, abs=1e-12)


def test_every_unmatched_prediction_has_an_error_type_and_a_reason(synth):
    _, _, _, result, a = synth
    kinds = a.columns.kind
    fp = a.columns.outcome == Outcome.FP
    assert np.all(np.isin(kinds[fp], [1, 2, 3, 4, 5]))
    assert sum(a.counts[t] for t in ALL_ERROR_TYPES if t != "missed") == int(fp.sum()) + a.counts["id0_quirk"]
    for i in np.flatnonzero(fp)[:200].tolist():
        why = a.explain_prediction(i)
        assert why.text.startswith({"classification": "classification", "localisation": "localisation",
                                    "both": "classification and localisation", "duplicate": "duplicate",
                                    "background": "background"}[why.kind])
        if why.kind == "duplicate":
            assert why.suppressor is not None and result.records.scores[why.suppressor] >= why.score


def test_fixing_suppressed_types_equals_reevaluating_without_them(synth):
    """Background, duplicate and 'both' errors match nothing at 0.5: removing them from the file
    and scoring again must give the AP the analysis computed for their fix."""
    s, gt, _, _, a = synth
    for name in ("background", "duplicate", "both"):
        code = {"background": 5, "duplicate": 4, "both": 3}[name]
        keep = [p for i, p in enumerate(s.predictions) if a.columns.kind[i] != code]
        again = evaluate(gt, submission_from_parsed(keep), workers=1)
        assert a.fixed_ap[name] == again.scores.ap(iou=0.5), name
    missed = set(np.flatnonzero(a.columns.gt_kind == 1).tolist())
    assert missed
    data = dict(s.ground_truth)
    data["annotations"] = [x for r, x in enumerate(s.ground_truth["annotations"]) if r not in missed]
    again = evaluate(ground_truth_from_dict(data), submission_from_parsed(s.predictions), workers=1)
    assert a.fixed_ap["missed"] == again.scores.ap(iou=0.5)


def test_per_image_lost_ap_equals_brute_force(synth):
    _, _, _, result, a = synth
    r, cols, cats = result.records, a.columns, result.category_ids
    everything = fixed_state(r, cols, ALL_ERROR_TYPES)
    rank = score_rank(r.image_ids, r.scores)
    npig = np.bincount(np.searchsorted(cats, r.gt_category_ids[~r.gt_ignored]), minlength=len(cats))
    assert np.any(a.images.columns["lost_ap"] > 0)
    for image_id in a.images.image_ids.tolist():
        state = fixed_state(r, cols, ())
        sel = r.image_ids == image_id
        state.category[sel], state.tp[sel], state.fp[sel] = everything.category[sel], everything.tp[sel], everything.fp[sel]
        gone = everything.removed_gt & (r.gt_image_ids == image_id)
        n_pos = npig - np.bincount(np.searchsorted(cats, r.gt_category_ids[gone]), minlength=len(cats))
        fixed = mean_defined(precision_table(state, rank, cats, n_pos, result.params.rec_thrs))
        assert a.images.row(image_id)["lost_ap"] == pytest.approx(fixed - a.ap, abs=1e-12)


def test_image_table_adds_up_and_sorts_worst_first(synth):
    _, _, _, _, a = synth
    cols = a.images.columns
    assert tuple(cols) == IMAGE_COLUMNS
    for name in ("classification", "localisation", "both", "duplicate", "background", "missed"):
        assert int(cols[name].sum()) == a.counts[name]
    assert int(cols["true_positives"].sum()) == a.counts["true_positives"]
    worst = a.worst_images("missed")
    values = [a.images.row(i)["missed"] for i in worst.tolist()]
    assert values == sorted(values, reverse=True)
    assert a.worst_images("lost_ap", 3).tolist() == a.images.order("lost_ap")[:3].tolist()
    with pytest.raises(KeyError):
        a.images.order("nonsense")


def test_confusion_cells_add_up(synth):
    _, _, _, result, a = synth
    for m in (a.confusion, a.confusion_at(0.3)):
        K = len(m.category_ids)
        listed = []
        for i in range(K + 1):
            for j in range(K + 1):
                preds, rows = m.cell_at(i, j)
                if j == K:
                    assert len(preds) == 0 and len(rows) == m.counts[i, j]
                    assert np.all(result.records.gt_category_ids[rows] == m.category_ids[i]) if i < K else len(rows) == 0
                else:
                    assert len(preds) == len(rows) == m.counts[i, j]
                    assert np.all(result.records.category_ids[preds] == m.category_ids[j])
                    listed += preds.tolist()
        scored = np.flatnonzero(result.records.status == 0)
        assert sorted(listed) == scored.tolist()  # every scored prediction exactly once
        assert m.counts[K, K] == 0


def test_id0_quirk_fix_equals_the_engines_variant():
    case = make_case(21, id0_match=True)
    gt, sub = ground_truth_from_dict(case.gt), submission_from_parsed(case.items)
    result = evaluate(gt, sub, workers=1)
    a = analyze(result, gt, sub)
    assert a.counts["id0_quirk"] >= 1
    assert a.fixed_ap["id0_quirk"] == result.variants["id0_counted"].ap(iou=0.5)
    assert a.ap == result.scores.ap(iou=0.5)


@pytest.mark.parametrize("options", [{"crowd": True}, {"ties": True}, {"bbox": True}, {"many": True},
                                     {"empty_images": True}, {"area_edges": True}])
def test_official_ap_and_full_fix_on_the_engine_traps(options):
    case = make_case(3, **options)
    gt, sub = ground_truth_from_dict(case.gt), submission_from_parsed(case.items)
    result = evaluate(gt, sub, workers=1)
    a = analyze(result, gt, sub)
    for iou in (0.5, 0.75):
        b = a if iou == 0.5 else analyze(result, gt, sub, iou, overlaps=a.overlaps)
        assert b.ap == result.scores.ap(iou=iou)
        assert b.fixed_ap["all"] == pytest.approx(1.0, abs=1e-12)
        assert all(d >= -1e-12 for d in b.dap.values())
    if options.get("crowd"):
        assert "ignored" in {a.explain_ground_truth(r).kind for r in range(len(gt))}
