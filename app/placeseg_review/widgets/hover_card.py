"""The small card that follows the cursor over the canvas: what lies under it."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from ..model.render import HoverInfo


def hover_html(info: HoverInfo) -> str:
    """The card's text (also what tests read): ground truth first, then the prediction."""
    rows: list[str] = []
    if info.gt is not None:
        g = info.gt
        if getattr(g, "iscrowd", False):
            rows.append(
                f"<b>Ground truth: crowd region</b> #{g.instance_id} · {escape(info.gt_category)} "
                f"<span style='color:#9aa0a6'>(category {g.category_id}, iscrowd 1)</span><br>"
                f"area {g.area:,} px · ignored when scoring; any number of predictions may match it"
            )
        else:
            rows.append(
                f"<b>Ground truth</b> #{g.instance_id} · {escape(info.gt_category)} "
                f"<span style='color:#9aa0a6'>(category {g.category_id})</span><br>area {g.area:,} px"
            )
    if info.pred_index is not None:
        match = escape(info.match) if info.match else "not evaluated"
        rows.append(
            f"<b>Prediction</b> #{info.pred_index} · {escape(info.pred_category)}<br>"
            f"score {info.pred_score:.3f} · area {info.pred_area:,} px · match: {match}"
        )
    rows.append(f"<span style='color:#9aa0a6'>x {info.x}, y {info.y}</span>")
    return "<br>".join(rows)


class HoverCard(QFrame):
    """A frameless label floating over the canvas viewport, kept inside it."""

    OFFSET = QPoint(16, 16)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("HoverCard")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._label = QLabel(self)
        self._label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self._label)
        self.info: HoverInfo | None = None
        self.hide()

    @property
    def text(self) -> str:
        return self._label.text()

    def show_info(self, info: HoverInfo | None, pos: QPoint) -> None:
        self.info = info
        if info is None or info.empty:
            self.hide()
            return
        self._label.setText(hover_html(info))
        self.adjustSize()
        parent = self.parentWidget()
        target = pos + self.OFFSET
        if parent is not None:
            if target.x() + self.width() > parent.width():
                target.setX(pos.x() - self.width() - 8)
            if target.y() + self.height() > parent.height():
                target.setY(pos.y() - self.height() - 8)
            target.setX(max(0, target.x()))
            target.setY(max(0, target.y()))
        self.move(target)
        self.show()
        self.raise_()
