"""Review fixes with real widgets: a clean exit after the matches view's screenshot, screenshot
arguments checked up front, ground-truth ids relatable between the inspector and the matches
view, size-mismatched predictions listed (not drawn), file-level validation problems, and an
error view whose image list shows every column."""


from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from gui_error_set import ErrorSet, open_and_analyse, write_error_set
from gui_fixtures import WAIT_MS, TinySet, open_tiny, wait_settled
from PySide6.QtCore import Qt

from placeseg_review.model.render import Selection
from placeseg_review.panels.validation_view import PROBLEM_ROLE
from placeseg_review.widgets.image_list import COL_FINDINGS
from placeseg_review.window.layouts import apply_view

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def error_set(tmp_path: Path) -> ErrorSet:
    return write_error_set(tmp_path / "errors")


def _env(state: Path) -> dict[str, str]:
    return dict(os.environ, QT_QPA_PLATFORM="offscreen", PLACESEG_REVIEW_CACHE=str(state / "cache"))


def _review(*args: str) -> list[str]:
    return [sys.executable, "-X", "faulthandler", "-m", "placeseg_review.main", *map(str, args)]


# ------------------------------------------------------------------ 1. exit after a screenshot


def test_matches_screenshot_exits_cleanly_every_time(tmp_path: Path, error_set: ErrorSet, isolated_user_state: Path):
    """The window used to be destroyed by PySide's exit handler after its table models: the
    matches view's hide handler then touched a deleted model and the process died (139)."""
    env = _env(isolated_user_state)
    procs = [subprocess.Popen(_review(error_set.root, "--view", "matches", "--screenshot", tmp_path / f"m{k}.png"),
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for k in range(5)]
    for k, proc in enumerate(procs):
        _out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, f"run {k}: exit {proc.returncode}\n{err}"
        assert (tmp_path / f"m{k}.png").stat().st_size > 10000


# ------------------------------------------------------------------ 2. screenshot arguments


@pytest.mark.parametrize("case", ["unwritable", "no-data", "folder"])
def test_screenshot_arguments_fail_at_once_in_one_line(tmp_path: Path, error_set: ErrorSet,
                                                        isolated_user_state: Path, case: str):
    data = [] if case == "no-data" else [error_set.root]
    out = {"unwritable": "/proc/x/y.png", "no-data": tmp_path / "s.png", "folder": tmp_path}[case]
    t0 = time.monotonic()
    proc = subprocess.run(_review(*data, "--screenshot", out), env=_env(isolated_user_state),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert time.monotonic() - t0 < 20
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("placeseg-review: error:"), proc.stderr
    assert {"unwritable": "/proc/x", "no-data": "needs a data set", "folder": "is a folder"}[case] in lines[0]


def test_an_image_id_not_in_the_set_is_reported(tmp_path: Path, qtbot, window, error_set: ErrorSet,
                                                isolated_user_state: Path):
    proc = subprocess.run(_review(error_set.root, "--image-id", 5, "--screenshot", tmp_path / "s.png"),
                          env=_env(isolated_user_state), capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "image 5 is not in the data set; showing image 20210" in proc.stderr
    with qtbot.waitSignal(window.controller.imageMissing, timeout=WAIT_MS) as blocker:
        window.controller.open_dataset(error_set.root, image_id=5)
    assert blocker.args == [5, 20210]
    assert "Image 5 is not in this data set" in window.status.currentMessage()
    wait_settled(qtbot, window)
    window.controller.open_dataset(error_set.root, image_id=20211)  # an id of the set: no note
    with qtbot.waitSignal(window.session.imageChanged, timeout=WAIT_MS,
                          check_params_cb=lambda p: p is not None and p.entry.id == 20211):
        pass


# ------------------------------------------------------------------ 3. ground-truth ids


def _column(model, header: str) -> int:
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert header in headers, headers
    return headers.index(header)


def test_inspector_and_matches_name_ground_truth_alike(qtbot, window, error_set: ErrorSet):
    open_and_analyse(qtbot, window, error_set.root)
    window.controller.go_to(error_set.ids[0])
    view = window.matches_view
    qtbot.waitUntil(lambda: view.rows is not None and view.rows.image_id == error_set.ids[0], timeout=WAIT_MS)
    insp = window.inspector.gt_model
    qtbot.waitUntil(lambda: insp.rowCount() == 5 and insp.index(0, _column(insp, "GT id")).data() != "", timeout=WAIT_MS)
    inspector = {insp.index(r, _column(insp, "Inst")).data(): insp.index(r, _column(insp, "GT id")).data()
                 for r in range(insp.rowCount())}
    gm = view.gt_model
    matches = {gm.index(r, _column(gm, "Inst")).data(): gm.index(r, _column(gm, "GT id")).data()
               for r in range(gm.rowCount())}
    assert inspector == matches == {1: 0, 2: 1, 3: 2, 4: 3, 5: 4}  # the converter numbers them from 0
    # '#' is the file index everywhere; the matches table's rank is 'Rank'
    pm = view.pred_model
    assert _column(pm, "Rank") == 0 and "#" not in [pm.headerData(c, Qt.Orientation.Horizontal)
                                                    for c in range(pm.columnCount())]
    assert _column(pm, "GT id") >= 0 and _column(gm, "Pred #") >= 0
    assert window.inspector.pred_model.headerData(0, Qt.Orientation.Horizontal) == "#"
    # the detail line names both ids
    row = next(r for r in range(gm.rowCount()) if gm.rows[r].category_id == 37)  # the lamp, instance 4
    view.gt_table.setCurrentIndex(gm.index(row, 0))
    assert "Ground truth 3" in view.detail.text() and "instance 4" in view.detail.text()


# ------------------------------------------------------------------ 4. size-mismatched predictions


def _mismatched_set(tiny: TinySet) -> list[int]:
    """Swap the size of every prediction of image 20211 but the first; returns their indices."""
    items = json.loads(tiny.predictions.read_text())
    on_b = [k for k, it in enumerate(items) if it["image_id"] == 20211]
    if len(on_b) < 3:  # make room: copies of its first prediction
        items += [dict(items[on_b[0]], score=0.3 - 0.1 * k) for k in range(3 - len(on_b))]
        on_b = [k for k, it in enumerate(items) if it["image_id"] == 20211]
    swapped = on_b[1:]
    for k in swapped:
        seg = dict(items[k]["segmentation"])
        seg["size"] = list(reversed(seg["size"]))
        items[k] = dict(items[k], segmentation=seg)
    tiny.predictions.write_text(json.dumps(items))
    return swapped


def test_size_mismatched_predictions_are_listed_counted_and_selectable(qtbot, window, tiny_set: TinySet):
    swapped = _mismatched_set(tiny_set)
    open_tiny(qtbot, window, tiny_set)
    qtbot.waitUntil(lambda: window.session.validation is not None, timeout=WAIT_MS)
    lst = window.image_list
    b_row = lst.model.index(lst.model.row_of_entry(lst.model.session.dataset.index_of[20211]), COL_FINDINGS)
    assert b_row.data() == len(swapped)  # the image list counts them among the findings
    window.controller.go_to(20211)
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.entry.id == 20211, timeout=WAIT_MS)
    insp = window.inspector
    n = window.session.predictions.count(20211)
    assert insp.pred_model.rowCount() == n  # all listed, drawn or not
    assert f"{n - len(swapped)} shown, {len(swapped)} not drawn: size mismatch" in insp.pred_title.text()
    for k in swapped:
        row = insp.pred_model.row_of(k)
        assert row >= 0 and row in insp.pred_model.dim
        assert "size mismatch: not drawn" in insp.pred_model.index(row, 1).data(Qt.ItemDataRole.ToolTipRole)
    findings = window.findings
    assert "2 predictions not drawn" in findings.summary.text() or f"{len(swapped)} prediction" in findings.summary.text()
    assert sum(findings.tree.topLevelItem(k).text(0) == "size-mismatch" for k in range(findings.count())) == len(swapped)
    # the validation view's jump selects the row even though nothing is drawn
    window.controller.go_to(20210)
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20210, timeout=WAIT_MS)
    view = window.validation_view
    item = next(i for i in view.problem_items("size-mismatch") if i.data(0, PROBLEM_ROLE).index == swapped[-1])
    assert view.jump_to(item.data(0, PROBLEM_ROLE))
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20211
                    and window.session.selection == Selection("pred", swapped[-1]), timeout=WAIT_MS)
    assert insp.selected_row("pred") == insp.pred_model.row_of(swapped[-1])


