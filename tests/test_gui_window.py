"""The review window with real widgets, offscreen: what it shows after user actions."""

from __future__ import annotations

from pathlib import Path

import pytest
from gui_fixtures import WAIT_MS, canvas_pixel, differs, make_window, open_tiny, wait_settled
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from placeseg_review.model.render import Selection
from placeseg_review.widgets.image_list import COL_GT, COL_ID, COL_PREDS

# pycocotools 2.0.11 with numpy 2 warns on every decode; it is not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def test_demo_opens_with_predictions_and_keyboard_navigation(qtbot, window):
    window.controller.open_demo(n_images=4)
    wait_settled(qtbot, window)
    lst = window.image_list
    assert lst.proxy.rowCount() == 4
    assert window.session.predictions is not None
    assert window.session.image.entry.id == 20210 and window.session.image.preds is not None
    assert "predictions" in window.windowTitle()
    # GT and prediction counts in the list (GT filled in by the background scan)
    qtbot.waitUntil(lambda: window.session.dataset.scanned, timeout=WAIT_MS)
    row0 = [lst.proxy.index(0, c).data() for c in (COL_GT, COL_PREDS)]
    assert row0 == [len(window.session.image.gt.instances), len(window.session.image.preds)]
    # keyboard in the list: Down moves to the next image
    lst.table.setFocus()
    qtbot.keyClick(lst.table, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20211, timeout=WAIT_MS)
    # menu actions: last, previous, first
    window.actions_by_name["last"].trigger()
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20213, timeout=WAIT_MS)
    window.actions_by_name["previous"].trigger()
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20212, timeout=WAIT_MS)
    window.actions_by_name["first"].trigger()
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20210, timeout=WAIT_MS)
    assert lst.table.currentIndex().row() == 0
    # the Go menu's shortcuts work from the canvas
    window.activateWindow()
    window.canvas.setFocus()
    qtbot.keyClick(window.canvas, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20211, timeout=WAIT_MS)
    qtbot.keyClick(window.canvas, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20213, timeout=WAIT_MS)


def test_neighbours_are_prefetched_so_next_is_immediate(qtbot, window):
    window.controller.open_demo(n_images=4)
    wait_settled(qtbot, window)
    cache = window.controller.cache
    qtbot.waitUntil(lambda: cache.cached(20211) is not None, timeout=WAIT_MS)
    window.controller.step(1)
    assert window.session.image.entry.id == 20211  # shown synchronously, from the cache


def test_search_and_sort_the_image_list(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    lst = window.image_list
    lst.search.setText("00000002")
    assert lst.order.visible_ids() == [20211]
    lst.search.setText("20210")
    assert lst.order.visible_ids() == [20210]
    lst.search.clear()
    qtbot.waitUntil(lambda: window.session.dataset.scanned, timeout=WAIT_MS)
    lst.table.sortByColumn(COL_GT, Qt.SortOrder.AscendingOrder)
    assert lst.order.visible_ids() == [20211, 20210]  # 1 instance, then 3


def test_header_sort_orders_rows_keeps_the_current_image_and_navigation_follows(qtbot, window):
    window.controller.open_demo(n_images=8)
    wait_settled(qtbot, window)
    qtbot.waitUntil(lambda: window.session.dataset.scanned, timeout=WAIT_MS)
    lst = window.image_list
    window.controller.go_to(20213)
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20213, timeout=WAIT_MS)
    preds = {i: window.session.predictions.count(i) for i in lst.order.visible_ids()}
    lst.table.horizontalHeader().setSortIndicator(COL_PREDS, Qt.SortOrder.DescendingOrder)  # a header click
    shown = [lst.proxy.index(r, COL_PREDS).data() for r in range(lst.proxy.rowCount())]
    assert shown == sorted(preds.values(), reverse=True)
    ids = lst.order.visible_ids()
    # equal counts keep the data set's order (a stable sort, as Qt's own)
    assert ids == sorted(preds, key=lambda i: (-preds[i], i))
    row = ids.index(20213)
    assert lst.table.currentIndex().row() == row  # the selection moved with its image
    assert lst.order.neighbour(20213, 1) == (ids[row + 1] if row + 1 < len(ids) else 20213)
    lst.table.horizontalHeader().setSortIndicator(COL_ID, Qt.SortOrder.AscendingOrder)
    assert lst.order.visible_ids() == sorted(preds)


def test_list_highlight_moves_with_the_image_in_the_painted_rows(qtbot, window):
    """Only the old and the new row are repainted on a switch; both must look right."""
    window.controller.open_demo(n_images=4)
    wait_settled(qtbot, window)
    lst = window.image_list
    table = lst.table
    highlight = table.palette().color(table.palette().ColorGroup.Active, table.palette().ColorRole.Highlight)

    def row_colour(row: int):
        # what is on screen (the window's backing store), not a fresh render like QWidget.grab()
        shot = window.screen().grabWindow(window.winId()).toImage()
        y = table.rowViewportPosition(row) + table.rowHeight(row) // 2
        at = table.viewport().mapTo(window, QPoint(table.columnViewportPosition(COL_GT) + 3, y))
        c = shot.pixelColor(at * shot.devicePixelRatio())
        return c.red(), c.green(), c.blue()

    def selected(row: int) -> bool:
        return not differs(row_colour(row), (highlight.red(), highlight.green(), highlight.blue()), by=40)

    for previous, target in ((0, 1), (1, 2)):
        window.controller.go_to(lst.order.id_at(target))
        qtbot.waitUntil(lambda t=target: window.session.image.entry.id == lst.order.id_at(t), timeout=WAIT_MS)
        qtbot.waitUntil(lambda t=target, p=previous: selected(t) and not selected(p), timeout=WAIT_MS)


