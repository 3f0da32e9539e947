"""A progress bar that never repaints on the spot."""

from __future__ import annotations

from PySide6.QtWidgets import QProgressBar


class ProgressBar(QProgressBar):
    """``QProgressBar`` whose changes are painted with the rest of the window.

    ``QProgressBar.setValue`` (and ``setRange``, through it) calls ``repaint()`` whenever the
    bar or its text moves: a synchronous paint, which flushes every part of the window waiting
    to be drawn -- after an evaluation, its tables and plots -- inside the slot that reported
    progress (seen as 35 ms of a 130 ms freeze at the end of an evaluation, benchmarks/
    gui_responsiveness.py --time-slots). :meth:`show_progress` changes it with updates off,
    then asks for one ordinary update.
    """

    def show_progress(self, done: int, total: int, text: str | None = None) -> None:
        """``done`` of ``total`` (``total`` 0: the busy indicator); ``text`` replaces the format."""
        self.setUpdatesEnabled(False)
        try:
            self.setRange(0, max(total, 0))
            self.setValue(done)
            if text is not None:
                self.setFormat(text)
        finally:
            self.setUpdatesEnabled(True)  # schedules one update
