"""Screenshot mode: wait until everything is loaded and drawn, stage the view, save a PNG, quit."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication

from placeseg_core.atomic import OutputError

from ..services.exporters import write_png
from .layouts import VIEWS, apply_view
from .main_window import MainWindow


class Screenshotter(QObject):
    def __init__(self, window: MainWindow, out: Path, view: str, timeout_s: float) -> None:
        super().__init__(window)
        self.window, self.out, self.view = window, out, view
        self.deadline = time.monotonic() + timeout_s
        self.exit_code = 3
        self._applied = False
        self._staged = False
        self._settled = False
        self._timer = QTimer(self, interval=50)
        self._timer.timeout.connect(self._poll)
        window.errorShown.connect(self._on_error)
        window.controller.imageMissing.connect(self._on_image_missing)

    def start(self) -> None:
        self._timer.start()

    def ready(self) -> bool:
        w = self.window
        return (w.session.dataset is not None and w.session.image is not None
                and not w.controller.busy and not w.controller.jobs)

    def _poll(self) -> None:
        if time.monotonic() > self.deadline:
            print(f"placeseg-review: error: nothing to show after waiting for {self.out}", file=sys.stderr)
            self._finish(3)
            return
        if not self.ready():
            return
        spec = VIEWS[self.view]
        if not self._applied:
            self._applied = True
            apply_view(self.window, self.view)  # may start work (the evaluation view evaluates)
            return
        if not self._staged:
            if spec.ready is not None and not spec.ready(self.window):
                return
            self._staged = True
            if spec.stage is not None:
                spec.stage(self.window)  # may show another image: wait until it is drawn
            return
        if not self._settled:
            self._settled = True
            return  # one more tick so layouts settle and the card is placed
        QApplication.processEvents()
        try:  # atomic, and never over a file the window read (placeseg_core.atomic)
            write_png(self.out, self.window)
        except OutputError as exc:
            print(f"placeseg-review: error: {exc}", file=sys.stderr)
            self._finish(2)
            return
        except OSError as exc:
            print(f"placeseg-review: error: cannot write {self.out}: {exc.strerror or exc}", file=sys.stderr)
            self._finish(2)
            return
        print(f"wrote {self.out}", file=sys.stderr)
        self._finish(0)

    def _on_image_missing(self, wanted: int, shown: int) -> None:
        print(f"placeseg-review: note: image {wanted} is not in the data set; showing image {shown} instead",
              file=sys.stderr)

    def _on_error(self, title: str, message: str) -> None:
        print(f"placeseg-review: error: {title}: {message}", file=sys.stderr)
        self._finish(2)

    def _finish(self, code: int) -> None:
        self._timer.stop()
        self.exit_code = code
        QApplication.instance().exit(code)
