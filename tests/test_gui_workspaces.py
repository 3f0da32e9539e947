"""The window's workspaces hold at every size: nothing painted over anything else, the photo the
largest thing while browsing, every summary number in sight, and a window that never resizes
itself. Real widgets at 1024×700, 1600×1000 and 2560×1440 (offscreen), geometry asserted."""

from __future__ import annotations

import pytest
from gui_fixtures import WAIT_MS, open_tiny, wait_settled
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtWidgets import QApplication, QDockWidget, QScrollArea

from placeseg_review.window.workspaces import fits_screen

SIZES = [(1024, 700), (1600, 1000), (2560, 1440)]


def _settle(qtbot, window) -> None:
    """Let layouts run (no fixed sleep: until the docks stop moving between two event rounds)."""
    def stable() -> bool:
        before = [d.geometry() for d in window.docks.values()]
        QApplication.processEvents()
        return before == [d.geometry() for d in window.docks.values()]
    qtbot.waitUntil(stable, timeout=WAIT_MS)


def _on_screen(window) -> list[tuple[str, QRect]]:
    """The canvas and each dock actually shown (a tab behind another is not), in window coordinates."""
    out = [("canvas", QRect(window.canvas.mapTo(window, window.canvas.rect().topLeft()), window.canvas.size()))]
    for key, dock in window.docks.items():
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            out.append((key, QRect(dock.mapTo(window, dock.rect().topLeft()), dock.size())))
    return out


def _assert_no_overlap(window, where: str) -> None:
    shown = _on_screen(window)
    for i, (a, ra) in enumerate(shown):
        assert window.rect().contains(ra), f"{where}: {a} {ra} leaves the window {window.rect()}"
        for b, rb in shown[i + 1:]:
            assert not ra.intersects(rb), f"{where}: {a} {ra} overlaps {b} {rb}"


def _evaluate(qtbot, window) -> None:
    with qtbot.waitSignal(window.session.evaluationChanged, timeout=WAIT_MS, check_params_cb=lambda e: e is not None):
        window.workspaces.switch("evaluation")  # the workspace evaluates what it shows
    qtbot.waitUntil(lambda: not window.analysis.running("evaluate"), timeout=WAIT_MS)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_every_workspace_fits_at_every_size(qtbot, window, tiny_set, size):
    window.resize(*size)
    open_tiny(qtbot, window, tiny_set)
    _settle(qtbot, window)
    assert window.size() == QSize(*size)
    # review: the photo is the largest thing on screen
    canvas = window.canvas.width() * window.canvas.height()
    share = canvas / (window.width() * window.height())
    assert share >= (0.45 if size[0] >= 1600 else 0.30), f"canvas {window.canvas.size()} is {share:.0%} of the window"
    _assert_no_overlap(window, "review")
    _evaluate(qtbot, window)
    wait_settled(qtbot, window)
    _settle(qtbot, window)
    assert window.size() == QSize(*size), "the window resized itself after the evaluation"
    for name in window.workspaces.names:
        window.workspaces.switch(name)
        _settle(qtbot, window)
        assert window.workspaces.bar.currentIndex() == window.workspaces.names.index(name)
        _assert_no_overlap(window, name)
        assert window.size() == QSize(*size), f"the window resized itself in {name}"
    # evaluation: all twelve summary numbers are in sight, none under a scroll bar
    window.workspaces.switch("evaluation")
    _settle(qtbot, window)
    table = window.evaluation_view.summary
    model = table.model()
    assert model.rowCount() == 12
    viewport = table.viewport().rect()
    for row in range(model.rowCount()):
        cell = table.visualRect(model.index(row, model.columnCount() - 1))
        assert viewport.contains(cell), f"summary row {row} ({model.index(row, 0).data()}) is out of sight at {size}"
    # the evaluation panel's controls fit its dock: nothing to scroll sideways to reach
    scroll = window.docks["evaluation"].findChild(QScrollArea)
    assert not scroll.horizontalScrollBar().isVisible()


def test_switching_keeps_what_the_user_arranged_and_reset_forgets_it(qtbot, window, tiny_set):
    window.resize(1600, 1000)
    open_tiny(qtbot, window, tiny_set)
    _settle(qtbot, window)
    window.actions_by_name["reset_layout"].trigger()  # the default arrangement at this size
    _settle(qtbot, window)
    images: QDockWidget = window.docks["images"]
    default = images.width()
    assert abs(default - 1600 // 4) <= 8
    window.resizeDocks([images], [default + 150], Qt.Orientation.Horizontal)
    _settle(qtbot, window)
    arranged = images.width()
    assert arranged > default + 100
    window.workspaces.switch("validation")
    _settle(qtbot, window)
    assert window.docks["validation"].isVisible()
    window.workspaces.switch("review")
    _settle(qtbot, window)
    assert images.width() == arranged and not window.docks["validation"].isVisible()
    window.actions_by_name["reset_layout"].trigger()
    _settle(qtbot, window)
    assert abs(images.width() - default) <= 4


def test_a_rejected_file_shows_the_validation_workspace(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    bad = tiny_set.root / "bad.json"
    bad.write_text('[{"image_id": 20210, "category_id": 8, "score": "high", "segmentation": {}}]')
    with qtbot.waitSignal(window.session.rejectedChanged, timeout=WAIT_MS, check_params_cb=lambda r: r is not None):
        window.controller.open_predictions(bad)
    qtbot.waitUntil(lambda: window.workspaces.current == "validation", timeout=WAIT_MS)
    assert window.workspaces.bar.tabText(window.workspaces.bar.currentIndex()) == "Validation"


def test_arrow_keys_change_images_and_start_on_the_canvas(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    first = window.session.current_id
    assert not window.image_list.search.hasFocus()  # F, G, R… are the canvas's keys
    qtbot.keyClick(window.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.session.current_id != first, timeout=WAIT_MS)
    qtbot.keyClick(window.canvas, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: window.session.current_id == first, timeout=WAIT_MS)


def test_a_saved_window_that_does_not_fit_the_screen_is_not_restored(qtbot, window):
    screen = window.screen().availableGeometry()
    assert fits_screen(QRect(screen.topLeft(), screen.size()), screen)
    assert not fits_screen(QRect(screen.topLeft(), screen.size() + QSize(400, 300)), screen)
    big = QRect(screen.topLeft(), screen.size() + QSize(400, 300))
    window.setGeometry(big)
    geometry, state = window.saveGeometry(), window.saveState()
    window.resize(640, 480)
    assert window.restore_layout(geometry, state) is False
    assert screen.contains(window.frameGeometry()) or window.size().width() <= screen.width()


def test_choosing_a_category_says_what_it_hid_and_where_it_went(qtbot, window, tiny_set):
    """Image 20211 holds only a person; choosing 'chair' (only in 20210) filters it out."""
    open_tiny(qtbot, window, tiny_set)
    _evaluate(qtbot, window)
    window.controller.go_to(20211)
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.entry.id == 20211,
                    timeout=WAIT_MS)
    messages: list[str] = []
    window.controller.message.connect(messages.append)
    window.evaluation_view.choose_categories([8])  # chair
    qtbot.waitUntil(lambda: window.session.image.entry.id == 20210, timeout=WAIT_MS)
    assert any("other categories hidden on the photo" in m for m in messages), messages
    assert any(m.startswith("Image 20211 is not in the list as filtered (images with chair)") for m in messages), messages
    assert window.status.currentMessage() == messages[-1]