# ------------------------------------------------------------------ 5. file-level problems


def test_file_level_problems_show_details_and_missing_images_jump(qtbot, window, tiny_set: TinySet):
    open_tiny(qtbot, window, tiny_set)
    items = [it for it in json.loads(tiny_set.predictions.read_text()) if it["image_id"] == 20210]
    only_a = tiny_set.root / "only-a.json"
    only_a.write_text(json.dumps(items))
    with qtbot.waitSignal(window.session.validationChanged, timeout=WAIT_MS, check_params_cb=lambda r: r is not None):
        window.controller.open_predictions(only_a)
    wait_settled(qtbot, window)
    view = window.validation_view
    missing = [i.data(0, PROBLEM_ROLE) for i in view.problem_items("missing-images")]
    assert missing and missing[0].image_id == 20211
    assert view.jump_to(missing[0])
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20211, timeout=WAIT_MS)

    broken = tiny_set.root / "broken.json"
    broken.write_text('[{"image_id": 20210,')
    messages: list[str] = []
    window.controller.message.connect(messages.append)
    with qtbot.waitSignal(window.session.rejectedChanged, timeout=WAIT_MS,
                          check_params_cb=lambda r: r is not None and r.report is not None):
        window.controller.open_predictions(broken)
    report = window.session.rejected.report  # the rejected file's; only-a.json stays open
    assert report.source == str(broken) and window.session.predictions.path == only_a
    file_level = [p for c in report.counts for p in report.problems_for(c) if p.index is None and p.image_id is None]
    assert file_level, report.counts
    problem = file_level[0]
    items = [i for i in view.problem_items(problem.code) if i.data(0, PROBLEM_ROLE) == problem]
    rect = view.tree.visualItemRect(items[0])
    view.tree.scrollToItem(items[0])
    rect = view.tree.visualItemRect(items[0])
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: problem.code in view.fix_label.text() and "Fix:" in view.fix_label.text(), timeout=WAIT_MS)
    assert not any("Cannot show" in m for m in messages), messages
    assert window.session.image.entry.id == 20211  # stayed where it was


