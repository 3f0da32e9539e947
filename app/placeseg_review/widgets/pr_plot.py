"""Plots of the evaluation view (pyqtgraph): precision–recall curves and AP against IoU.

* **PR curves** at the chosen IoU threshold (area all, maxDets 255): pycocotools' interpolated
  precision at its 101 recall thresholds, for the chosen categories and for the mean over the
  categories defined at each recall (``Scores.pr_curve``);
* **AP against IoU threshold**: mean AP and the chosen categories' AP at each of the 10
  thresholds (``Scores.ap(iou=...)``), the chosen threshold marked.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QImage, QResizeEvent
from PySide6.QtWidgets import QBoxLayout, QWidget

from ..model.evaluation import Evaluation
from ..model.overlay import category_overlay_colour

BACKGROUND = "#202124"
AXIS = "#bdc1c6"
MEAN_COLOUR = (240, 240, 240)
MAX_CURVES = 8


def _style(plot: pg.PlotItem, title: str, x: str, y: str) -> None:
    font = QFont()
    font.setPointSizeF(9)
    plot.setTitle(title, color=AXIS, size="10pt")
    for side, label in (("bottom", x), ("left", y)):
        axis = plot.getAxis(side)
        axis.setLabel(label, color=AXIS)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(AXIS))
        axis.setTickFont(font)
        axis.enableAutoSIPrefix(False)
    plot.showGrid(x=True, y=True, alpha=0.18)
    plot.setMenuEnabled(False)
    plot.hideButtons()


def _legend(plot: pg.PlotItem, offset: tuple[int, int]) -> pg.LegendItem:
    legend = plot.addLegend(offset=offset, labelTextColor=AXIS, labelTextSize="8pt",
                            brush=pg.mkBrush(32, 33, 36, 200), pen=pg.mkPen(60, 64, 67))
    return legend


def category_pen(category_id: int) -> pg.QtGui.QPen:
    r, g, b = category_overlay_colour(category_id)
    # overlay colours are tuned for photos; lift dark ones so they read on the dark plot
    lift = max(0, 150 - max(r, g, b))
    return pg.mkPen(QColor(min(255, r + lift), min(255, g + lift), min(255, b + lift)), width=2)


class PlotsPanel(QWidget):
    """The two plots side by side; ``show_evaluation`` redraws them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        pg.setConfigOptions(antialias=True)
        self.pr_widget = pg.PlotWidget(background=BACKGROUND)
        self.iou_widget = pg.PlotWidget(background=BACKGROUND)
        self.pr = self.pr_widget.getPlotItem()
        self.iou = self.iou_widget.getPlotItem()
        _style(self.pr, "Precision–recall", "recall", "precision")
        _style(self.iou, "AP against IoU threshold", "IoU threshold", "AP")
        for plot in (self.pr, self.iou):
            plot.setMouseEnabled(x=False, y=False)
        self.pr.setRange(xRange=(0, 1), yRange=(0, 1.02), padding=0.02)
        self.pr_legend = _legend(self.pr, (8, -8))  # bottom left: PR curves start high
        self.iou_legend = _legend(self.iou, (-8, 8))
        self.threshold_line = pg.InfiniteLine(angle=90, movable=False,
                                              pen=pg.mkPen("#8ab4f8", width=1, style=Qt.PenStyle.DashLine))
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self._layout.addWidget(self.pr_widget, 1)
        self._layout.addWidget(self.iou_widget, 1)
        for plot_widget in (self.pr_widget, self.iou_widget):
            plot_widget.setMinimumSize(160, 120)
        self.curves: dict[str, dict[str, np.ndarray]] = {"pr": {}, "iou": {}}  # what is drawn, by name

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Side by side when there is width for both, one above the other when the panel is tall
        and narrow (a small window): each plot keeps a readable shape."""
        super().resizeEvent(event)
        size = event.size()
        direction = (QBoxLayout.Direction.LeftToRight if size.width() >= 1.3 * size.height()
                     else QBoxLayout.Direction.TopToBottom)
        if self._layout.direction() != direction:
            self._layout.setDirection(direction)

    def export_image(self, kind: str, width: int = 1600) -> QImage:
        """One plot ("pr" or "iou") rendered for a file, ``width`` pixels wide whatever its size
        on screen (a grab of the panel at 1024×700 would be a few hundred pixels)."""
        from pyqtgraph.exporters import ImageExporter  # noqa: PLC0415 (only exports need it)

        exporter = ImageExporter(self.pr if kind == "pr" else self.iou)
        exporter.parameters()["width"] = width
        image = exporter.export(toBytes=True)
        if not isinstance(image, QImage):
            raise OSError("cannot render the plot")
        return image

    def clear(self) -> None:
        for plot, legend in ((self.pr, self.pr_legend), (self.iou, self.iou_legend)):
            plot.clear()
            legend.clear()
        self.curves = {"pr": {}, "iou": {}}

    def show_evaluation(self, evaluation: Evaluation | None, categories: list[int], threshold_index: int) -> None:
        self.clear()
        if evaluation is None:
            self.pr.setTitle("Precision–recall", color=AXIS, size="10pt")
            return
        result = evaluation.result
        scores, params = result.scores, result.params
        thresholds = np.asarray(params.iou_thrs, dtype=float)
        thr = float(thresholds[threshold_index])
        names = result.category_names
        self.pr.setTitle(f"Precision–recall at IoU {thr:.2f}", color=AXIS, size="10pt")
        chosen = [c for c in categories if c in set(result.category_ids.tolist())][:MAX_CURVES]
        for cid in chosen:
            rec, prec = scores.pr_curve(cid, iou=thr)
            ap = scores.ap(cid, iou=thr)
            if prec is not None:
                label = f"{names.get(cid, cid)} ({'–' if ap is None else f'{ap:.3f}'})"
                self._curve("pr", label, rec, prec, category_pen(cid))
        rec, mean = scores.pr_curve(None, iou=thr)
        if mean is not None:
            ap = scores.ap(iou=thr)
            self._curve("pr", f"mean ({'–' if ap is None else f'{ap:.3f}'})", rec, mean,
                        pg.mkPen(MEAN_COLOUR, width=3))
        self.pr.setRange(xRange=(0, 1), yRange=(0, 1.02), padding=0.02)

        mean_ap = np.array([_nan(scores.ap(iou=float(t))) for t in thresholds])
        self._curve("iou", "mean AP", thresholds, mean_ap, pg.mkPen(MEAN_COLOUR, width=3), symbol="o")
        for cid in chosen:
            values = np.array([_nan(scores.ap(cid, iou=float(t))) for t in thresholds])
            if np.isfinite(values).any():
                self._curve("iou", str(names.get(cid, cid)), thresholds, values, category_pen(cid), symbol="o")
        self.threshold_line.setValue(thr)
        self.iou.addItem(self.threshold_line, ignoreBounds=True)
        self.iou.setRange(xRange=(thresholds[0], thresholds[-1]), yRange=(0, 1.02), padding=0.04)

    def _curve(self, which: str, name: str, x: np.ndarray, y: np.ndarray, pen: object,
               symbol: str | None = None) -> None:
        plot = self.pr if which == "pr" else self.iou
        kwargs = {"symbol": symbol, "symbolSize": 5, "symbolBrush": pen.color(), "symbolPen": None} if symbol else {}
        plot.plot(x, y, pen=pen, name=name, connect="finite", **kwargs)
        self.curves[which][name] = np.asarray(y, dtype=float)


def _nan(value: float | None) -> float:
    return np.nan if value is None else float(value)
