"""Workspaces: one arrangement of the window per task, switched from a bar above the canvas.

Review (browse images: the photo is the largest thing on screen), Validation, Evaluation,
Matches and Errors (results get the room they need, the photo stays beside them). Each
workspace's default arrangement is its view in :mod:`.layouts` (the same one ``--view`` and
``--screenshot`` use, sized in fractions of the window so it holds from 1024×700 up); what the
user changes in a workspace (dock sizes, panels moved or closed) is kept when they switch
away and restored when they come back, for the session. *View ▸ Reset layout* forgets it.
Why workspaces rather than one dock arrangement: docs/adr/0005-workspaces.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, QRect, Signal
from PySide6.QtWidgets import QTabBar, QToolBar

from .layouts import apply_view, start_work

if TYPE_CHECKING:  # the window imports this module; this one needs the window's type only
    from .protocol import ReviewWindow

# (workspace, its view in layouts, tab title, tooltip)
WORKSPACES: list[tuple[str, str, str, str]] = [
    ("review", "viewer", "Review", "Browse the images: ground truth and predictions on the photo"),
    ("validation", "validation", "Validation", "The validator's report on the open predictions"),
    ("evaluation", "evaluation", "Evaluation", "The official score: summary, per category, curves"),
    ("matches", "matches", "Matches", "One image's predictions and objects: how each matched, and why"),
    ("errors", "errors", "Errors", "What each error type costs, and the confusion between categories"),
    ("compare", "compare", "Compare", "The open predictions against a second file: what changed, where, how surely"),
]
VIEW_OF = {name: view for name, view, _title, _tip in WORKSPACES}
WORKSPACE_OF_VIEW = {view: name for name, view, _title, _tip in WORKSPACES}
WORKSPACE_OF_PANEL = {"validation": "validation", "evaluation": "evaluation", "matches": "matches",
                      "errors": "errors", "compare": "compare"}


class Workspaces(QObject):
    """The workspace bar and what switching does."""

    changed = Signal(str)  # the workspace now shown

    def __init__(self, window: ReviewWindow) -> None:
        super().__init__(window)
        self.window = window
        self.current = "review"
        self._states: dict[str, QByteArray] = {}  # arrangement the user left each workspace in
        self._switching = False
        self.bar = QTabBar()
        self.bar.setObjectName("WorkspaceBar")
        self.bar.setDrawBase(False)
        self.bar.setExpanding(False)
        for k, (_name, _view, title, tip) in enumerate(WORKSPACES):
            self.bar.addTab(title)
            self.bar.setTabToolTip(k, f"{tip} (Ctrl+{k + 1})")
        self.bar.currentChanged.connect(lambda k: self.switch(WORKSPACES[k][0]))
        self.toolbar = QToolBar("Workspaces", window)
        self.toolbar.setObjectName("toolbar-workspaces")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(self.bar)

    @property
    def names(self) -> list[str]:
        return [name for name, *_rest in WORKSPACES]

    def switch(self, name: str) -> None:
        """Show workspace ``name``: as the user left it this session, else its default arrangement."""
        if self._switching or name not in VIEW_OF:
            return
        self._switching = True
        try:
            if name != self.current:
                self._states[self.current] = self.window.saveState()
            self.current = name
            self._sync_bar()
            state = self._states.get(name)
            if state is None or not self.window.restoreState(state):
                apply_view(self.window, VIEW_OF[name])
            else:  # as the user left it; what it shows may still need computing
                if name in WORKSPACE_OF_PANEL:
                    self.window.raise_panel(name)
                start_work(self.window, VIEW_OF[name])
        finally:
            self._switching = False
        self.changed.emit(name)

    def follow_view(self, view: str) -> None:
        """``--view`` / ``apply_view`` arranged the window: the bar shows that workspace."""
        name = WORKSPACE_OF_VIEW.get(view)
        if name is not None and not self._switching:
            self.current = name
            self._sync_bar()

    def review_state(self) -> QByteArray:
        """The Review workspace's arrangement, which the next start restores (empty: none yet)."""
        if self.current == "review":
            return self.window.saveState()
        return self._states.get("review", QByteArray())

    def reset(self) -> None:
        """Forget every arrangement the user made; the current workspace's default comes back."""
        self._states.clear()
        name, self.current = self.current, ""
        self.switch(name)

    def _sync_bar(self) -> None:
        k = self.names.index(self.current)
        if self.bar.currentIndex() != k:
            blocked = self.bar.blockSignals(True)
            self.bar.setCurrentIndex(k)
            self.bar.blockSignals(blocked)


def fits_screen(frame: QRect, available: QRect) -> bool:
    """A saved window that no longer fits the screen (a smaller monitor, a lower resolution) is
    not restored: it would open partly off screen or squeezed below its panels' sizes."""
    return available.contains(frame)