# ------------------------------------------------------------------ 6. error view at 1600 x 1000


def test_error_view_image_list_shows_every_column(qtbot, window, error_set: ErrorSet):
    window.resize(1600, 1000)
    apply_view(window, "errors")
    open_and_analyse(qtbot, window, error_set.root, view="errors")
    table = window.image_list.table
    model = window.image_list.model
    qtbot.waitUntil(lambda: model.columnCount() > 8, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.docks["images"].width() >= min(window.image_list.preferred_width(),
                                                                   window.width() * 45 // 100) - 2,
                    timeout=WAIT_MS)
    viewport = table.viewport().width()
    right = max(table.columnViewportPosition(c) + table.columnWidth(c) for c in range(model.columnCount()))
    assert right <= viewport, (right, viewport)  # FN and the error columns are all in view
    assert table.columnWidth(1) >= table.fontMetrics().horizontalAdvance("…00000000.jpg")  # the file's number shows
    # the confusion list says everything in lines that fit, and in a tooltip
    conf = window.error_view.confusion
    m = conf.model.matrix
    cell = next((r, c) for r in range(len(m.category_ids)) for c in range(len(m.category_ids))
                if r != c and m.counts[r, c])
    index = conf.model.index_of(*cell)
    conf.show_cell(index)
    assert conf.cell_list.count() and conf.cell_list.wordWrap()
    first = conf.cell_list.item(0)
    assert "IoU" in first.toolTip() and "\n" in first.text()
    width = conf.cell_list.fontMetrics().horizontalAdvance
    assert max(width(line) for line in first.text().splitlines()) < 360
