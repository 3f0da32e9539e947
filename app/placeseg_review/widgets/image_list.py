"""The list of images: search box, banner of the image filter, and the table.

The table shows :class:`~placeseg_review.services.navigation.ImageOrder`, the order the
controller steps through (the filtered, sorted order the user sees); this widget only binds to
it. More columns come from pluggable :class:`~placeseg_review.services.image_table.ColumnSource`
objects (the evaluation adds TP / FP / FN); the session's image filter restricts the rows,
shown in a banner with a button that clears it.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ..services.image_table import (
    COL_FILE,
    COL_FINDINGS,
    COL_GT,
    COL_ID,
    COL_PREDS,
    COLUMNS,
    ColumnSource,
    positions_in,
)
from ..services.navigation import ImageOrder
from ..services.session import ImageFilter, ReviewSession

# the table's names most users of the list need, importable from here too
__all__ = ["COLUMNS", "COL_FILE", "COL_FINDINGS", "COL_GT", "COL_ID", "COL_PREDS", "ColumnSource",
           "ImageListPanel", "positions_in"]


class ImageListPanel(QWidget):
    """Search box + table. ``imageActivated`` carries the image id the user chose."""

    imageActivated = Signal(int)
    widthWanted = Signal(int)  # columns were added: the width that shows them all (preferred_width)

    def __init__(self, session: ReviewSession, order: ImageOrder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.order = session, order
        self.model, self.proxy = order.model, order.proxy
        self.search = QLineEdit(placeholderText="Search file name or id…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(order.set_search)
        self.filter_label = QLabel()
        self.filter_label.setObjectName("ImageFilterLabel")
        self.filter_clear = QToolButton(text="Show all")
        self.filter_clear.setToolTip("Clear the filter: list every image")
        self.filter_clear.clicked.connect(lambda: session.set_image_filter(None))
        self.filter_bar = QWidget()
        bar = QHBoxLayout(self.filter_bar)
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.filter_label, 1)
        bar.addWidget(self.filter_clear)
        self.filter_bar.hide()
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COL_FILE, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideLeft)  # keep the number at the end visible
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)  # never cut a column off
        header = self.table.horizontalHeader()
        # Fixed widths: sizing to contents would visit all 2,000 rows whenever a count changes.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(COL_FILE, QHeaderView.ResizeMode.Stretch)
        digit = self.table.fontMetrics().horizontalAdvance("0")
        for column, chars in ((COL_ID, 5), (COL_GT, 3), (COL_PREDS, 4), (COL_FINDINGS, 4)):
            self.table.setColumnWidth(column, digit * chars + 18)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.table)
        session.imageChanged.connect(lambda prep: prep is not None and self.show_current(prep.entry.id))
        order.filterApplied.connect(self._on_filter)

    # ---------------------------------------------------------- extra columns
    def register_columns(self, source: ColumnSource) -> None:
        """Show ``source``'s columns whenever it is active (e.g. TP / FP / FN after an evaluation)."""
        source.activeChanged.connect(lambda on, s=source: self.add_columns(s) if on else self.remove_columns(s))
        if source.active:
            self.add_columns(source)

    def add_columns(self, source: ColumnSource) -> None:
        if source in self.model.sources:
            return
        self.model.add_columns(source)
        digit = self.table.fontMetrics().horizontalAdvance("0")
        first = self.model.first_column_of(source)
        for k, chars in enumerate(source.chars):
            self.table.setColumnWidth(first + k, digit * chars + 18)
        self.widthWanted.emit(self.preferred_width())

    def remove_columns(self, source: ColumnSource) -> None:
        self.model.remove_columns(source)

    def preferred_width(self) -> int:
        """Panel width that shows every column, the file name down to its number ('…00020210.jpg')."""
        t = self.table
        others = sum(t.columnWidth(c) for c in range(self.model.columnCount()) if c != COL_FILE)
        file_min = t.fontMetrics().horizontalAdvance("…00000000.jpg") + 18
        return others + file_min + t.verticalScrollBar().sizeHint().width() + 2 * t.frameWidth() + 10

    def sort_by(self, source: ColumnSource, column: int, descending: bool = True) -> bool:
        """Sort the list by one of ``source``'s columns (False when it is not shown)."""
        first = self.model.first_column_of(source)
        if first < 0 or not 0 <= column < len(source.headers):
            return False
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.table.sortByColumn(first + column, order)
        current = self.session.current_id
        if current is not None:
            self.show_current(current)
        return True

    def _on_filter(self, image_filter: ImageFilter | None) -> None:
        self.filter_bar.setVisible(image_filter is not None)
        if image_filter is not None:
            self.filter_label.setText(f"{image_filter.label} ({self.proxy.rowCount()} of {self.model.rowCount()})")
        current = self.session.current_id
        if current is not None:
            self.show_current(current)  # (the controller moves on if it was filtered out)

    # ------------------------------------------------------------ current row
    def show_current(self, image_id: int) -> None:
        row = self.order.row_of(image_id)
        if row < 0:
            return
        index = self.proxy.index(row, 0)
        old = self.table.currentIndex().row()
        if old != row:
            self.table.selectionModel().blockSignals(True)
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )
            self.table.selectionModel().blockSignals(False)
            # with the signals blocked the view repaints nothing by itself; only the two rows
            # changed (a full repaint asks the Python model for every visible cell)
            viewport = self.table.viewport()
            for r in (old, row):
                if r >= 0:
                    viewport.update(0, self.table.rowViewportPosition(r), viewport.width(), self.table.rowHeight(r))
        self.table.scrollTo(index)

    def _on_current_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self.order.filtering:
            return  # rows moved under the cursor; the controller picks the image to show
        image_id = self.order.id_at(current.row()) if current.isValid() else None
        if image_id is not None:
            self.imageActivated.emit(image_id)
