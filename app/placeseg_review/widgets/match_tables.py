"""Table models of the matches view: one image's predictions and ground truth at one IoU.

Rows come from :func:`~placeseg_review.model.match_rows.image_rows`; every cell's tooltip is the
row's explanation, the status cell is coloured by outcome (as the canvas colours matches).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from placeseg_core.evaluation.records import Outcome

from ..model.evaluation import OUTCOME_COLOURS
from ..model.match_rows import KIND_TEXT, GtRow, PredRow

ModelIndex = QModelIndex | QPersistentModelIndex
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the row object (PredRow / GtRow)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DIM = QColor(128, 132, 138)
_OUTCOME_QCOLOURS = {o: QColor(*OUTCOME_COLOURS[o]) for o in (Outcome.TP, Outcome.FP, Outcome.IGNORED, Outcome.FP_ID0)}
GREEN, RED, BLUE = (_OUTCOME_QCOLOURS[o] for o in (Outcome.TP, Outcome.FP, Outcome.IGNORED))


def _iou(v: float | None) -> str:
    return "" if v is None else f"{v:.3f}"


def _pred_status_colour(row: PredRow) -> QColor | None:
    return _OUTCOME_QCOLOURS.get(row.outcome, _DIM)


def _gt_status_colour(row: GtRow) -> QColor:
    if row.status == "matched":
        return GREEN
    if row.status.startswith("ignored"):
        return BLUE
    return RED


class _RowsModel(QAbstractTableModel):
    columns: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    numeric: frozenset[int] = frozenset()
    status_column = -1
    partner_colour = QColor(0, 0, 0, 0)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)  # owned by its view: never deleted before the view is hidden
        self.rows: list = []
        self.names: Callable[[int], str] = str
        self.partner: int | None = None  # key of the row drawn as the selected row's partner

    def key(self, row: object) -> int:
        raise NotImplementedError

    def set_partner(self, key: int | None) -> int:
        """Tint the partner's row (in the canvas' colour of its kind); returns its row or -1."""
        if key != self.partner:
            self.partner = key
            if self.rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, self.columnCount() - 1))
        return next((k for k, r in enumerate(self.rows) if self.key(r) == key), -1) if key is not None else -1

    def set_rows(self, rows: Sequence, names: Callable[[int], str]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.names = names
        self.partner = None
        self.endResetModel()

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tips[section]
        return None

    def text(self, row: object, column: int) -> object:
        raise NotImplementedError

    def colour(self, row: object) -> QColor | None:
        raise NotImplementedError

    def tooltip(self, row: object) -> str:
        return row.why or row.status

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, col)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row)
        if role == Qt.ItemDataRole.TextAlignmentRole and col in self.numeric:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and col == self.status_column:
            return self.colour(row)
        if role == Qt.ItemDataRole.BackgroundRole and self.partner is not None and self.key(row) == self.partner:
            return self.partner_colour
        return None


class PredictionTable(_RowsModel):
    columns = ("Rank", "Category", "Score", "GT id", "IoU", "Status", "Error", "Index")
    tips = ("rank in the image by score (scored predictions first)", "predicted category", "score",
            "annotation id of the ground truth matched at the threshold (the ground-truth table's 'GT id')",
            "IoU with the matched ground truth",
            "outcome in the official score at the threshold", "the error it makes (TIDE type)",
            "position in the predictions file (the inspector's '#')")
    numeric = frozenset({0, 2, 3, 4, 7})
    status_column = 5
    partner_colour = QColor(255, 190, 0, 70)  # the canvas fills a pair's prediction in amber

    def key(self, row: PredRow) -> int:
        return row.index

    def text(self, row: PredRow, column: int) -> object:
        if column == 0:
            return row.rank
        if column == 1:
            return self.names(row.category_id)
        if column == 2:
            return f"{row.score:.3f}"
        if column == 3:
            return "" if row.matched_gt is None else row.matched_gt
        if column == 4:
            return _iou(row.iou)
        if column == 5:
            return row.status
        if column == 6:
            return "…" if row.kind is None and row.outcome in (Outcome.FP, Outcome.FP_ID0) else KIND_TEXT.get(row.kind or "", row.kind or "")
        return row.index

    def colour(self, row: PredRow) -> QColor | None:
        return _pred_status_colour(row)

    def row_of(self, index: int) -> int:
        return next((k for k, r in enumerate(self.rows) if r.index == index), -1)


class GroundTruthTable(_RowsModel):
    columns = ("GT id", "Inst", "Category", "Area", "Pred #", "IoU", "Status", "Why")
    tips = ("annotation id, as the evaluation numbers them (the inspector's 'GT id')",
            "instance id in the annotation (the inspector's 'Inst': green value of a challenge-layout PNG)",
            "category", "area in pixels",
            "prediction (file position, the inspector's '#') matched at the threshold", "IoU with the matching prediction",
            "matched or missed in the official score", "why it was missed: its best candidate and what failed")
    numeric = frozenset({0, 1, 3, 4, 5})
    status_column = 6
    partner_colour = QColor(0, 230, 255, 60)  # the canvas outlines a pair's ground truth in cyan

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.instances: dict[int, int] = {}  # GT row -> instance id of the image on screen

    def key(self, row: GtRow) -> int:
        return row.row

    def set_rows(self, rows: Sequence, names: Callable[[int], str], instances: dict[int, int] | None = None) -> None:
        self.instances = instances or {}
        super().set_rows(rows, names)

    def text(self, row: GtRow, column: int) -> object:
        if column == 0:
            return row.gt_id
        if column == 1:
            return self.instances.get(row.row, "")
        column -= 1
        if column == 1:
            return self.names(row.category_id)
        if column == 2:
            return f"{row.area:,.0f}"
        if column == 3:
            return "" if row.matched_pred is None else row.matched_pred
        if column == 4:
            return _iou(row.iou)
        if column == 5:
            return row.status
        if row.kind in (None, "matched", "ignored"):
            return ""
        return row.why.split(": ", 1)[-1] if row.kind == "missed" else row.why

    def colour(self, row: GtRow) -> QColor:
        return _gt_status_colour(row)

    def row_of_gt(self, gt_row: int) -> int:
        return next((k for k, r in enumerate(self.rows) if r.row == gt_row), -1)


def make_table(model: object, widths: tuple[int, ...], stretch: int) -> QTableView:
    """A read-only, row-selecting table with columns ``chars`` digits wide (fixed; ``stretch`` takes the rest)."""
    table = QTableView()
    table.setModel(model)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(22)
    table.setAlternatingRowColors(True)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(False)
    digit = table.fontMetrics().horizontalAdvance("0")
    for col, chars in enumerate(widths):
        table.setColumnWidth(col, digit * chars + 14)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table
