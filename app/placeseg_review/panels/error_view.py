"""The error analysis view: what each error type costs, and which categories get confused.

Left: TIDE-style error types for masks (classification, localisation, both, duplicate,
background, missed; the id-0 quirk when it occurs) as bars of dAP, the AP points gained by
fixing every error of that type alone, with their counts; beneath, the table of counts, dAP
and the AP with each type fixed. Right: the confusion matrix
(:class:`~placeseg_review.widgets.confusion_view.ConfusionView`); double-clicking a listed prediction
or object shows its image and selects it. The definitions are in docs/error-analysis.md.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from placeseg_core.analysis import ALL_ERROR_TYPES, ErrorAnalysis

from ..model.match_rows import gt_row_labels
from ..model.prepared import PreparedImage
from ..model.render import Selection
from ..services.controller import ReviewController
from ..services.error_runner import ErrorAnalysisRunner
from ..services.jobs import JobFeed
from ..services.session import ReviewSession
from ..widgets.confusion_view import ConfusionView
from ..widgets.job_bar import JobBar
from ..widgets.pr_plot import AXIS, BACKGROUND, _style

TYPE_LABELS = {"classification": "Cls", "localisation": "Loc", "both": "Both", "duplicate": "Dupe",
               "background": "Bkg", "missed": "Miss", "id0_quirk": "id 0"}
TYPE_NAMES = {"classification": "classification", "localisation": "localisation",
              "both": "classification + localisation", "duplicate": "duplicate", "background": "background",
              "missed": "missed", "id0_quirk": "official id-0 quirk"}
TYPE_COLOURS = {"classification": (235, 90, 60), "localisation": (250, 180, 40), "both": (200, 110, 220),
                "duplicate": (90, 170, 250), "background": (150, 150, 160), "missed": (60, 200, 170),
                "id0_quirk": (255, 150, 30)}


def shown_types(a: ErrorAnalysis) -> list[str]:
    """The types of the breakdown (the id-0 quirk only when it occurs)."""
    return [t for t in ALL_ERROR_TYPES if t != "id0_quirk" or a.counts[t] > 0]


class ErrorView(QWidget):
    errorRaised = Signal(str, str)

    def __init__(self, session: ReviewSession, controller: ReviewController, runner: ErrorAnalysisRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.controller, self.runner = session, controller, runner
        self.feed = JobFeed.of_runner(runner)
        self.job_bar = JobBar(self.feed, "Analyse", runner.run, lambda: session.evaluation is not None)
        self.analyse_button, self.cancel_button, self.progress = (
            self.job_bar.run_button, self.job_bar.cancel_button, self.job_bar.progress)
        self.headline = QLabel()
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.headline.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.addWidget(self.job_bar)
        bar.addWidget(self.headline, 1)

        self.plot_widget = pg.PlotWidget(background=BACKGROUND)
        self.plot = self.plot_widget.getPlotItem()
        _style(self.plot, "AP gained by fixing each error type (dAP)", "", "dAP (AP points)")
        self.plot.setMouseEnabled(x=False, y=False)
        self.bars: pg.BarGraphItem | None = None
        self.bar_values: dict[str, float] = {}
        self._texts: list[pg.TextItem] = []
        self.types = QTableWidget(0, 4)
        self.types.setHorizontalHeaderLabels(["Error type", "Count", "dAP", "AP fixed"])
        self.types.verticalHeader().setVisible(False)
        self.types.verticalHeader().setDefaultSectionSize(21)
        self.types.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.types.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.types.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            self.types.setColumnWidth(col, 66)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.plot_widget, 3)
        left_layout.addWidget(self.types, 2)

        self.confusion = ConfusionView()
        self.confusion.itemActivated.connect(self.jump_to)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.confusion)
        self.splitter.setSizes([560, 1000])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)

        session.errorAnalysisChanged.connect(self.show_analysis)
        session.evaluationChanged.connect(lambda _e: self._sync())
        self.feed.runningChanged.connect(lambda _on: self._sync())
        runner.cancelled.connect(self._sync)
        self.show_analysis(session.error_analysis)

    # ----------------------------------------------------------------- state
    def _sync(self) -> None:
        running = self.feed.running()
        self.job_bar.sync()
        self.analyse_button.setVisible(not self.runner.current() or running)
        a = self.session.error_analysis
        if running:
            self.headline.setText("Analysing errors…")
        elif a is None:
            self.headline.setText("Error analysis cancelled — press Analyse" if self.runner.was_cancelled else
                                  "Evaluate the predictions first (Check ▸ Evaluate)" if self.session.evaluation is None
                                  else "Not analysed yet — press Analyse")
        else:
            ap = lambda v: "–" if v is None else f"{100 * v:.2f}"  # noqa: E731
            name = f"AP{round(100 * a.iou_threshold)}"
            secs = "" if self.runner.last_seconds is None else f" · analysed in {self.runner.last_seconds:.2f} s"
            self.headline.setText(f"<b>{name} {ap(a.ap)}</b> · every error fixed: {ap(a.fixed_ap.get('all'))} · "
                                  f"{a.counts['true_positives']:,} true positives · IoU {a.iou_threshold:.2f}, "
                                  f"background below {a.background_threshold:.2f}{secs}")

    def show_analysis(self, a: ErrorAnalysis | None) -> None:
        self._sync()
        self._draw_bars(a)
        self._fill_table(a)
        self.confusion.set_analysis(a, self.session.category_names())

    def _draw_bars(self, a: ErrorAnalysis | None) -> None:
        self.plot.clear()
        self._texts = []
        self.bars = None
        self.bar_values = {}
        if a is None:
            return
        types = shown_types(a)
        values = np.array([100 * a.dap[t] for t in types])
        self.bar_values = dict(zip(types, values.tolist(), strict=True))
        brushes = [pg.mkBrush(*TYPE_COLOURS[t]) for t in types]
        self.bars = pg.BarGraphItem(x=np.arange(len(types)), height=values, width=0.7, brushes=brushes,
                                    pens=[pg.mkPen(None)] * len(types))
        self.plot.addItem(self.bars)
        top = max(float(values.max()) if len(values) else 0.0, 0.5)
        font = QFont()
        font.setPointSizeF(8.5)
        for k, t in enumerate(types):
            text = pg.TextItem(f"{values[k]:.2f}\n{a.counts[t]:,}×", color=AXIS, anchor=(0.5, 1.0))
            text.setFont(font)
            text.setPos(k, values[k] + top * 0.02)
            self.plot.addItem(text)
            self._texts.append(text)
        axis = self.plot.getAxis("bottom")
        axis.setTicks([[(k, TYPE_LABELS[t]) for k, t in enumerate(types)]])
        self.plot.setXRange(-0.6, len(types) - 0.4, padding=0)
        self.plot.setYRange(0, top * 1.3, padding=0)

    def _fill_table(self, a: ErrorAnalysis | None) -> None:
        self.types.setRowCount(0)
        if a is None:
            return
        types = shown_types(a)
        self.types.setRowCount(len(types) + 1)
        fmt = lambda v: "–" if v is None else f"{100 * v:.2f}"  # noqa: E731
        rows = [(TYPE_NAMES[t], f"{a.counts[t]:,}", f"{100 * a.dap[t]:.2f}", fmt(a.fixed_ap[t]), TYPE_COLOURS[t])
                for t in types]
        rows.append(("all of them", "", "", fmt(a.fixed_ap.get("all")), None))
        for r, (name, count, dap, fixed, colour) in enumerate(rows):
            for c, value in enumerate((name, count, dap, fixed)):
                item = QTableWidgetItem(value)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                elif colour is not None:
                    item.setForeground(QColor(*colour))
                self.types.setItem(r, c, item)

    # ----------------------------------------------------------------- jumps
    def jump_to(self, data: tuple[str, int, int]) -> None:
        """Show the image of a listed prediction ("pred", index, image) or object ("gt", row,
        image) and select it."""
        kind, key, image_id = data
        if kind == "pred":
            self.controller.go_to_and_select(image_id, Selection("pred", key))
        else:
            self.controller.go_to_and_select(image_id, lambda prep: self._gt_selection(prep, key))

    def _gt_selection(self, prep: PreparedImage, gt_row: int) -> Selection | None:
        """The selection of the evaluation's ground-truth row ``gt_row`` in the prepared image."""
        s = self.session
        if s.evaluation is None or s.dataset is None:
            return None
        label = gt_row_labels(prep, s.evaluation).get(gt_row)
        return None if label is None else Selection("gt", label)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.session.set_pair_viewer("errors", True)  # its jumps draw pairs in the matches view

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.session.set_pair_viewer("errors", False)
