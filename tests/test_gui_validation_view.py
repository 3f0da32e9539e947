"""The validation view with real widgets: the validator's report as shown, jumps, cancel, export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from gui_fixtures import WAIT_MS, H, TinySet, W, open_tiny, wait_settled
from PySide6.QtCore import Qt

from placeseg_core import rle as rle_utils
from placeseg_core.catalog import load_catalog
from placeseg_core.validate import fix_for, render_text, validate_submission
from placeseg_review.model.render import Selection
from placeseg_review.panels.validation_view import PROBLEM_ROLE

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


def _items(tiny: TinySet) -> list[dict]:
    return json.loads(tiny.predictions.read_text())


def _write(path: Path, items: list[dict]) -> Path:
    path.write_text(json.dumps(items))
    return path


def _broken_file(tiny: TinySet) -> Path:
    """Loadable, but with 2 errors (unknown category, size mismatch) and 1 warning (duplicate)."""
    items = _items(tiny)
    items.append(dict(items[2]))  # 3: duplicate of item 2 (image 20211)
    wrong_cat = dict(items[2], category_id=150, score=0.42)  # 4: unknown category, image 20211
    items.append(wrong_cat)
    mask = np.zeros((W, H), np.uint8)  # 5: transposed size (W x H instead of H x W)
    mask[2:8, 2:8] = 1
    items.append({"image_id": 20210, "category_id": 4, "segmentation": rle_utils.encode(mask), "score": 0.5})
    return _write(tiny.root / "broken.json", items)


def _core_report(tiny: TinySet, path: Path):
    catalog = load_catalog(tiny.root / "imgCatIds.json")
    return validate_submission(path, catalog, expected_image_ids=list(tiny.ids))


def _open_predictions(qtbot, window, path: Path) -> None:
    with qtbot.waitSignal(window.session.validationChanged, timeout=WAIT_MS,
                          check_params_cb=lambda r: r is not None):
        window.controller.open_predictions(path)
    wait_settled(qtbot, window)


def test_opening_predictions_validates_them_in_a_worker(qtbot, window, tiny_set):
    view = window.validation_view
    started, progress, running = [], [], []
    window.analysis.runningChanged.connect(lambda kind, on: kind == "validate" and running.append(on))
    window.analysis.progressed.connect(lambda kind, d, t: kind == "validate" and progress.append((d, t)))
    window.controller.jobChanged.connect(lambda: "validate" in window.controller.jobs and started.append(1))
    with qtbot.waitSignal(window.session.validationChanged, timeout=WAIT_MS, check_params_cb=lambda r: r is not None):
        window.controller.open_dataset(tiny_set.root)  # predictions.json beside it is opened too
    report = window.session.validation
    expected = _core_report(tiny_set, tiny_set.predictions)
    assert report.to_dict() == expected.to_dict()
    assert started and running[0] is True

    def stopped() -> None:  # runningChanged(False) is queued after the job has ended: wait for it
        assert running[-1] is False, f"runningChanged so far: {running}, progress: {progress[-3:]}"

    qtbot.waitUntil(stopped, timeout=WAIT_MS)
    assert progress and progress[-1][0] == progress[-1][1]  # the bar reached its end
    assert [d for d, _ in progress] == sorted(d for d, _ in progress)
    assert view.banner.text().startswith("Valid")
    assert view.banner.property("verdict") == "valid"
    assert view.tree.topLevelItemCount() == len(expected.counts)
    assert view.export_json_button.isEnabled() and not view.cancel_button.isVisible()


def test_problems_grouped_by_code_with_counts_fix_and_jump(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    path = _broken_file(tiny_set)
    _open_predictions(qtbot, window, path)
    view = window.validation_view
    expected = _core_report(tiny_set, path)
    assert view.report.to_dict() == expected.to_dict()
    assert not expected.valid
    n_err = sum(n for c, n in expected.counts.items() if c in ("unknown-category", "size-mismatch"))
    assert n_err == 2
    assert view.banner.text().startswith("Invalid — 2 errors and 1 warning")
    assert view.banner.property("verdict") == "invalid"
    shown = []
    for k in range(view.tree.topLevelItemCount()):
        top = view.tree.topLevelItem(k)
        code = top.data(0, Qt.ItemDataRole.UserRole + 2)
        shown.append((code, top.text(1)))
        assert top.child(0).text(0) == f"Fix: {fix_for(code)}"
        located = [top.child(j).data(0, PROBLEM_ROLE) for j in range(top.childCount())]
        assert [p for p in located if p is not None] == expected.problems_for(code)
    assert shown == [(code, f"{n:,}") for code, n in expected.counts.items()]
    assert "error" in view.code_item("unknown-category").text(0)
    assert "warning" in view.code_item("duplicate").text(0)

    # a double-click on a located problem shows its image and selects its prediction
    window.actions_by_name["validate"].trigger()  # shows the panel (and checks again)
    qtbot.waitUntil(lambda: view.tree.isVisible() and view.report is not None and not window.analysis.running("validate"),
                    timeout=WAIT_MS)
    item = view.problem_items("unknown-category")[0]
    assert item.data(0, PROBLEM_ROLE).index == 4
    assert window.session.image.entry.id == 20210
    view.tree.scrollToItem(item)
    rect = view.tree.visualItemRect(item)
    # QTest's double-click alone lacks the first press a user makes: click, then double-click
    qtbot.mouseClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20211 and window.session.selection is not None,
                    timeout=WAIT_MS)
    assert window.session.selection == Selection("pred", 4)
    assert window.image_list.table.currentIndex().row() == window.controller.navigation.row_of(20211)
    assert view.fix_label.text().endswith(fix_for("unknown-category"))

    # a problem on the image that is shown: selection without an image switch
    item = view.problem_items("size-mismatch")[0]
    view.jump_to(item.data(0, PROBLEM_ROLE))
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20210 and window.session.selection == Selection("pred", 5),
                    timeout=WAIT_MS)


def test_validation_cancel_returns_quickly(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    base = _items(tiny_set)[0]
    items = [dict(base, score=float(s)) for s in np.linspace(0.01, 0.99, 30000)]  # big enough to catch
    path = _write(tiny_set.root / "many.json", items)
    analysis = window.analysis
    with qtbot.waitSignal(analysis.progressed, timeout=WAIT_MS, check_params_cb=lambda k, d, t: k == "validate"):
        window.controller.open_predictions(path)
    view = window.validation_view
    running = []
    analysis.runningChanged.connect(lambda kind, on: kind == "validate" and running.append(on))
    # the app measures the time from the click to the cancelled signal: wait for the signal as
    # long as it takes, then hold the measured time to the promise
    with qtbot.waitSignal(analysis.cancelled, timeout=WAIT_MS, check_params_cb=lambda k: k == "validate"):
        view.cancel_button.click()
    assert analysis.last_cancel_latency["validate"] < 1.0
    qtbot.waitUntil(lambda: not analysis.running("validate") and running == [False], timeout=WAIT_MS)
    assert window.session.validation is None
    assert "cancelled" in view.banner.text()
    assert view.run_button.isEnabled() and not view.cancel_button.isVisible()
    # on demand: runs again to the end
    with qtbot.waitSignal(window.session.validationChanged, timeout=WAIT_MS, check_params_cb=lambda r: r is not None):
        window.validation_view.run_button.click()
    assert "too-many-per-image" in window.session.validation.counts


def test_export_report_as_json_and_text(qtbot, window, tiny_set, tmp_path):
    tmp_path = tmp_path / "exports"
    tmp_path.mkdir()
    open_tiny(qtbot, window, tiny_set)
    path = _broken_file(tiny_set)
    _open_predictions(qtbot, window, path)
    view = window.validation_view
    errors = []
    window.errorShown.connect(lambda title, msg: errors.append(msg))
    (tmp_path / "a-file").write_text("")
    assert view.export(tmp_path / "a-file" / "report.json") is False  # its folder is a file
    assert errors and "a-file" in errors[-1] and window.last_error == errors[-1]
    assert view.export(tmp_path / "report.json")
    assert view.export(tmp_path / "report.txt")
    assert json.loads((tmp_path / "report.json").read_text()) == json.loads(json.dumps(view.report.to_dict()))
    assert (tmp_path / "report.txt").read_text() == render_text(view.report)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "report.json", "report.txt"]  # no temp left


def test_a_file_that_cannot_be_opened_is_validated_and_explained(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    items = _items(tiny_set)
    items[1]["score"] = "high"
    path = _write(tiny_set.root / "bad-score.json", items)
    before = window.session.validation
    with qtbot.waitSignal(window.session.rejectedChanged, timeout=WAIT_MS,
                          check_params_cb=lambda r: r is not None and r.report is not None):
        window.controller.open_predictions(path)
    assert window.last_error and "score" in window.last_error
    # one true state: the old predictions stay open, their report stays theirs, and every part
    # of the window says that the new file was not opened
    assert Path(window.session.predictions.path) == tiny_set.predictions
    assert window.session.validation is before
    report = window.session.rejected.report
    assert "bad-score" in report.counts and report.source == str(path)
    assert window.docks["validation"].isVisible()
    view = window.validation_view
    assert view.report is report and view.code_item("bad-score") is not None
    assert view.banner.text().startswith(f"bad-score.json could not be opened — still showing {tiny_set.predictions.name}")
    assert "bad-score.json could not be opened" in window.windowTitle()
    assert tiny_set.predictions.name in window.windowTitle()
    assert window.status.currentMessage().startswith(f"Could not open bad-score.json; still showing {tiny_set.predictions.name}")
    # its problems name items of the rejected file: a jump shows the image, selects nothing
    view.jump_to(view.problem_items("bad-score")[0].data(0, PROBLEM_ROLE))
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20210, timeout=WAIT_MS)
    assert window.session.selection is None
    # dismissed: the view is back on the open file's report, the title forgets the failure
    assert view.dismiss_button.isVisible()
    view.dismiss_button.click()
    assert window.session.rejected is None and view.report is before
    assert "could not be opened" not in window.windowTitle() and not view.dismiss_button.isVisible()
