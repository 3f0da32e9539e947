"""The matches view with real widgets: on a hand-made set where every error type is known, the
tables equal the engine's records and the analysis' explanations at the chosen threshold,
selecting a row draws the pair on the canvas (pixels), and canvas clicks select rows."""


from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gui_error_set import ErrorSet, open_and_analyse, write_error_set
from gui_fixtures import WAIT_MS, canvas_pixel, differs
from PIL import Image
from PySide6.QtCore import Qt

from placeseg_core import rle as rle_utils
from placeseg_core.evaluation.records import Outcome
from placeseg_review.model.match_rows import KIND_TEXT
from placeseg_review.model.render import PAIR_GT_COLOUR, Selection
from placeseg_review.services.session import Pair

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

OUTCOME_WORDS = {Outcome.TP.json_name: "true positive", Outcome.FP.json_name: "false positive",
                 Outcome.IGNORED.json_name: "ignored"}


@pytest.fixture
def error_set(tmp_path: Path) -> ErrorSet:
    return write_error_set(tmp_path / "errors")


def _cells(model, row: int) -> list:
    return [model.index(row, c).data() for c in range(model.columnCount())]


def _check_tables_equal_the_engine(window, image_id: int) -> None:
    """Every cell of both tables against result.records and a.explain_image at the threshold."""
    view, s = window.matches_view, window.session
    a, rec = s.error_analysis, s.evaluation.result.records
    t = s.threshold_index
    assert a.iou_threshold == pytest.approx(s.evaluation.thresholds[t])
    ex = a.explain_image(image_id)
    names = s.category_names()
    pm, gm = view.pred_model, view.gt_model
    assert [pm.index(r, 7).data() for r in range(pm.rowCount())] == [p.index for p in ex.predictions]
    for r, why in enumerate(ex.predictions):
        core = rec.prediction(why.index)
        gt = core.matched_gt[t]
        iou = "" if core.iou[t] is None else f"{core.iou[t]:.3f}"
        assert _cells(pm, r) == [r + 1, names[core.category_id], f"{core.score:.3f}", "" if gt is None else gt, iou,
                                 OUTCOME_WORDS[core.outcome[t]], KIND_TEXT[why.kind], core.index]
        assert pm.index(r, 1).data(Qt.ItemDataRole.ToolTipRole) == why.text
    assert gm.rowCount() == len(ex.ground_truth)
    for r, why in enumerate(ex.ground_truth):
        core = rec.ground_truth(why.row)
        by = core.matched_pred[t]
        cells = _cells(gm, r)
        assert [cells[0], *cells[2:5]] == [core.id, names[core.category_id], f"{core.area:,.0f}", "" if by is None else by]
        assert cells[6] == ("matched" if by is not None else "missed")
        assert gm.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) == why.text
        if why.kind in ("missed", "claimed"):
            assert cells[7] and cells[7] in why.text


