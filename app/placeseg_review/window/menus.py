"""The window's actions, menus and toolbar (what the user can do, and its keys).

Kept apart from :mod:`.main_window`, which assembles the panels: the actions call the window's
and the controller's methods; nothing here holds state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from ..services.assets import icon

if TYPE_CHECKING:  # the window imports this module; this one needs its type only
    from .protocol import ReviewWindow


def _action(window: ReviewWindow, name: str, text: str, slot: object, shortcut: str | QKeySequence.StandardKey | list | None = None,
            icon_name: str | None = None, checkable: bool = False, tip: str = "") -> QAction:
    action = QAction(text, window)
    if icon_name:
        action.setIcon(icon(icon_name))
    if shortcut is not None:
        if isinstance(shortcut, list):
            action.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            action.setShortcut(QKeySequence(shortcut))
    action.setCheckable(checkable)
    action.setToolTip(tip or text.replace("&", "").rstrip("…"))
    (action.toggled if checkable else action.triggered).connect(slot)
    window.addAction(action)
    window.actions_by_name[name] = action
    return action

def build_actions(window: ReviewWindow) -> None:
    c, s = window.controller, window.session
    def a(*args: Any, **kwargs: Any) -> QAction:
        return _action(window, *args, **kwargs)

    a("open_folder", "Open &data set folder…", window.ask_folder, QKeySequence.StandardKey.Open, "open-folder",
      tip="Open a folder in the challenge layout (images/, annotations_instance/, imgCatIds.json)")
    a("open_coco", "Open &COCO ground truth…", window.ask_coco, "Ctrl+Shift+O", "open-json",
      tip="Open a COCO ground-truth JSON and choose its image folder")
    a("open_preds", "Open &predictions…", window.ask_predictions, "Ctrl+P", "predictions",
      tip="Open a predictions (submission) JSON for the open data set")
    a("open_compare", "Open predictions to &compare…", window.ask_compare, "Ctrl+Shift+P", None,
      tip="Compare a second predictions file (B) with the open one (A): scores, categories, images")
    a("demo", "Open the &demo data set", lambda: c.open_demo(), None, "demo",
      tip="Build (once) and open a synthetic data set with predictions")
    a("quit", "&Quit", window.close, QKeySequence.StandardKey.Quit)
    a("first", "&First image", lambda: window.go(window.controller.navigation.first()), "Home", "first")
    a("previous", "&Previous image", lambda: c.step(-1), ["PgUp", "P", "Left"], "previous")
    a("next", "&Next image", lambda: c.step(1), ["PgDown", "N", "Right"], "next")
    a("last", "&Last image", lambda: window.go(window.controller.navigation.last()), "End", "last")
    a("fit", "&Fit image", window.canvas.fit, ["F", "Ctrl+0"], "fit")
    a("zoom_in", "Zoom &in", lambda: window.canvas.zoom(1.25), QKeySequence.StandardKey.ZoomIn, "zoom-in")
    a("zoom_out", "Zoom &out", lambda: window.canvas.zoom(0.8), QKeySequence.StandardKey.ZoomOut, "zoom-out")
    a("find", "&Search images", window.focus_search, QKeySequence.StandardKey.Find)
    for name, text, field, key, icon_name in (
        ("show_gt", "&Ground truth", "show_gt", "G", "layer-gt"),
        ("show_preds", "P&redictions", "show_preds", "R", "layer-preds"),
        ("show_photo", "P&hoto", "show_photo", "Shift+H", None),
        ("outlines", "&Outlines", "outlines", "O", None),
        ("labels", "Category &names", "labels", "L", None),
    ):
        act = a(name, text, lambda on, f=field: s.update_options(**{f: on}), key, icon_name, checkable=True)
        act.setChecked(getattr(s.options, field))
    window.colour_group = QActionGroup(window)
    for mode, text, key in (("instance", "Colour per &instance", "I"), ("category", "Colour per &category", "C")):
        act = a(f"colour_{mode}", text, lambda on, m=mode: on and s.update_options(colour_mode=m), key, checkable=True)
        act.setChecked(s.options.colour_mode == mode)
        window.colour_group.addAction(act)
    a("clear_selection", "Clear selection", lambda: s.select(None), "Esc")
    a("flip_ab", "Flip A / B predictions", lambda: window.compare_view.flip(), "X",
      tip="In a comparison: draw the other file's predictions on the photo")
    a("reset_layout", "&Reset layout", lambda: window.workspaces.reset(),
      tip="Put this workspace's panels back where they start, at sizes that fit the window")
    a("validate", "&Validate predictions", lambda: window.show_analysis("validation", run=True), "Ctrl+Shift+V",
      tip="Check the open predictions file for every problem (placeseg validate)")
    a("evaluate", "&Evaluate predictions", lambda: window.show_analysis("evaluation", run=True), "Ctrl+E",
      tip="Score the open predictions as the challenge does (placeseg evaluate)")
    a("matches", "&Matches of this image", lambda: window.show_analysis("matches", run=True), "Ctrl+M",
      tip="How each prediction and object of this image matched, and why the others did not")
    a("errors", "Error &analysis", lambda: window.show_analysis("errors", run=True), "Ctrl+Shift+E",
      tip="What each error type costs (dAP) and the confusion matrix of categories")
    a("next_worst", "Next &worst image", lambda: window.matches_view.worst.step(1), "W",
      tip="The next image by the order chosen in the matches view (share of lost AP, false positives…)")
    a("previous_worst", "Previous worst ima&ge", lambda: window.matches_view.worst.step(-1), "Shift+W")

def build_menus_and_toolbar(window: ReviewWindow) -> None:
    act = window.actions_by_name
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    for name in ("open_folder", "open_coco", "open_preds", "open_compare"):
        file_menu.addAction(act[name])
    window.recent_menu = QMenu("Open &recent", window)
    window.recent_menu.aboutToShow.connect(window.fill_recent)
    file_menu.addMenu(window.recent_menu)
    file_menu.addSeparator()
    file_menu.addAction(act["demo"])
    file_menu.addSeparator()
    file_menu.addAction(act["quit"])
    view_menu = bar.addMenu("&View")
    for name in ("show_photo", "show_gt", "show_preds", "outlines", "labels", None, "colour_instance",
                 "colour_category", None, "fit", "zoom_in", "zoom_out", None, "find"):
        view_menu.addSeparator() if name is None else view_menu.addAction(act[name])
    view_menu.addSeparator()
    workspaces = view_menu.addMenu("&Workspace")
    for k, name in enumerate(window.workspaces.names):
        title = window.workspaces.bar.tabText(k)
        action = QAction(f"&{title}", window)
        action.setShortcut(QKeySequence(f"Ctrl+{k + 1}"))
        action.triggered.connect(lambda _c=False, n=name: window.workspaces.switch(n))
        window.addAction(action)
        workspaces.addAction(action)
    panels = view_menu.addMenu("&Panels")
    for dock in window.docks.values():
        panels.addAction(dock.toggleViewAction())
    view_menu.addAction(act["reset_layout"])
    check_menu = bar.addMenu("&Check")
    check_menu.addAction(act["validate"])
    check_menu.addAction(act["evaluate"])
    check_menu.addAction(act["matches"])
    check_menu.addAction(act["errors"])
    go_menu = bar.addMenu("&Go")
    for name in ("first", "previous", "next", "last", None, "next_worst", "previous_worst"):
        go_menu.addSeparator() if name is None else go_menu.addAction(act[name])
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(act["demo"])
    help_menu.addAction("&About", window._about)
    tools = QToolBar("Main", window)
    tools.setObjectName("toolbar-main")
    tools.setMovable(False)
    for name in ("open_folder", "open_coco", "open_preds", None, "first", "previous", "next", "last", None,
                 "show_gt", "show_preds", None, "fit", "zoom_in", "zoom_out", None, "validate", "evaluate"):
        tools.addSeparator() if name is None else tools.addAction(act[name])
    window.addToolBar(tools)
    window.toolbar = tools

def sync_toggle_actions(window: ReviewWindow, opts: object) -> None:
    for name in ("show_gt", "show_preds", "show_photo", "outlines", "labels"):
        action = window.actions_by_name[name]
        action.blockSignals(True)
        action.setChecked(getattr(opts, name))
        action.blockSignals(False)
    window.actions_by_name[f"colour_{opts.colour_mode}"].setChecked(True)
