"""The run / cancel / progress bar every panel shows for its background work."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from ..services.jobs import JobFeed
from .progress_bar import ProgressBar


class JobBar(QWidget):
    """A run button, a cancel button and a progress bar bound to a :class:`JobFeed`.

    Cancel and progress show only while the work runs; the run button is disabled meanwhile
    (and whenever ``can_run()`` says no). The panel keeps the button's wording.
    """

    def __init__(self, feed: JobFeed, run_text: str, run: Callable[[], None],
                 can_run: Callable[[], bool] = lambda: True, progress_width: int = 160,
                 show_percent: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feed = feed
        self.can_run = can_run
        self.run_button = QPushButton(run_text)
        self.run_button.clicked.connect(run)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(feed.cancel)
        self.progress = ProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setMaximumWidth(progress_width)
        if show_percent:
            self.progress.setFormat("%p%")
        else:
            self.progress.setTextVisible(False)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.run_button, self.cancel_button, self.progress):
            layout.addWidget(w)
        feed.runningChanged.connect(lambda _on: self.sync())
        feed.progressed.connect(self._on_progress)
        self.sync()

    def sync(self) -> None:
        running = self.feed.running()
        self.run_button.setEnabled(self.can_run() and not running)
        self.cancel_button.setVisible(running)
        self.progress.setVisible(running)

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.show_progress(done, max(total, 1))