def test_each_error_type_and_the_tables_equal_the_engine(qtbot, window, error_set):
    open_and_analyse(qtbot, window, error_set.root)
    window.controller.go_to(error_set.ids[0])
    qtbot.waitUntil(lambda: window.matches_view.rows is not None and window.matches_view.rows.image_id == error_set.ids[0],
                    timeout=WAIT_MS)
    view, a = window.matches_view, window.session.error_analysis
    # each kind is the one the set was made to have, in the table and in the core
    by_index = {view.pred_model.index(r, 7).data(): view.pred_model.index(r, 6).data()
                for r in range(view.pred_model.rowCount())}
    for index, kind in error_set.kinds:
        if index in by_index:
            assert by_index[index] == KIND_TEXT[kind], index
        assert a.explain_prediction(index).kind == kind
    assert a.counts == {"classification": 1, "localisation": 1, "both": 1, "duplicate": 1, "background": 1,
                        "missed": 2, "id0_quirk": 0, "true_positives": 2}
    gt_status = [view.gt_model.index(r, 6).data() for r in range(view.gt_model.rowCount())]
    assert gt_status == ["missed", "matched", "missed", "missed", "missed"]
    assert "no scored prediction overlaps it" in view.gt_model.index(3, 7).data()  # the lamp
    _check_tables_equal_the_engine(window, error_set.ids[0])
    assert "1 TP" in view.headline.text() and "5 FP" in view.headline.text() and "4 missed" in view.headline.text()

    # another threshold: the view follows it, re-analyses in a worker, and still equals the engine
    view.threshold.setCurrentIndex(8)  # 0.90
    assert window.session.threshold_index == 8
    qtbot.waitUntil(lambda: window.errors.current() and not window.errors.running(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: view.rows.explained, timeout=WAIT_MS)
    assert window.session.error_analysis.iou_threshold == pytest.approx(0.9)
    _check_tables_equal_the_engine(window, error_set.ids[0])
    # p1 (IoU 0.905 with the chair) is still a duplicate at 0.90; the evaluation view shows 0.90 too
    assert window.evaluation_view.threshold.currentText() == "0.90"


def test_selecting_rows_draws_the_pair_and_canvas_clicks_select_rows(qtbot, window, error_set):
    open_and_analyse(qtbot, window, error_set.root)
    window.controller.go_to(error_set.ids[0])
    qtbot.waitUntil(lambda: window.matches_view.rows is not None and window.session.image is not None
                    and window.session.image.entry.id == error_set.ids[0], timeout=WAIT_MS)
    view, s, canvas = window.matches_view, window.session, window.canvas
    s.update_options(labels=False)
    assert view.isVisible() and s.pair is None
    empty_before = canvas_pixel(window, *error_set.empty_px)
    loc_before = canvas_pixel(window, *error_set.loc_px)
    edge_before = canvas_pixel(window, *error_set.person_edge_px)

    # the localisation error p2: drawn with the person it tried to find
    assert view.select_prediction(2)
    assert s.selection == Selection("pred", 2)
    person_label = 3  # instance id 3 in the PNG
    assert s.pair == Pair(error_set.ids[0], 2, person_label)
    empty = canvas_pixel(window, *error_set.empty_px)
    assert max(empty) < 0.6 * min(empty_before)  # everything else dimmed
    loc = canvas_pixel(window, *error_set.loc_px)
    assert differs(loc, loc_before, by=40) and loc[0] > 150 and loc[0] > loc[2] + 80  # amber prediction fill
    edge = canvas_pixel(window, *error_set.person_edge_px)
    assert differs(edge, edge_before) and all(abs(c - p) <= 40 for c, p in zip(edge, PAIR_GT_COLOUR, strict=True))
    assert "localisation" in view.detail.text() and "Prediction #2" in view.detail.text()
    assert view.gt_model.partner == 2  # the person's GT row is tinted as the partner

    # a missed object (the lamp) with no candidate: outlined alone, no prediction
    row = next(r for r in range(view.gt_model.rowCount()) if view.gt_model.rows[r].category_id == 37)
    view.gt_table.setCurrentIndex(view.gt_model.index(row, 0))
    assert s.selection == Selection("gt", 4) and s.pair == Pair(error_set.ids[0], None, 4)
    assert not view.pred_table.selectionModel().hasSelection()
    assert max(canvas_pixel(window, *error_set.loc_px)) < max(loc_before)  # the person is dimmed now

    # clicking the chair on the canvas selects the topmost prediction there (p0) and its row
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.image_to_viewport(*error_set.chair_px))
    qtbot.waitUntil(lambda: s.selection == Selection("pred", 0), timeout=WAIT_MS)
    assert view.current_row().index == 0 and view.pred_table.currentIndex().row() == 0
    assert s.pair == Pair(error_set.ids[0], 0, 2)  # the true positive with the chair it matched

    # Esc clears: no pair, no dimming
    window.actions_by_name["clear_selection"].trigger()
    assert s.selection is None and s.pair is None
    assert not differs(canvas_pixel(window, *error_set.empty_px), empty_before, by=6)

    # hiding the view stops drawing pairs; showing it again draws the selected row's pair
    view.select_prediction(3)
    assert s.pair is not None
    window.docks["matches"].hide()
    assert s.pair is None and s.selection == Selection("pred", 3)
    window.show_analysis("matches")
    qtbot.waitUntil(lambda: s.pair == Pair(error_set.ids[0], 3, 5), timeout=WAIT_MS)  # the chair drawn on the bed


