"""The list of images: search box, banner of the image filter, and the table (see
:mod:`.image_table` for the model and the proxy).

Navigation (next/previous/first/last) follows what the user sees: the filtered, sorted order.
More columns come from pluggable :class:`~.image_table.ColumnSource` objects (the evaluation adds
TP / FP / FN); the session's :class:`~placeseg_review.services.session.ImageFilter` restricts
the rows (a category chosen in the evaluation view), shown in a banner with a button that
clears it.
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

from ..services.session import ImageFilter, ReviewSession
from .image_table import (
    COL_FILE,
    COL_FINDINGS,
    COL_GT,
    COL_ID,
    COL_PREDS,
    COLUMNS,
    ID_ROLE,
    ColumnSource,
    ImageFilterProxy,
    ImageTableModel,
    positions_in,
)

# the table's names most users of the list need, importable from here too
__all__ = ["COLUMNS", "COL_FILE", "COL_FINDINGS", "COL_GT", "COL_ID", "COL_PREDS", "ColumnSource",
           "ImageListPanel", "positions_in"]


class ImageListPanel(QWidget):
    """Search box + table. ``imageActivated`` carries the image id the user chose."""

    imageActivated = Signal(int)
    widthWanted = Signal(int)  # columns were added: the width that shows them all (preferred_width)
    orderChanged = Signal()  # the rows shown or their order changed (search, filter, sort, reset)

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = ImageTableModel(session)
        self.proxy = ImageFilterProxy()
        self.proxy.setSourceModel(self.model)
        for changed in (self.proxy.layoutChanged, self.proxy.modelReset, self.proxy.rowsInserted,
                        self.proxy.rowsRemoved):
            changed.connect(lambda *_args: self.orderChanged.emit())
        self.search = QLineEdit(placeholderText="Search file name or id…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)
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
        session.imageFilterChanged.connect(self._on_filter)

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
        self.proxy.set_ids(None if image_filter is None else image_filter.ids)
        self.filter_bar.setVisible(image_filter is not None)
        if image_filter is not None:
            self.filter_label.setText(f"{image_filter.label} ({self.proxy.rowCount()} of {self.model.rowCount()})")
        current = self.session.current_id
        if current is not None and self.row_of(current) >= 0:
            self.show_current(current)
        elif self.proxy.rowCount():
            self.imageActivated.emit(self.id_at(0))  # the shown image was filtered out

    # ------------------------------------------------------------ navigation
    def visible_ids(self) -> list[int]:
        return [self.proxy.data(self.proxy.index(r, 0), ID_ROLE) for r in range(self.proxy.rowCount())]

    def row_of(self, image_id: int) -> int:
        ds = self.session.dataset
        if ds is None or image_id not in ds.index_of:
            return -1
        return self.proxy.mapFromSource(self.model.index(self.model.row_of_entry(ds.index_of[image_id]), 0)).row()

    def position(self, image_id: int) -> tuple[int, int] | None:
        """(row, rows) of an image in the list as shown, or None when it is filtered out."""
        row = self.row_of(image_id)
        return (row, self.proxy.rowCount()) if row >= 0 else None

    def id_at(self, row: int) -> int | None:
        if 0 <= row < self.proxy.rowCount():
            return int(self.proxy.data(self.proxy.index(row, 0), ID_ROLE))
        return None

    def neighbour(self, image_id: int | None, step: int) -> int | None:
        """The id ``step`` rows away in the visible order (clamped); first row if none current."""
        n = self.proxy.rowCount()
        if n == 0:
            return None
        row = self.row_of(image_id) if image_id is not None else -1
        if row < 0:
            return self.id_at(0)
        return self.id_at(max(0, min(n - 1, row + step)))

    def first(self) -> int | None:
        return self.id_at(0)

    def last(self) -> int | None:
        return self.id_at(self.proxy.rowCount() - 1)

    def show_current(self, image_id: int) -> None:
        row = self.row_of(image_id)
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
        image_id = self.id_at(current.row()) if current.isValid() else None
        if image_id is not None:
            self.imageActivated.emit(image_id)
