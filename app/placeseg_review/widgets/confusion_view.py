"""The confusion matrix of categories at a chosen IoU, as a heat map with its cells' contents.

Rows: ground-truth categories then *background*; columns: predicted categories then *missed*
(``ErrorAnalysis.confusion_at``, docs/error-analysis.md). Only the categories present (in the
ground truth or the predictions) are shown. A cell's colour grows with its count (green on the
diagonal, red off it); hovering says what it counts; clicking lists its predictions (or, in
the missed column, its objects) beside the matrix, highest score first; double-clicking one
shows its image and selects it.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from placeseg_core.analysis import ConfusionMatrix, ErrorAnalysis

ModelIndex = QModelIndex | QPersistentModelIndex
ITEM_ROLE = Qt.ItemDataRole.UserRole + 1  # ("pred", index, image id) or ("gt", row, image id)
CONFUSION_IOUS = (0.1, 0.25, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
_BASE = np.array([38, 40, 44])
_GOOD = np.array([40, 190, 90])
_BAD = np.array([235, 75, 50])
LIST_LIMIT = 500


class ConfusionModel(QAbstractTableModel):
    """The matrix restricted to the present categories (display positions -> matrix positions)."""

    def __init__(self) -> None:
        super().__init__()
        self.matrix: ConfusionMatrix | None = None
        self.names: dict[int, str] = {}
        self.rows: list[int] = []  # matrix positions shown as rows (last: background)
        self.cols: list[int] = []  # matrix positions shown as columns (last: missed)
        self._scale = 1.0

    def set_matrix(self, matrix: ConfusionMatrix | None, names: dict[int, str]) -> None:
        self.beginResetModel()
        self.matrix, self.names = matrix, names
        self.rows, self.cols = [], []
        if matrix is not None:
            c = matrix.counts
            k = len(matrix.category_ids)
            present = np.flatnonzero(c[:k, :].sum(axis=1) + c[:, :k].sum(axis=0) > 0).tolist()
            self.rows = [*present, k]
            self.cols = [*present, k]
            self._scale = float(np.log1p(c.max())) or 1.0
        self.endResetModel()

    def label(self, position: int, row: bool) -> str:
        assert self.matrix is not None
        if position == len(self.matrix.category_ids):
            return "background" if row else "missed"
        cid = int(self.matrix.category_ids[position])
        return self.names.get(cid, str(cid))

    def cell(self, index: ModelIndex) -> tuple[int, int]:
        """Matrix (row, column) of a display index."""
        return self.rows[index.row()], self.cols[index.column()]

    def count(self, index: ModelIndex) -> int:
        assert self.matrix is not None
        r, c = self.cell(index)
        return int(self.matrix.counts[r, c])

    def index_of(self, gt_position: int, pred_position: int) -> QModelIndex:
        if gt_position in self.rows and pred_position in self.cols:
            return self.index(self.rows.index(gt_position), self.cols.index(pred_position))
        return QModelIndex()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.cols)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        if self.matrix is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        row = orientation == Qt.Orientation.Vertical
        text = self.label((self.rows if row else self.cols)[section], row)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{'ground truth' if row else 'predicted'}: {text}"
        return text

    def tooltip(self, index: ModelIndex) -> str:
        r, c = self.cell(index)
        n = self.count(index)
        k = len(self.matrix.category_ids)
        iou = f"{self.matrix.iou_threshold:.2f}"
        gt, pred = self.label(r, True), self.label(c, False)
        if c == k:
            return f"{gt}: {n} object(s) that no prediction overlaps best with IoU ≥ {iou} (missed)"
        if r == k:
            return f"predicted {pred}: {n} prediction(s) overlapping no ground truth with IoU ≥ {iou}"
        what = "true positives and duplicates" if r == c else "confused"
        return f"ground truth {gt} → predicted {pred}: {n} prediction(s) ({what}), best IoU ≥ {iou}"

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or self.matrix is None:
            return None
        n = self.count(index)
        if role == Qt.ItemDataRole.DisplayRole:
            return n if n else ""
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(index)
        if role == Qt.ItemDataRole.BackgroundRole:
            r, c = self.cell(index)
            t = float(np.log1p(n)) / self._scale if n else 0.0
            rgb = _BASE + (((_GOOD if r == c else _BAD) - _BASE) * (0.25 + 0.75 * t) if n else 0)
            return QColor(*(int(v) for v in rgb))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor(255, 255, 255)
        return None


class RotatedHeader(QHeaderView):
    """A horizontal header whose labels read bottom to top (many narrow columns)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.setDefaultSectionSize(26)
        self.setMinimumSectionSize(18)

    def sizeHint(self) -> object:  # noqa: N802 - Qt override
        hint = super().sizeHint()
        model = self.model()
        widest = max((self.fontMetrics().horizontalAdvance(str(model.headerData(s, self.orientation())))
                      for s in range(self.count())), default=40) if model is not None else 40
        hint.setHeight(min(widest, 130) + 12)
        return hint

    def paintSection(self, painter: QPainter, rect: QRect, section: int) -> None:  # noqa: N802 - Qt override
        painter.save()
        painter.fillRect(rect, self.palette().button())
        painter.setPen(self.palette().mid().color())
        painter.drawLine(rect.topRight(), rect.bottomRight())
        painter.setPen(self.palette().buttonText().color())
        text = str(self.model().headerData(section, self.orientation()))
        painter.translate(rect.left() + rect.width() / 2 + self.fontMetrics().ascent() / 2 - 2, rect.bottom() - 6)
        painter.rotate(-90)
        painter.drawText(0, 0, self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, rect.height() - 10))
        painter.restore()


