"""The image canvas: pyqtgraph image layers in a ViewBox (y down, aspect locked).

Layers, bottom to top: the photo, the ground-truth overlay, the predictions overlay, the
highlight of the selected object, and the category names. The canvas binds to a
:class:`ReviewSession`: it redraws the layers an event concerns (a new image redraws all;
a new selection only the highlight), shows the hover card and turns clicks into selections.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QWidget

from ..model.prepared import PreparedImage
from ..model.render import (
    HoverInfo,
    Label,
    OverlayOptions,
    PredLayer,
    gt_labels,
    layers_for,
    pick,
    render_pair,
    render_selection,
)
from ..services.session import ReviewSession
from .hover_card import HoverCard

BACKGROUND = "#1e1f22"


class _LabelPool:
    """Reused TextItems for the category names (creating them per image is slow)."""

    def __init__(self, view: pg.ViewBox) -> None:
        self._view = view
        self._items: list[pg.TextItem] = []
        self.shown: list[Label] = []
        self._font = QFont()
        self._font.setPointSizeF(9.0)
        self._font.setBold(True)

    def show(self, labels: list[Label]) -> None:
        while len(self._items) < len(labels):
            item = pg.TextItem("", anchor=(0.5, 0.5), fill=pg.mkBrush(20, 20, 24, 175))
            item.setFont(self._font)
            item.setZValue(10)
            self._view.addItem(item, ignoreBounds=True)
            self._items.append(item)
        for item, label in zip(self._items, labels, strict=False):
            item.setText(label.text, color=QColor(255, 255, 255))
            item.border = pg.mkPen(QColor(*label.colour), width=1.5)
            item.setPos(label.x, label.y)
            item.setVisible(True)
        for item in self._items[len(labels):]:
            item.setVisible(False)
        self.shown = labels


class Canvas(pg.GraphicsView):
    """The central view. ``hovered`` carries a :class:`HoverInfo` (or None off the image)."""

    hovered = Signal(object)
    rendered = Signal(float)  # milliseconds the last full redraw took (layers set, not painted)

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=BACKGROUND)
        self.session = session
        self.view = pg.ViewBox(invertY=True, lockAspect=True, enableMenu=False, defaultPadding=0.01)
        self.setCentralItem(self.view)
        self.photo_item = pg.ImageItem(axisOrder="row-major")
        self.gt_item = pg.ImageItem(axisOrder="row-major")
        self.pred_item = pg.ImageItem(axisOrder="row-major")
        self.highlight_item = pg.ImageItem(axisOrder="row-major")
        for z, item in enumerate((self.photo_item, self.gt_item, self.pred_item, self.highlight_item)):
            item.setZValue(z)
            self.view.addItem(item)
        self.labels = _LabelPool(self.view)
        self.card = HoverCard(self.viewport())
        self.pred_layer: PredLayer | None = None
        self.hover_info: HoverInfo | None = None
        self._shape: tuple[int, int] | None = None
        self._last_mouse: QPoint | None = None
        self.last_render_ms = 0.0
        self.setMouseTracking(True)
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        session.imageChanged.connect(self._on_image)
        session.optionsChanged.connect(self._on_options)
        session.selectionChanged.connect(self._on_selection)
        session.pairChanged.connect(self._on_selection)

    # ------------------------------------------------------------------ drawing
    @property
    def image(self) -> PreparedImage | None:
        return self.session.image

    def _on_image(self, prep: PreparedImage | None) -> None:
        t0 = time.perf_counter()
        if prep is None:
            for item in (self.photo_item, self.gt_item, self.pred_item, self.highlight_item):
                item.clear()
            self.labels.show([])
            self.pred_layer = None
            self._shape = None
            self.card.show_info(None, QPoint())
            return
        self.photo_item.setImage(prep.photo, autoLevels=False)
        self._draw_overlays(self.session.options)
        if prep.shape != self._shape:
            self._shape = prep.shape
            self.fit()
        self.last_render_ms = (time.perf_counter() - t0) * 1000
        self.rendered.emit(self.last_render_ms)
        self._refresh_hover()

    def _on_options(self, opts: OverlayOptions) -> None:
        if self.image is not None:
            self._draw_overlays(opts)
            self._refresh_hover()

    def _draw_overlays(self, opts: OverlayOptions) -> None:
        prep = self.image
        if prep is None:
            return
        self.photo_item.setVisible(opts.show_photo)
        layers = layers_for(prep, opts)
        _set_layer(self.gt_item, layers.gt if opts.show_gt else None)
        self.pred_layer = layers.preds
        _set_layer(self.pred_item, self.pred_layer.rgba if self.pred_layer is not None and opts.show_preds else None)
        show_names = opts.labels and opts.show_gt
        self.labels.show(gt_labels(prep, opts, self.session.category_names()) if show_names else [])
        self._on_selection(self.session.selection)

    def _on_selection(self, _sel: object) -> None:
        prep = self.image
        pair = self.session.pair
        paired = prep is not None and pair is not None and pair.image_id == prep.entry.id
        for item in self.labels._items:  # names dim with the rest while a pair is drawn
            item.setOpacity(0.4 if paired else 1.0)
        if paired:
            _set_layer(self.highlight_item, render_pair(prep, pair.pred_index, pair.gt_label))
            return
        _set_layer(self.highlight_item, render_selection(prep, self.session.selection) if prep is not None else None)

    def fit(self) -> None:
        if self._shape is not None:
            h, w = self._shape
            self.view.setRange(QRectF(0, 0, w, h), padding=0.01)

    def zoom(self, factor: float) -> None:
        self.view.scaleBy((1 / factor, 1 / factor))

    # ---------------------------------------------------------- hover & click
    def image_to_viewport(self, x: float, y: float) -> QPoint:
        """Viewport coordinates (for mouse events) of image pixel centre (x, y)."""
        scene_pos = self.view.mapViewToScene(QPointF(x + 0.5, y + 0.5))
        return self.mapFromScene(scene_pos)

    def info_at(self, x: float, y: float) -> HoverInfo | None:
        prep = self.image
        if prep is None:
            return None
        return pick(prep, x, y, self.pred_layer, self.session.options, self.session.category_names())

    def hover_at(self, x: float, y: float) -> HoverInfo | None:
        """Show the hover card for image pixel (x, y) as if the cursor were there."""
        where = self.image_to_viewport(x, y)
        self._last_mouse = where
        info = self.info_at(x, y)
        self._set_hover(info, where)
        return info

    def _viewport_to_image(self, pos: QPointF) -> tuple[float, float]:
        p = self.view.mapSceneToView(pos)
        return p.x(), p.y()

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        x, y = self._viewport_to_image(scene_pos)
        self._last_mouse = self.mapFromScene(scene_pos)
        self._set_hover(self.info_at(x, y), self._last_mouse)

    def _set_hover(self, info: HoverInfo | None, where: QPoint) -> None:
        self.hover_info = info
        self.card.show_info(info, where)
        self.hovered.emit(info)

    def _refresh_hover(self) -> None:
        if self._last_mouse is not None and self.card.isVisible():
            x, y = self._viewport_to_image(self.mapToScene(self._last_mouse))
            self._set_hover(self.info_at(x, y), self._last_mouse)

    def _on_mouse_clicked(self, event: object) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        x, y = self._viewport_to_image(event.scenePos())
        info = self.info_at(x, y)
        if info is None:
            return
        self.session.select(info.topmost(preds_on_top=True))
        event.accept()

    def leaveEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self._last_mouse = None
        self._set_hover(None, QPoint())
        super().leaveEvent(event)

    def mouseDoubleClickEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        self.fit()
        event.accept()


def _set_layer(item: pg.ImageItem, rgba: np.ndarray | None) -> None:
    if rgba is None:
        item.setVisible(False)
        return
    item.setImage(rgba, autoLevels=False)
    item.setVisible(True)