def test_analysis_runs_in_a_worker_after_the_evaluation(qtbot, window, error_set):
    window.controller.open_dataset(error_set.root)
    qtbot.waitUntil(lambda: window.session.predictions is not None and window.session.image is not None,
                    timeout=WAIT_MS)
    window.show_analysis("matches")
    assert "Evaluate the predictions" in window.matches_view.headline.text()
    states: list[bool] = []
    window.errors.runningChanged.connect(states.append)
    seen: list[object] = []
    # the evaluation lands first, then (in a worker) the analysis; never both in one step
    window.session.evaluationChanged.connect(lambda ev: seen.append(("ev", window.session.error_analysis)))
    window.actions_by_name["matches"].trigger()  # evaluates; the analysis follows
    qtbot.waitUntil(lambda: window.session.error_analysis is not None and not window.controller.jobs, timeout=WAIT_MS)

    def stopped() -> None:  # runningChanged(False) is queued after the job has ended: wait for it
        assert states and states[-1] is False, f"runningChanged so far: {states}"

    qtbot.waitUntil(stopped, timeout=WAIT_MS)
    assert ("ev", None) in seen and states[0] is True and states[-1] is False
    assert window.errors.last_seconds is not None
    # the worst-image columns appear in the image list with the analysis' numbers
    model = window.image_list.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    first = headers.index("ΔAP")
    assert headers[first:first + 4] == ["ΔAP", "Miss", "Dup", "Cls"]
    a = window.session.error_analysis
    row = model.row_of_entry(window.session.dataset.index_of[error_set.ids[0]])
    cells = [model.index(row, first + k).data() for k in range(4)]
    cols = a.images.columns
    assert cells == [f"{100 * cols['lost_ap'][0]:.2f}", int(cols["missed"][0]), int(cols["duplicate"][0]),
                     int(cols["classification"][0])]
    # dropping the evaluation (new predictions, another data set) drops the analysis and its columns
    window.session.set_evaluation(None)
    assert window.session.error_analysis is None
    assert "ΔAP" not in [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]


def test_coco_ground_truth_rows_map_to_their_objects_by_id(qtbot, window, tmp_path):
    """A COCO file keeps its annotation ids: rows select (and pair with) the object of that id,
    whatever the order of the annotations."""
    h, w = 40, 64
    (tmp_path / "img").mkdir()
    Image.fromarray(np.full((h, w, 3), 128, np.uint8)).save(tmp_path / "img" / "a.png")
    chair = np.zeros((h, w), np.uint8)
    chair[5:20, 5:25] = 1
    person = np.zeros((h, w), np.uint8)
    person[22:38, 30:60] = 1
    anns = [{"id": 9, "image_id": 3, "category_id": 4, "iscrowd": 0, "area": int(person.sum()),
             "segmentation": rle_utils.encode(person)},
            {"id": 5, "image_id": 3, "category_id": 8, "iscrowd": 0, "area": int(chair.sum()),
             "segmentation": rle_utils.encode(chair)}]
    gt = {"images": [{"id": 3, "file_name": "a.png", "height": h, "width": w}],
          "categories": [{"id": 4, "name": "person"}, {"id": 8, "name": "chair"}], "annotations": anns}
    (tmp_path / "gt.json").write_text(json.dumps(gt))
    shifted = np.roll(person, 12, axis=1)  # a loose person: localisation error on GT 9
    preds = [{"image_id": 3, "category_id": 8, "segmentation": rle_utils.encode(chair), "score": 0.9},
             {"image_id": 3, "category_id": 4, "segmentation": rle_utils.encode(shifted), "score": 0.8}]
    (tmp_path / "preds.json").write_text(json.dumps(preds))
    window.controller.open_dataset(tmp_path / "gt.json", images=str(tmp_path / "img"),
                                   predictions=tmp_path / "preds.json")
    qtbot.waitUntil(lambda: window.session.predictions is not None and window.session.image is not None
                    and not window.controller.busy, timeout=WAIT_MS)
    window.show_analysis("matches", run=True)
    qtbot.waitUntil(lambda: window.session.error_analysis is not None and not window.controller.jobs
                    and window.matches_view.rows is not None and window.matches_view.rows.explained, timeout=WAIT_MS)
    s, view = window.session, window.matches_view
    label_of = {i.instance_id: i.label for i in s.image.gt.instances}
    assert label_of == {9: 1, 5: 2}
    assert [view.gt_model.index(r, 0).data() for r in range(view.gt_model.rowCount())] == [9, 5]
    assert [view.gt_model.index(r, 1).data() for r in range(view.gt_model.rowCount())] == [9, 5]  # COCO: Inst = GT id
    view.gt_table.setCurrentIndex(view.gt_model.index(1, 0))  # GT 5, the chair, matched by p0
    assert s.selection == Selection("gt", label_of[5]) and s.pair == Pair(3, 0, label_of[5])
    assert view.select_prediction(1)  # the loose person: drawn with GT 9
    assert view.pred_model.index(view.pred_table.currentIndex().row(), 6).data() == "localisation"
    assert s.pair == Pair(3, 1, label_of[9])
