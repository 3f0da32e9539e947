"""What the window's helpers (layouts, workspaces, menus) may use of the main window.

They are called by the window and act on it; importing the window's class for its type would
make an import cycle (the window imports them). This Protocol names what they use instead, so
the dependency points one way and the type checker still sees every use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from PySide6.QtCore import QByteArray, Qt
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QDockWidget, QMenu, QMenuBar, QTabBar, QToolBar

    from ..panels.compare_view import CompareView
    from ..panels.error_view import ErrorView
    from ..panels.evaluation_view import EvaluationView
    from ..panels.matches_view import MatchesView
    from ..panels.validation_view import ValidationView
    from ..services.checks import AnalysisController
    from ..services.compare_runner import CompareRunner
    from ..services.controller import ReviewController
    from ..services.error_runner import ErrorAnalysisRunner
    from ..services.session import ReviewSession
    from ..widgets.canvas import Canvas
    from ..widgets.image_list import ImageListPanel


class WorkspaceSwitch(Protocol):
    """The window's workspaces (:class:`.workspaces.Workspaces`) as the menus and layouts use them."""

    current: str
    bar: QTabBar

    @property
    def names(self) -> list[str]: ...
    def switch(self, name: str) -> None: ...
    def follow_view(self, view: str) -> None: ...
    def reset(self) -> None: ...


class ReviewWindow(Protocol):
    """The main window as its layouts, workspaces and menus see it."""

    session: ReviewSession
    controller: ReviewController
    analysis: AnalysisController
    errors: ErrorAnalysisRunner
    compare: CompareRunner
    canvas: Canvas
    image_list: ImageListPanel
    validation_view: ValidationView
    evaluation_view: EvaluationView
    matches_view: MatchesView
    error_view: ErrorView
    compare_view: CompareView
    docks: dict[str, QDockWidget]
    workspaces: WorkspaceSwitch
    actions_by_name: dict[str, QAction]
    recent_menu: QMenu
    toolbar: QToolBar
    colour_group: object

    # Qt's QMainWindow
    def width(self) -> int: ...
    def height(self) -> int: ...
    def resizeDocks(self, docks: list[QDockWidget], sizes: list[int], orientation: Qt.Orientation) -> None: ...  # noqa: N802
    def saveState(self, version: int = 0) -> QByteArray: ...  # noqa: N802
    def restoreState(self, state: QByteArray, version: int = 0) -> bool: ...  # noqa: N802
    def addAction(self, action: QAction) -> None: ...  # noqa: N802
    def addToolBar(self, toolbar: QToolBar) -> None: ...  # noqa: N802
    def menuBar(self) -> QMenuBar: ...  # noqa: N802
    def close(self) -> bool: ...

    # the window's own
    def raise_panel(self, key: str) -> None: ...
    def run_panel(self, key: str) -> None: ...
    def show_analysis(self, key: str, run: bool = False) -> None: ...
    def fit_image_list(self, wanted: int) -> None: ...
    def go(self, image_id: int | None) -> None: ...
    def focus_search(self) -> None: ...
    def fill_recent(self) -> None: ...
    def ask_folder(self) -> None: ...
    def ask_coco(self) -> None: ...
    def ask_predictions(self) -> None: ...
    def ask_compare(self) -> None: ...
    def _about(self) -> None: ...
