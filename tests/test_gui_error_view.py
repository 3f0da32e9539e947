"""The error analysis view with real widgets: the dAP bars and the table equal the core's
analysis, confusion-matrix cells list the right predictions and jump to them, and "next worst
image" follows the chosen count."""


from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gui_error_set import ErrorSet, open_and_analyse, write_error_set
from gui_fixtures import WAIT_MS
from PySide6.QtCore import Qt

from placeseg_core.analysis import analyze
from placeseg_core.catalog import load_catalog
from placeseg_core.convert import convert_annotations
from placeseg_core.demo import build_demo
from placeseg_core.evaluation import evaluate, ground_truth_from_dict
from placeseg_core.submissions import load_submission
from placeseg_review.model.render import Selection
from placeseg_review.panels.error_view import shown_types
from placeseg_review.widgets.confusion_view import ITEM_ROLE

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def error_set(tmp_path: Path) -> ErrorSet:
    return write_error_set(tmp_path / "errors")


def _core_analysis(root: Path):
    catalog = load_catalog(root / "imgCatIds.json")
    gt = ground_truth_from_dict(convert_annotations(root / "annotations_instance" / "validation", catalog,
                                                    workers=1).dataset)
    sub = load_submission(root / "predictions.json")
    return analyze(evaluate(gt, sub, workers=1), gt, sub)


def _click(qtbot, view, index) -> None:
    rect = view.visualRect(index)
    assert rect.isValid() and not rect.isEmpty()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_bars_and_table_equal_the_core(qtbot, window, error_set):
    open_and_analyse(qtbot, window, error_set.root, view="errors")
    view = window.error_view
    assert view.isVisible()
    core = _core_analysis(error_set.root)
    a = window.session.error_analysis
    assert a.ap == core.ap and a.dap == core.dap and a.counts == core.counts
    types = shown_types(a)
    assert types == ["classification", "localisation", "both", "duplicate", "background", "missed"]  # no id-0 here
    heights = view.bars.opts["height"]
    assert np.allclose(heights, [100 * core.dap[t] for t in types])
    assert view.bar_values["classification"] == pytest.approx(100 * core.dap["classification"])
    table = view.types
    assert table.rowCount() == len(types) + 1
    for r, t in enumerate(types):
        assert table.item(r, 1).text() == f"{core.counts[t]:,}"
        assert table.item(r, 2).text() == f"{100 * core.dap[t]:.2f}"
        fixed = core.fixed_ap[t]
        assert table.item(r, 3).text() == ("–" if fixed is None else f"{100 * fixed:.2f}")
    assert table.item(len(types), 3).text() == "100.00"  # every error fixed gives AP 1

    def headline_shows_the_result() -> None:
        # it leaves "Analysing errors…" when the runner reports that it stopped running: a
        # queued signal that may come a moment after the result itself, so wait for it
        assert f"AP50 {100 * core.ap:.2f}" in view.headline.text()

    qtbot.waitUntil(headline_shows_the_result, timeout=WAIT_MS)
    assert [t.toPlainText().split("\n")[1] for t in view._texts] == [f"{core.counts[t]:,}×" for t in types]