def test_layer_toggles_change_pixels_only_where_masks_are(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    s = window.session
    s.update_options(labels=False, score_threshold=0.3, pred_opacity=0.6)
    bg = canvas_pixel(window, *tiny_set.background_px)
    chair = canvas_pixel(window, *tiny_set.chair_px)
    assert differs(chair, bg)  # GT fill (and the 0.9 prediction) tint the chair
    window.layers.toggles.gt.setChecked(False)
    window.layers.toggles.preds.setChecked(False)
    assert not differs(canvas_pixel(window, *tiny_set.chair_px), bg, by=6)
    assert canvas_pixel(window, *tiny_set.background_px) == bg
    window.actions_by_name["show_gt"].trigger()  # the View menu action does the same
    assert s.options.show_gt and window.layers.toggles.gt.isChecked()
    assert differs(canvas_pixel(window, *tiny_set.chair_px), bg)
    # fill opacity slider
    before = canvas_pixel(window, *tiny_set.chair_px)
    window.layers.gt_opacity.setValue(95)
    assert differs(canvas_pixel(window, *tiny_set.chair_px), before, by=10)


def test_score_threshold_and_category_visibility(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    window.session.update_options(labels=False, pred_opacity=0.7)
    bg = canvas_pixel(window, *tiny_set.background_px)
    assert not differs(canvas_pixel(window, *tiny_set.low_pred_px), bg, by=6)  # 0.2 < 0.30
    window.layers.filters.threshold.setValue(10)
    assert window.session.options.score_threshold == 0.1
    assert differs(canvas_pixel(window, *tiny_set.low_pred_px), bg)
    assert window.inspector.pred_title.text().endswith("(2 shown)")
    # hide "person" (4) in the category panel: its prediction disappears again
    model = window.categories.model
    index = model.index(model.ids.index(4), 0)
    assert model.setData(index, Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert 4 in window.session.options.hidden_categories
    assert not differs(canvas_pixel(window, *tiny_set.low_pred_px), bg, by=6)
    # counts in the category panel: chair has 1 GT here and 1 prediction here
    row = model.ids.index(8)
    assert [model.index(row, c).data() for c in (1, 2)] == [1, 1]


def test_hover_and_selection_stay_in_sync(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    canvas = window.canvas
    x, y = tiny_set.person_px
    qtbot.mouseMove(canvas.viewport(), canvas.image_to_viewport(x, y))
    qtbot.waitUntil(lambda: canvas.hover_info is not None and canvas.hover_info.gt is not None, timeout=WAIT_MS)
    assert canvas.hover_info.gt.instance_id == 2 and canvas.card.isVisible()
    assert "person" in canvas.card.text and "area 320 px" in canvas.card.text
    # click: selects the topmost object there (GT person; no prediction covers it)
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=canvas.image_to_viewport(x, y))
    qtbot.waitUntil(lambda: window.session.selection == Selection("gt", 2), timeout=WAIT_MS)
    assert window.inspector.selected_row("gt") == 1
    assert canvas.highlight_item.isVisible()
    # choosing a prediction row highlights that mask on the canvas
    window.inspector.pred_table.selectRow(0)
    assert window.session.selection == Selection("pred", 0)
    assert window.inspector.selected_row("gt") == -1
    hx, hy = tiny_set.chair_px
    highlight = canvas.highlight_item.image
    assert highlight[hy, hx, 3] > 0 and highlight[y, x, 3] == 0
    # hovering the chair shows the GT and the prediction on top of it
    info = canvas.hover_at(hx, hy)
    assert info.gt.instance_id == 1 and info.pred_index == 0 and abs(info.pred_score - 0.9) < 1e-9
    assert "score 0.900" in canvas.card.text
    # the findings panel lists the two-category instance; choosing it selects that instance
    window.findings.tree.setCurrentItem(window.findings.tree.topLevelItem(0))
    assert window.session.selection == Selection("gt", 3)
    assert window.findings.tree.topLevelItem(0).text(0) == "multiple-categories"


def test_bad_files_give_a_dialog(qtbot, window, tiny_set, tmp_path):
    open_tiny(qtbot, window, tiny_set)
    bad = tmp_path / "broken.json"
    bad.write_text('[{"image_id": 20210, "category_id": 1,')
    with qtbot.waitSignal(window.errorShown, timeout=WAIT_MS) as blocker:
        window.controller.open_predictions(bad)
    assert blocker.args[0] == "Cannot load predictions"
    assert "invalid JSON at line 1" in window.last_error and str(bad) in window.last_error
    assert window.message_box is not None and window.message_box.isVisible()
    assert window.message_box.text() == window.last_error
    window.message_box.close()
    assert window.session.predictions is not None  # the good predictions stay loaded
    with qtbot.waitSignal(window.errorShown, timeout=WAIT_MS):
        window.controller.open_dataset(tmp_path / "nowhere")
    assert "no such file or folder" in window.last_error
    assert window.session.dataset is not None and window.session.image is not None


def test_coco_ground_truth_and_image_folder_open_in_the_window(qtbot, window, tiny_set, tmp_path):
    from placeseg_core.catalog import load_catalog
    from placeseg_core.convert import convert_annotations, write_ground_truth

    result = convert_annotations(tiny_set.root / "annotations_instance" / "validation",
                                 load_catalog(tiny_set.root / "imgCatIds.json"))
    gt_path = tmp_path / "gt.json"
    write_ground_truth(gt_path, result.dataset)
    window.controller.open_dataset(gt_path, images=str(tiny_set.root / "images"), predictions=tiny_set.predictions)
    wait_settled(qtbot, window)
    assert window.session.dataset.kind == "coco"
    assert [window.image_list.proxy.index(r, COL_GT).data() for r in range(2)] == [3, 1]
    assert window.inspector.gt_model.rowCount() == 3 and window.inspector.pred_model.rowCount() == 2
    bg = canvas_pixel(window, *tiny_set.background_px)
    assert differs(canvas_pixel(window, *tiny_set.person_px), bg)  # the photo was found, overlays drawn


def test_drop_folder_and_predictions_together(qtbot, window, tiny_set):
    mime = QMimeData()
    other = tiny_set.predictions.with_name("other.json")
    tiny_set.predictions.rename(other)
    mime.setUrls([QUrl.fromLocalFile(str(other)), QUrl.fromLocalFile(str(tiny_set.root))])
    event = QDropEvent(QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    wait_settled(qtbot, window)
    assert window.session.dataset.source == tiny_set.root
    assert window.session.predictions is not None and window.session.predictions.path == other


def test_recent_files_and_last_image_are_remembered(qtbot, tiny_set, settings_path):
    first = make_window(qtbot, settings_path)
    open_tiny(qtbot, first, tiny_set)
    first.controller.step(1)
    qtbot.waitUntil(lambda: first.session.image.entry.id == 20211, timeout=WAIT_MS)
    assert first.shutdown()
    first.close()
    second = make_window(qtbot, settings_path)
    recent = second.settings.recent()
    assert recent[0] == {"kind": "predictions", "path": str(tiny_set.predictions.resolve()), "images": ""}
    assert recent[1]["kind"] == "dataset"
    second.open_recent(recent[1])
    wait_settled(qtbot, second)
    assert second.session.image.entry.id == 20211
    assert second.shutdown()


def test_no_thread_left_running_when_closed_mid_load(qtbot, tiny_set, settings_path, tmp_path):
    win = make_window(qtbot, settings_path)
    open_tiny(qtbot, win, tiny_set, with_preds=False)
    big = tmp_path / "big.json"
    item = '{"image_id": 20210, "category_id": 8, "segmentation": {"size": [40, 60], "counts": "PP`0"}, "score": 0.5}'
    big.write_text("[" + ",".join([item] * 150000) + "]")
    win.controller.open_predictions(big)
    qtbot.waitUntil(lambda: win.controller.job_pool.active_thread_count() > 0 or "predictions" not in win.controller.jobs,
                    timeout=WAIT_MS)
    win.close()  # closeEvent shuts down: cancels and waits
    assert win.controller.job_pool.active_thread_count() == 0
    assert win.controller.io_pool.active_thread_count() == 0
    assert win.shutdown()


def test_screenshot_mode_writes_a_big_png(tmp_path: Path, isolated_user_state: Path):
    import os
    import subprocess
    import sys

    from PIL import Image

    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PLACESEG_REVIEW_CACHE=str(isolated_user_state / "cache"))
    proc = subprocess.run([sys.executable, "-m", "placeseg_review.main", "--demo", "--view", "viewer",
                           "--screenshot", str(out), "--image-id", "20212"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as img:
        assert img.size[0] >= 1280 and img.size[1] >= 800
        # not a blank window: many distinct colours (photo + overlays)
        assert len(img.convert("RGB").getcolors(1 << 20) or []) > 1000
    bad = subprocess.run([sys.executable, "-m", "placeseg_review.main", str(tmp_path / "missing"),
                          "--screenshot", str(tmp_path / "x.png")], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no such file or folder" in bad.stderr




def test_without_a_display_the_app_says_what_to_do(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PLACESEG_REVIEW_CACHE"] = str(tmp_path / "cache")
    proc = subprocess.run([sys.executable, "-m", "placeseg_review.main", "--demo"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert "no display" in proc.stderr and "--screenshot" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "cache").exists()  # no demo built for a window that cannot open
