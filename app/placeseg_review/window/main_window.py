"""The main window: a thin assembly of the panels, the canvas, menus and the toolbar.

State lives in the :class:`ReviewSession`, work in the :class:`ReviewController`; the window
wires them to widgets, turns user gestures (menus, keys, drops) into controller calls and shows
problems in a non-blocking message box (``errorShown`` / ``last_error`` for tests).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QGuiApplication,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from ..panels.category_panel import CategoryPanel
from ..panels.compare_view import CompareView
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
from ..services.compare_runner import CompareRunner
from ..services.controller import ReviewController
from ..services.error_runner import ErrorAnalysisRunner
from ..services.session import RejectedFile, ReviewSession
from ..services.settings import Settings
from ..services.workers import collect_garbage_on_gui_thread
from ..widgets.canvas import Canvas
from ..widgets.image_list import ImageListPanel
from .layouts import ANALYSIS_DOCKS
from .menus import build_actions, build_menus_and_toolbar, sync_toggle_actions
from .workspaces import WORKSPACE_OF_PANEL, Workspaces, fits_screen

APP_TITLE = "PlaceSeg Review"


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
        self.compare = CompareRunner(self.session, self.controller, self.analysis, self)
        self.last_error: str | None = None
        self.message_box: QMessageBox | None = None
        self._shut_down = False
        self._shown_once = False
        self._restored = False  # restore_layout put back a saved arrangement

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
        self.compare_view = CompareView(self.session, self.controller, self.compare)
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
        self._dock("compare", "Compare", self.compare_view, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.tabifyDockWidget(self.docks["errors"], self.docks["compare"])
        for key in ANALYSIS_DOCKS:
            self.docks[key].hide()
        self.workspaces = Workspaces(self)  # Review, Validation, Evaluation, Matches, Errors

        nav = self.controller.navigation
        self.status = ReviewStatusBar(self.controller, nav.position, nav.orderChanged)
        self.setStatusBar(self.status)
        self.controller.errorRaised.connect(self.show_error)
        self.image_list.imageActivated.connect(self.controller.go_to)
        self.image_list.widthWanted.connect(self.fit_image_list)
        self.image_list.register_columns(self.evaluation_view.columns)
        self.image_list.register_columns(self.matches_view.columns)
        self.matches_view.worst.sortRequested.connect(self.image_list.sort_by)
        for view in (self.validation_view, self.evaluation_view, self.matches_view, self.error_view,
                     self.compare_view):
            view.errorRaised.connect(self.show_error)
        self.controller.predictionsRejected.connect(lambda _p: self.show_analysis("validation"))
        self.session.rejectedChanged.connect(self._on_rejected)
        self.session.validationChanged.connect(
            lambda r: r is not None and self.status.showMessage(f"Predictions: {verdict_text(r)} (the Validation tab)", 10000))
        self.session.datasetChanged.connect(self._update_title)
        self.session.predictionsChanged.connect(self._update_title)
        self.session.rejectedChanged.connect(self._update_title)
        self.actions_by_name: dict[str, QAction] = {}
        build_actions(self)
        build_menus_and_toolbar(self)
        self.addToolBarBreak()
        self.addToolBar(self.workspaces.toolbar)
        self.session.optionsChanged.connect(lambda opts: sync_toggle_actions(self, opts))
        self.workspaces.switch("review")

    # -------------------------------------------------------------- layout
    def _dock(self, key: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> None:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{key}")
        # In a scroll area, a panel whose controls need more room than the window gives scrolls
        # instead of being painted over its neighbours or making the window grow by itself.
        scroll = QScrollArea()
        scroll.setObjectName(f"scroll-{key}")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(widget)
        scroll.setMinimumSize(160, 90)
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        self.docks[key] = dock

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
        """Widen the image list to ``wanted`` (all its columns): while reviewing to at most 30 %
        of the window (the photo keeps its room; the list scrolls sideways for the rest), in the
        analysis workspaces, whose work is the list's error columns, to 45 %."""
        dock = self.docks["images"]
        share = 30 if self.workspaces.current == "review" else 45
        wanted = min(wanted, self.width() * share // 100)
        if dock.width() < wanted:
            self.resizeDocks([dock], [wanted], Qt.Orientation.Horizontal)

    def show_analysis(self, key: str, run: bool = False) -> None:
        """Show an analysis panel (validation, evaluation, matches, errors) in its workspace;
        ``run``: (re)start its work when possible."""
        self.workspaces.switch(WORKSPACE_OF_PANEL[key])
        self.raise_panel(key)
        if run:
            self.run_panel(key)

    def raise_panel(self, key: str) -> None:
        self.docks[key].show()
        self.docks[key].raise_()

    def run_panel(self, key: str) -> None:
        """Start a panel's work (matches / errors: evaluate first if needed; the analysis follows)."""
        if key == "validation" and self.analysis.can_validate():
            self.analysis.validate()
        elif key == "evaluation" and self.analysis.can_evaluate():
            self.analysis.evaluate()
        elif key == "compare" and self.compare.can_run():
            self.compare.run()
        elif key in ("matches", "errors"):
            if self.session.evaluation is None and self.analysis.can_evaluate() and not self.analysis.running("evaluate"):
                self.analysis.evaluate()  # the error analysis follows it
            elif self.session.evaluation is not None and not self.errors.current() and not self.errors.running():
                self.errors.run()

    def restore_layout(self, geometry: QByteArray | None, state: QByteArray | None) -> bool:
        """Put the window back as it was closed, unless that no longer fits the screen (another
        monitor, a lower resolution): then it keeps its default size and arrangement."""
        if geometry is None:
            return False
        default = self.size()
        if not self.restoreGeometry(geometry):
            return False
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None and not fits_screen(self.frameGeometry(), screen.availableGeometry()):
            available = screen.availableGeometry()
            self.resize(default.boundedTo(available.size()))
            self.move(available.topLeft())
            return False
        if state is not None and self.restoreState(state):
            self._restored = True
            self.workspaces.follow_view("viewer")
        return True

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self._restored:  # the default arrangement, at the size the window really has
                self.workspaces.reset()
            self.canvas.setFocus()  # keys (F, arrows, G, R…) reach the canvas, not the search box

    # ------------------------------------------------------------- actions
    def go(self, image_id: int | None) -> None:
        if image_id is not None:
            self.controller.go_to(image_id)

    def focus_search(self) -> None:
        self.docks["images"].show()
        self.image_list.search.setFocus()
        self.image_list.search.selectAll()

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open data set folder (challenge layout)",
                                                  self.settings.last_folder())
        if folder:
            self.settings.set_last_folder(Path(folder).parent)
            self.controller.open_dataset(folder)

    def ask_coco(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open COCO ground truth", self.settings.last_folder(),
                                              "JSON files (*.json)")
        if not path:
            return
        self.settings.set_last_folder(path)
        images = QFileDialog.getExistingDirectory(self, "Folder of the images", str(Path(path).parent))
        self.controller.open_dataset(path, images=images or None)

    def ask_compare(self) -> None:
        """Choose a second predictions file and compare it with the open one."""
        path, _ = QFileDialog.getOpenFileName(self, "Predictions to compare (B)", self.settings.last_folder(),
                                              "JSON files (*.json)")
        if path:
            self.settings.set_last_folder(path)
            self.show_analysis("compare")
            self.compare.request(path)

    def ask_predictions(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open predictions", self.settings.last_folder(),
                                              "JSON files (*.json)")
        if path:
            self.settings.set_last_folder(path)
            self.controller.open_predictions(path)

    def fill_recent(self) -> None:
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
        from ..services.desktop import app_version  # noqa: PLC0415 (only the About box needs it)
        box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_TITLE}",
                          f"{APP_TITLE} {app_version()}\n\n"
                          "Browse Places Challenge 2017 images with ground-truth and prediction overlays.", parent=self)
        box.setIconPixmap(icon("placeseg-review").pixmap(64, 64))
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
        self.settings.set_window_state(self.saveGeometry(), self.workspaces.review_state())
        self.settings.sync()
        return self.controller.shutdown()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        self.shutdown()
        super().closeEvent(event)