def test_confusion_cells_list_and_jump_to_their_predictions(qtbot, window, error_set):
    open_and_analyse(qtbot, window, error_set.root, view="errors")
    conf = window.error_view.confusion
    a = window.session.error_analysis
    model = conf.model
    names = window.session.category_names()
    # only the present categories: painting, chair, person, lamp, bed (+ background / missed)
    rows = [model.headerData(r, Qt.Orientation.Vertical) for r in range(model.rowCount())]
    cols = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert rows == [names[c] for c in (1, 4, 8, 10, 37)] + ["background"]
    assert cols == [names[c] for c in (1, 4, 8, 10, 37)] + ["missed"]
    m = a.confusion
    # ground truth bed, predicted chair: the classification error p3
    index = model.index_of(m.position(1), m.position(8))
    assert index.data() == 1 and "bed → predicted chair" in index.data(Qt.ItemDataRole.ToolTipRole)
    _click(qtbot, conf.table, index)
    listed = [conf.cell_list.item(k).data(ITEM_ROLE) for k in range(conf.cell_list.count())]
    assert listed == [("pred", 3, error_set.ids[0])] == [("pred", int(i), error_set.ids[0]) for i in m.cell(1, 8)[0]]
    # background row, predicted chair: the background error p4; chair diagonal: p0 and its duplicate p1
    _click(qtbot, conf.table, model.index_of(m.position("background"), m.position(8)))
    assert [conf.cell_list.item(k).data(ITEM_ROLE)[1] for k in range(conf.cell_list.count())] == [4]
    _click(qtbot, conf.table, model.index_of(m.position(8), m.position(8)))
    assert [conf.cell_list.item(k).data(ITEM_ROLE)[1] for k in range(conf.cell_list.count())] == [0, 1]
    # the missed column of lamp lists the lamp's ground truth
    _click(qtbot, conf.table, model.index_of(m.position(37), m.position("missed")))
    assert [conf.cell_list.item(k).data(ITEM_ROLE) for k in range(conf.cell_list.count())] == [("gt", 3, error_set.ids[0])]

    # double-clicking a listed prediction shows its image and selects it
    window.controller.go_to(error_set.ids[1])
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.entry.id == error_set.ids[1],
                    timeout=WAIT_MS)
    _click(qtbot, conf.table, model.index_of(m.position(1), m.position(8)))
    rect = conf.cell_list.visualItemRect(conf.cell_list.item(0))
    qtbot.mouseClick(conf.cell_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.session.image.entry.id == error_set.ids[1]  # a single click only chooses
    qtbot.mouseDClick(conf.cell_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.session.selection == Selection("pred", 3), timeout=WAIT_MS)
    assert window.session.image.entry.id == error_set.ids[0]
    assert window.matches_view.current_row().index == 3  # the matches table follows
    assert window.session.pair is not None and window.session.pair.pred_index == 3  # drawn as a pair here too
    # ... and a listed missed object selects that object
    _click(qtbot, conf.table, model.index_of(m.position(37), m.position("missed")))
    conf.itemActivated.emit(conf.cell_list.item(0).data(ITEM_ROLE))
    qtbot.waitUntil(lambda: window.session.selection == Selection("gt", 4), timeout=WAIT_MS)

    # another IoU: the matrix is recomputed (p2's IoU 0.28 with the person counts at 0.25)
    conf.iou.setCurrentIndex(conf.iou.findData(0.25))
    m25 = conf.model.matrix
    assert m25.iou_threshold == 0.25 and (m25.counts == a.confusion_at(0.25).counts).all()
    assert m25.counts[m25.position(4), m25.position(4)] == 1 + 1  # p2 and p5


@pytest.fixture
def demo(tmp_path: Path):
    return build_demo(tmp_path / "demo", n_images=6)


def test_next_worst_image_follows_the_chosen_count(qtbot, window, demo):
    open_and_analyse(qtbot, window, demo.root)
    view, a, s = window.matches_view, window.session.error_analysis, window.session
    cols = a.images.columns
    for key in ("false_positives", "missed", "lost_ap"):
        view.worst_key.setCurrentIndex(view.worst_key.findData(key))
        assert view.worst.key == key
        window.actions_by_name["next_worst"].trigger()
        worst = int(a.images.image_ids[np.lexsort((a.images.image_ids, -(cols["false_positives"] + cols["missed"]),
                                                   -cols[key]))[0]])
        assert cols[key].max() == cols[key][np.searchsorted(a.images.image_ids, worst)] > 0
        assert s.current_id == worst
        order = a.worst_images(key)
        order = order[cols[key][np.searchsorted(a.images.image_ids, order)] > 0]
        window.actions_by_name["next_worst"].trigger()
        assert s.current_id == int(order[1])
        window.actions_by_name["previous_worst"].trigger()
        assert s.current_id == worst
    # choosing "share of lost AP" sorted the image list by the ΔAP column, worst first
    qtbot.waitUntil(lambda: s.image is not None and not window.controller.busy, timeout=WAIT_MS)
    listed = window.controller.navigation.visible_ids()
    assert listed[: len(order)] == [int(i) for i in order]
    # "only these": the list holds just the images with duplicates
    view.worst_key.setCurrentIndex(view.worst_key.findData("duplicate"))
    view.only_these.setChecked(True)
    with_dups = {int(i) for i, n in zip(a.images.image_ids, cols["duplicate"], strict=True) if n > 0}
    assert set(window.controller.navigation.visible_ids()) == with_dups
    window.image_list.filter_clear.click()  # "Show all" clears it, and the box follows
    assert not view.only_these.isChecked() and len(window.controller.navigation.visible_ids()) == demo.n_images