class ConfusionView(QWidget):
    """Matrix, IoU chooser and the chosen cell's list. ``itemActivated`` carries ITEM_ROLE data."""

    itemActivated = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.analysis: ErrorAnalysis | None = None
        self.names: dict[int, str] = {}
        self.model = ConfusionModel()
        self.iou = QComboBox()
        self.iou.setToolTip("IoU at which a prediction counts against its best-overlapping ground truth")
        for v in CONFUSION_IOUS:
            self.iou.addItem(f"{v:.2f}", v)
        self.iou.currentIndexChanged.connect(lambda _i: self._recompute())
        self.table = QTableView()
        self.table.setHorizontalHeader(RotatedHeader(self.table))
        self.table.setModel(self.model)
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(True)
        self.table.setMouseTracking(True)
        self.table.clicked.connect(self.show_cell)
        self.cell_title = QLabel("Click a cell to list its predictions")
        self.cell_title.setWordWrap(True)
        self.cell_list = QListWidget()
        self.cell_list.setToolTip("Double-click: show the image and select it")
        self.cell_list.setWordWrap(True)  # two short lines per item; a narrow panel wraps them further
        self.cell_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.cell_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.cell_list.itemActivated.connect(lambda item: self.itemActivated.emit(item.data(ITEM_ROLE)))
        top = QHBoxLayout()
        top.addWidget(QLabel("<b>Confusion matrix</b> · rows: ground truth · columns: predicted · IoU"))
        top.addWidget(self.iou)
        top.addStretch(1)
        left = QWidget()
        lay = QVBoxLayout(left)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(0, 0, 0, 0)
        rlay.addWidget(self.cell_title)
        rlay.addWidget(self.cell_list, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setSizes([640, 300])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def set_analysis(self, analysis: ErrorAnalysis | None, names: dict[int, str]) -> None:
        self.analysis, self.names = analysis, names
        if analysis is not None:
            k = self.iou.findData(analysis.iou_threshold)
            self.iou.blockSignals(True)
            self.iou.setCurrentIndex(k if k >= 0 else self.iou.findData(0.5))
            self.iou.blockSignals(False)
        self._recompute()

    def _recompute(self) -> None:
        a = self.analysis
        matrix = None
        if a is not None:
            iou = float(self.iou.currentData())
            matrix = a.confusion if abs(iou - a.iou_threshold) < 1e-9 else a.confusion_at(iou)
        self.model.set_matrix(matrix, self.names)
        # one width for every column, from the widest count (measuring every cell is slow at 100 x 100)
        digits = len(str(int(matrix.counts.max()))) if matrix is not None else 1
        self.table.horizontalHeader().setDefaultSectionSize(max(24, self.fontMetrics().horizontalAdvance("0") * digits + 12))
        self.table.horizontalHeader().updateGeometry()
        self.cell_list.clear()
        self.cell_title.setText("Click a cell to list its predictions" if matrix is not None else "")

    def show_cell(self, index: QModelIndex) -> list[tuple[str, int, int]]:
        """List the cell's predictions (or missed objects); returns the items' data."""
        self.cell_list.clear()
        a, m = self.analysis, self.model.matrix
        if a is None or m is None or not index.isValid():
            return []
        r, c = self.model.cell(index)
        preds, gt_rows = m.cell_at(r, c)
        rec = a.records
        items: list[tuple[str, int, int]] = []
        if c == len(m.category_ids):
            for g in gt_rows[:LIST_LIMIT].tolist():
                image = int(rec.gt_image_ids[g])
                text = (f"GT id {int(rec.gt_ids[g])} · {self._name(rec.gt_category_ids[g])} · image {image}\n"
                        f"    {rec.gt_areas[g]:,.0f} px")
                items.append(("gt", g, image))
                self._add(text, items[-1])
            what = f"{len(gt_rows)} missed {self.model.label(r, True)} object(s)"
        else:
            for i, g in zip(preds[:LIST_LIMIT].tolist(), gt_rows[:LIST_LIMIT].tolist(), strict=True):
                image = int(rec.image_ids[i])
                text = f"#{i} · {self._name(rec.category_ids[i])} {rec.scores[i]:.3f} · image {image}"
                if g >= 0:
                    text += (f"\n    over GT id {int(rec.gt_ids[g])} {self._name(rec.gt_category_ids[g])}, "
                             f"IoU {a.overlaps.pair(i, g, image):.2f}")
                items.append(("pred", i, image))
                self._add(text, items[-1])
            what = f"{len(preds)} prediction(s): {self.model.tooltip(index).split(': ', 1)[0]}"
        more = f" (first {LIST_LIMIT} listed)" if max(len(preds), len(gt_rows)) > LIST_LIMIT else ""
        self.cell_title.setText(f"<b>{what}</b>{more} — double-click one to show it")
        return items

    def _add(self, text: str, data: tuple[str, int, int]) -> None:
        item = QListWidgetItem(text)
        item.setData(ITEM_ROLE, data)
        item.setToolTip(" ".join(text.split()) + "\nDouble-click: show the image and select it")
        self.cell_list.addItem(item)

    def _name(self, cid: object) -> str:
        return self.names.get(int(cid), str(cid))
