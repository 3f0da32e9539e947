"""Layer toggles and overlay controls; every control maps to one :class:`OverlayOptions` field."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..model.render import OverlayOptions
from ..services.session import ReviewSession


@dataclass
class LayerToggles:
    photo: QCheckBox
    gt: QCheckBox
    preds: QCheckBox
    outlines: QCheckBox
    labels: QCheckBox


@dataclass
class PredictionFilters:
    threshold: QSlider  # score × 100
    threshold_value: QLabel
    top_k: QSpinBox
    opacity: QSlider  # percent


def _slider(lo: int, hi: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    return s


def _with_value(slider: QSlider, label: QLabel) -> QWidget:
    box = QWidget()
    lay = QHBoxLayout(box)
    lay.setContentsMargins(0, 0, 0, 0)
    lay.addWidget(slider, 1)
    label.setMinimumWidth(38)
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    lay.addWidget(label)
    return box


class LayersPanel(QWidget):
    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.toggles = LayerToggles(QCheckBox("Photo"), QCheckBox("Ground truth"), QCheckBox("Predictions"),
                                    QCheckBox("Outlines"), QCheckBox("Category names"))
        self.colour_mode = QComboBox()
        self.colour_mode.addItem("Colour per instance", "instance")
        self.colour_mode.addItem("Colour per category", "category")
        self.gt_opacity, self.gt_opacity_value = _slider(0, 100), QLabel()
        self.filters = PredictionFilters(_slider(0, 100), QLabel(), QSpinBox(), _slider(0, 100))
        self.filters.top_k.setRange(0, 1000)
        self.filters.top_k.setSpecialValueText("all")
        self.filters.top_k.setToolTip("Show at most this many best-scoring predictions (0 = all)")
        self.pred_opacity_value = QLabel()

        layers = QGroupBox("Layers")
        lay = QVBoxLayout(layers)
        for box in (self.toggles.photo, self.toggles.gt, self.toggles.preds, self.toggles.outlines, self.toggles.labels):
            lay.addWidget(box)
        gt_box = QGroupBox("Ground truth")
        form = QFormLayout(gt_box)
        form.addRow("Colours", self.colour_mode)
        form.addRow("Fill opacity", _with_value(self.gt_opacity, self.gt_opacity_value))
        pred_box = QGroupBox("Predictions")
        pform = QFormLayout(pred_box)
        pform.addRow("Min score", _with_value(self.filters.threshold, self.filters.threshold_value))
        pform.addRow("Top K", self.filters.top_k)
        pform.addRow("Fill opacity", _with_value(self.filters.opacity, self.pred_opacity_value))
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        for w in (layers, gt_box, pred_box):
            outer.addWidget(w)
        outer.addStretch(1)

        self._updating = False
        self._on_options(session.options)
        session.optionsChanged.connect(self._on_options)
        t = self.toggles
        for box, name in ((t.photo, "show_photo"), (t.gt, "show_gt"), (t.preds, "show_preds"),
                          (t.outlines, "outlines"), (t.labels, "labels")):
            box.toggled.connect(lambda on, n=name: self._set(**{n: on}))
        self.colour_mode.currentIndexChanged.connect(lambda _i: self._set(colour_mode=self.colour_mode.currentData()))
        self.gt_opacity.valueChanged.connect(lambda v: self._set(gt_opacity=v / 100))
        self.filters.threshold.valueChanged.connect(lambda v: self._set(score_threshold=v / 100))
        self.filters.top_k.valueChanged.connect(lambda v: self._set(top_k=v))
        self.filters.opacity.valueChanged.connect(lambda v: self._set(pred_opacity=v / 100))

    def _set(self, **changes: object) -> None:
        if not self._updating:
            self.session.update_options(**changes)

    def _on_options(self, o: OverlayOptions) -> None:
        """Show the session's options (they may change from menus, shortcuts or settings)."""
        self._updating = True
        t = self.toggles
        for box, on in ((t.photo, o.show_photo), (t.gt, o.show_gt), (t.preds, o.show_preds),
                        (t.outlines, o.outlines), (t.labels, o.labels)):
            box.setChecked(on)
        self.colour_mode.setCurrentIndex(max(0, self.colour_mode.findData(o.colour_mode)))
        self.gt_opacity.setValue(round(o.gt_opacity * 100))
        self.gt_opacity_value.setText(f"{round(o.gt_opacity * 100)} %")
        self.filters.threshold.setValue(round(o.score_threshold * 100))
        self.filters.threshold_value.setText(f"{o.score_threshold:.2f}")
        self.filters.top_k.setValue(o.top_k)
        self.filters.opacity.setValue(round(o.pred_opacity * 100))
        self.pred_opacity_value.setText(f"{round(o.pred_opacity * 100)} %")
        self._updating = False
