"""Status bar: the current image, a progress bar for background jobs, and a cancel button."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from ..model.prepared import PreparedImage
from ..services.controller import ReviewController
from ..widgets.progress_bar import ProgressBar


class ReviewStatusBar(QStatusBar):
    def __init__(self, controller: ReviewController,
                 list_position: Callable[[int], tuple[int, int] | None] | None = None,
                 order_changed: SignalInstance | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.image_label = QLabel("No data set open — File ▸ Open, drop a folder here, or Help ▸ Demo")
        self.job_label = QLabel()
        self.progress = ProgressBar()
        # Idle, the bar stays in place (no re-layout) but draws nothing.
        self.progress.setStyleSheet("QProgressBar:disabled { border: none; background: transparent; }")
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.cancel = QToolButton(text="Cancel")
        self.cancel.setAutoRaise(True)
        self.cancel.clicked.connect(self._cancel)
        self.addWidget(self.image_label, 1)
        for w in (self.job_label, self.progress, self.cancel):
            self.addPermanentWidget(w)
        controller.jobChanged.connect(self._on_jobs)
        controller.message.connect(lambda text: self.showMessage(text, 8000))
        controller.session.imageChanged.connect(self._on_image)
        # (row, rows) of an image in the list as the user sees it (sorted, filtered). Without
        # it, or for an image filtered out, the data set's order counts.
        self.list_position = list_position
        # "k of N" follows every change of the list as shown (search, image filter, sort)
        self._shown: PreparedImage | None = None
        if order_changed is not None:
            order_changed.connect(lambda *_args: self._on_image(self._shown))
        self._on_jobs()

    def _current_job(self) -> object:
        jobs = self.controller.jobs
        others = [j for k, j in jobs.items() if k != "scan"]
        return others[0] if others else jobs.get("scan")

    def _on_jobs(self) -> None:
        job = self._current_job()
        # Showing and hiding these widgets re-lays out the window (about 45 ms each time, a
        # visible stall when an evaluation ends); they stay in place and go blank instead.
        for w in (self.progress, self.cancel):
            w.setEnabled(job is not None)
        self.cancel.setText("Cancel" if job is not None else "")
        self.cancel.setAutoRaise(job is None)  # no frame and no text: nothing to see when idle
        if job is None:
            self.job_label.setText("")
            self.progress.show_progress(0, 1, "")
            return
        self.job_label.setText(job.label + "…")
        if job.total > 0:
            self.progress.show_progress(job.done, job.total, f"{job.done} / {job.total}")
        else:
            self.progress.show_progress(0, 0)  # busy indicator: size unknown

    def _cancel(self) -> None:
        job = self._current_job()
        if job is not None:
            self.controller.cancel_job(job.key)

    def _on_image(self, prep: PreparedImage | None) -> None:
        self._shown = prep
        if prep is None:
            return
        e = prep.entry
        ds = self.controller.session.dataset
        shown = self.list_position(e.id) if self.list_position is not None else None
        if shown is not None:
            pos = f"{shown[0] + 1} of {shown[1]} · "
        else:
            pos = f"{ds.index_of[e.id] + 1} of {len(ds.entries)} · " if ds is not None else ""
        n_gt = len(prep.gt.instances) if prep.gt is not None else 0
        preds = f" · {len(prep.preds)} predictions" if prep.preds is not None else ""
        self.image_label.setText(f"{pos}{e.file_name} (id {e.id}) · {e.width}×{e.height} · {n_gt} instances{preds}")
