"""The main window: a thin assembly of the panels, the canvas, menus and the toolbar.

State lives in the :class:`ReviewSession`, work in the :class:`ReviewController`; the window
wires them to widgets, turns user gestures (menus, keys, drops) into controller calls and shows
problems in a non-blocking message box (``errorShown`` / ``last_error`` for tests).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

from ..panels.category_panel import CategoryPanel
from ..panels.error_view import ErrorView
from ..panels.evaluation_view import EvaluationView
from ..panels.findings_panel import FindingsPanel
from ..panels.inspector import InspectorPanel
from ..panels.layers_panel import LayersPanel
from ..panels.matches_view import MatchesView
from ..panels.status_bar import ReviewStatusBar
from ..panels.validation_view import ValidationView, verdict_text
from ..services.assets import icon
from ..services.checks import AnalysisController
from ..services.controller import ReviewController
from ..services.error_runner import ErrorAnalysisRunner
from ..services.session import RejectedFile, ReviewSession
from ..services.settings import Settings
from ..services.workers import collect_garbage_on_gui_thread
from ..widgets.canvas import Canvas
from ..widgets.image_list import ImageListPanel

APP_TITLE = "PlaceSeg Review"
#: The bottom panels, hidden in the plain viewer.
ANALYSIS_DOCKS = ("validation", "evaluation", "matches", "errors")


class MainWindow(QMainWindow):
    errorShown = Signal(str, str)  # title, message: every problem the user is told about

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        collect_garbage_on_gui_thread()
        self.setWindowTitle(APP_TITLE)
        self.setWindowIcon(icon("placeseg-review"))
        self.setAcceptDrops(True)
        self.settings = settings or Settings()
        self.session = ReviewSession(self)
        self.controller = ReviewController(self.session, self.settings, self)
        self.analysis = AnalysisController(self.session, self.controller, self)
        self.errors = ErrorAnalysisRunner(self.session, self.controller, self.analysis, self)
        self.last_error: str | None = None
        self.message_box: QMessageBox | None = None
        self._shut_down = False

        self.canvas = Canvas(self.session)
        self.setCentralWidget(self.canvas)
        self.image_list = ImageListPanel(self.session, self.controller.navigation)
        self.layers = LayersPanel(self.session)
        self.inspector = InspectorPanel(self.session)
        self.categories = CategoryPanel(self.session)
        self.findings = FindingsPanel(self.session)
        self.validation_view = ValidationView(self.session, self.analysis, self.controller)
        self.evaluation_view = EvaluationView(self.session, self.analysis, self.controller)
        self.matches_view = MatchesView(self.session, self.controller, self.errors)
        self.error_view = ErrorView(self.session, self.controller, self.errors)
        self.docks: dict[str, QDockWidget] = {}
        self._dock("images", "Images", self.image_list, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("layers", "Layers", self.layers, Qt.DockWidgetArea.LeftDockWidgetArea)
        self._dock("inspector", "Inspector", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("categories", "Categories", self.categories, Qt.DockWidgetArea.RightDockWidgetArea)
        self._dock("findings", "Findings", self.findings, Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.docks["inspector"], self.docks["categories"])
        self.tabifyDockWidget(self.docks["categories"], self.docks["findings"])
        self.docks["inspector"].raise_()
        self._dock("validation", "Validation", self.validation_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self._dock("evaluation", "Evaluation", self.evaluation_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["validation"], self.docks["evaluation"])
        self._dock("matches", "Matches", self.matches_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["evaluation"], self.docks["matches"])
        self._dock("errors", "Error analysis", self.error_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["matches"], self.docks["errors"])
        for key in ANALYSIS_DOCKS:
            self.docks[key].hide()
        self.resizeDocks([self.docks["images"], self.docks["inspector"]], [370, 440], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["images"], self.docks["layers"]], [480, 330], Qt.Orientation.Vertical)

        nav = self.controller.navigation
        self.status = ReviewStatusBar(self.controller, nav.position, nav.orderChanged)
        self.setStatusBar(self.status)
        self.controller.errorRaised.connect(self.show_error)
        self.image_list.imageActivated.connect(self.controller.go_to)
        self.image_list.widthWanted.connect(self.fit_image_list)
        self.image_list.register_columns(self.evaluation_view.columns)
        self.image_list.register_columns(self.matches_view.columns)
        self.matches_view.worst.sortRequested.connect(self.image_list.sort_by)
        for view in (self.validation_view, self.evaluation_view, self.matches_view, self.error_view):
            view.errorRaised.connect(self.show_error)
        self.controller.predictionsRejected.connect(lambda _p: self.show_analysis("validation"))
        self.session.rejectedChanged.connect(self._on_rejected)
        self.session.validationChanged.connect(
            lambda r: r is not None and self.status.showMessage(f"Predictions: {verdict_text(r)} (View ▸ Validation)", 10000))
        self.session.datasetChanged.connect(self._update_title)
        self.session.predictionsChanged.connect(self._update_title)
        self.session.rejectedChanged.connect(self._update_title)
        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        self._build_menus_and_toolbar()
        self.session.optionsChanged.connect(self._sync_toggle_actions)

    # -------------------------------------------------------------- layout
    def _dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

    def _action(self, name: str, text: str, slot: object, shortcut: str | QKeySequence.StandardKey | list | None = None,
                icon_name: str | None = None, checkable: bool = False, tip: str = "") -> QAction:
        action = QAction(text, self)
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
        self.addAction(action)
        self.actions_by_name[name] = action
        return action

    def _build_actions(self) -> None:
        c, s = self.controller, self.session
        a = self._action
        a("open_folder", "Open &data set folder…", self._ask_folder, QKeySequence.StandardKey.Open, "open-folder",
          tip="Open a folder in the challenge layout (images/, annotations_instance/, imgCatIds.json)")
        a("open_coco", "Open &COCO ground truth…", self._ask_coco, "Ctrl+Shift+O", "open-json",
          tip="Open a COCO ground-truth JSON and choose its image folder")
        a("open_preds", "Open &predictions…", self._ask_predictions, "Ctrl+P", "predictions",
          tip="Open a predictions (submission) JSON for the open data set")
        a("demo", "Open the &demo data set", lambda: c.open_demo(), None, "demo",
          tip="Build (once) and open a synthetic data set with predictions")
        a("quit", "&Quit", self.close, QKeySequence.StandardKey.Quit)
        a("first", "&First image", lambda: self._go(self.controller.navigation.first()), "Home", "first")
        a("previous", "&Previous image", lambda: c.step(-1), ["PgUp", "P"], "previous")
        a("next", "&Next image", lambda: c.step(1), ["PgDown", "N"], "next")
        a("last", "&Last image", lambda: self._go(self.controller.navigation.last()), "End", "last")
        a("fit", "&Fit image", self.canvas.fit, ["F", "Ctrl+0"], "fit")
        a("zoom_in", "Zoom &in", lambda: self.canvas.zoom(1.25), QKeySequence.StandardKey.ZoomIn, "zoom-in")
        a("zoom_out", "Zoom &out", lambda: self.canvas.zoom(0.8), QKeySequence.StandardKey.ZoomOut, "zoom-out")
        a("find", "&Search images", self._focus_search, QKeySequence.StandardKey.Find)
        for name, text, field, key, icon_name in (
            ("show_gt", "&Ground truth", "show_gt", "G", "layer-gt"),
            ("show_preds", "P&redictions", "show_preds", "R", "layer-preds"),
            ("show_photo", "P&hoto", "show_photo", "Shift+H", None),
            ("outlines", "&Outlines", "outlines", "O", None),
            ("labels", "Category &names", "labels", "L", None),
        ):
            act = a(name, text, lambda on, f=field: s.update_options(**{f: on}), key, icon_name, checkable=True)
            act.setChecked(getattr(s.options, field))
        self._colour_group = QActionGroup(self)
        for mode, text, key in (("instance", "Colour per &instance", "I"), ("category", "Colour per &category", "C")):
            act = a(f"colour_{mode}", text, lambda on, m=mode: on and s.update_options(colour_mode=m), key, checkable=True)
            act.setChecked(s.options.colour_mode == mode)
            self._colour_group.addAction(act)
        a("clear_selection", "Clear selection", lambda: s.select(None), "Esc")
        a("validate", "&Validate predictions", lambda: self.show_analysis("validation", run=True), "Ctrl+Shift+V",
          tip="Check the open predictions file for every problem (placeseg validate)")
        a("evaluate", "&Evaluate predictions", lambda: self.show_analysis("evaluation", run=True), "Ctrl+E",
          tip="Score the open predictions as the challenge does (placeseg evaluate)")
        a("matches", "&Matches of this image", lambda: self.show_analysis("matches", run=True), "Ctrl+M",
          tip="How each prediction and object of this image matched, and why the others did not")
        a("errors", "Error &analysis", lambda: self.show_analysis("errors", run=True), "Ctrl+Shift+E",
          tip="What each error type costs (dAP) and the confusion matrix of categories")
        a("next_worst", "Next &worst image", lambda: self.matches_view.worst.step(1), "W",
          tip="The next image by the order chosen in the matches view (share of lost AP, false positives…)")
        a("previous_worst", "Previous worst ima&ge", lambda: self.matches_view.worst.step(-1), "Shift+W")

    def _build_menus_and_toolbar(self) -> None:
        act = self.actions_by_name
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for name in ("open_folder", "open_coco", "open_preds"):
            file_menu.addAction(act[name])
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        file_menu.addAction(act["demo"])
        file_menu.addSeparator()
        file_menu.addAction(act["quit"])
        view_menu = bar.addMenu("&View")
        for name in ("show_photo", "show_gt", "show_preds", "outlines", "labels", None, "colour_instance",
                     "colour_category", None, "fit", "zoom_in", "zoom_out", None, "find"):
            view_menu.addSeparator() if name is None else view_menu.addAction(act[name])
        view_menu.addSeparator()
        panels = view_menu.addMenu("&Panels")
        for dock in self.docks.values():
            panels.addAction(dock.toggleViewAction())
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
        help_menu.addAction("&About", self._about)
        tools = QToolBar("Main", self)
        tools.setObjectName("toolbar-main")
        tools.setMovable(False)
        for name in ("open_folder", "open_coco", "open_preds", None, "first", "previous", "next", "last", None,
                     "show_gt", "show_preds", None, "fit", "zoom_in", "zoom_out", None, "validate", "evaluate"):
            tools.addSeparator() if name is None else tools.addAction(act[name])
        self.addToolBar(tools)
        self.toolbar = tools

    def _sync_toggle_actions(self, opts: object) -> None:
        for name in ("show_gt", "show_preds", "show_photo", "outlines", "labels"):
            action = self.actions_by_name[name]
            action.blockSignals(True)
            action.setChecked(getattr(opts, name))
            action.blockSignals(False)
        self.actions_by_name[f"colour_{opts.colour_mode}"].setChecked(True)

    def _update_title(self) -> None:
        ds, preds = self.session.dataset, self.session.predictions
        parts = [APP_TITLE]
        if ds is not None:
            parts.append(f"{ds.name} ({len(ds.entries)} images)")
        if preds is not None and preds.path is not None:
            parts.append(f"{preds.path.name} ({len(preds.submission)} predictions)")
        if self.session.rejected is not None:
            parts.append(f"{self.session.rejected.path.name} could not be opened")
        self.setWindowTitle(" — ".join(parts))

    def _on_rejected(self, rejected: RejectedFile | None) -> None:
        if rejected is not None:
            preds = self.session.predictions
            still = preds.path.name if preds is not None and preds.path is not None else "no predictions"
            self.status.showMessage(f"Could not open {rejected.path.name}; still showing {still} "
                                    "(the Validation panel says why)")

    def fit_image_list(self, wanted: int) -> None:
        """Widen the image list to ``wanted`` (all its columns), to at most 45 % of the window."""
        dock = self.docks["images"]
        wanted = min(wanted, self.width() * 45 // 100)
        if dock.width() < wanted:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Horizontal)

    def show_analysis(self, key: str, run: bool = False) -> None:
        """Show an analysis panel (validation, evaluation, matches, errors); ``run``: (re)start its
        work when possible (matches / errors: evaluate first if needed; the analysis follows)."""
        self.docks[key].show()
        self.docks[key].raise_()
        if run and key == "validation" and self.analysis.can_validate():
            self.analysis.validate()
        elif run and key == "evaluation" and self.analysis.can_evaluate():
            self.analysis.evaluate()
        elif run and key in ("matches", "errors"):
            if self.session.evaluation is None and self.analysis.can_evaluate() and not self.analysis.running("evaluate"):
                self.analysis.evaluate()  # the error analysis follows it
            elif self.session.evaluation is not None and not self.errors.current() and not self.errors.running():
                self.errors.run()

    # ------------------------------------------------------------- actions
    def _go(self, image_id: int | None) -> None:
        if image_id is not None:
            self.controller.go_to(image_id)

    def _focus_search(self) -> None:
        self.docks["images"].show()
        self.image_list.search.setFocus()
        self.image_list.search.selectAll()

    def _ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open data set folder (challenge layout)")
        if folder:
            self.controller.open_dataset(folder)

    def _ask_coco(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open COCO ground truth", "", "JSON files (*.json)")
        if not path:
            return
        images = QFileDialog.getExistingDirectory(self, "Folder of the images", str(Path(path).parent))
        self.controller.open_dataset(path, images=images or None)

    def _ask_predictions(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open predictions", "", "JSON files (*.json)")
        if path:
            self.controller.open_predictions(path)

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        recent = self.settings.recent()
        for item in recent:
            label = f"{'Predictions' if item['kind'] == 'predictions' else 'Data set'}: {item['path']}"
            action = self.recent_menu.addAction(label)
            action.triggered.connect(lambda _c=False, it=item: self.open_recent(it))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.settings.clear_recent)

    def open_recent(self, item: dict[str, str]) -> None:
        if item["kind"] == "predictions":
            self.controller.open_predictions(item["path"])
        else:
            self.controller.open_dataset(item["path"], images=item["images"] or None)

    def _about(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_TITLE}",
                          "Browse Places Challenge 2017 images with ground-truth and prediction overlays.", parent=self)
        box.open()
        self.message_box = box

    # -------------------------------------------------------------- errors
    def show_error(self, title: str, message: str) -> None:
        """Tell the user in a non-blocking dialog (``open()``, never ``exec()``)."""
        self.last_error = message
        self.errorShown.emit(title, message)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_box = box

    # ------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        self.open_dropped(paths)
        event.acceptProposedAction()

    def open_dropped(self, paths: list[str]) -> None:
        """Folders and JSON files dropped on the window (a data set and its predictions at once too)."""
        missing = [p for p in paths if not os.path.exists(p)]
        if missing:
            self.show_error("Cannot open", f"{missing[0]}: not found")
        self.controller.open_paths([p for p in paths if p not in missing])

    # ------------------------------------------------------------ shutdown
    def shutdown(self) -> bool:
        """Save settings, stop every worker; True if no thread is left running."""
        if self._shut_down:
            return True
        self._shut_down = True
        self.errors.stop_auto()  # a pending automatic analysis must not start any more
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.sync()
        return self.controller.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)
