"""The list of images: a table model over the data set, a search/sort proxy, and the panel.

Columns: id, file name, ground-truth instances, predictions, findings. Counts not known yet
(the background scan of annotation PNGs is still running) show as "…" and sort last.
Navigation (next/previous/first/last) follows what the user sees: the filtered, sorted order.

More columns come from pluggable :class:`ColumnSource` objects (the evaluation adds TP / FP /
FN); the session's :class:`~placeseg_review.session.ImageFilter` restricts the rows (a category
chosen in the evaluation view), shown in a banner with a button that clears it.
"""

from __future__ import annotations

import traceback

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
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

from .data import ReviewDataset
from .session import ImageFilter, ReviewSession

COLUMNS = ("ID", "File", "GT", "Preds", "Finds")
COL_ID, COL_FILE, COL_GT, COL_PREDS, COL_FINDINGS = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
_UNKNOWN_SORT = 1 << 40

ModelIndex = QModelIndex | QPersistentModelIndex


class ColumnSource(QObject):
    """Extra numeric columns of the image list. The list shows them while ``active``; emit
    ``changed`` when the values move and ``activeChanged`` when they come or go."""

    changed = Signal()
    activeChanged = Signal(bool)
    active = False
    headers: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()
    chars: tuple[int, ...] = ()  # column widths in digits

    def value(self, image_id: int, column: int) -> int | float | None:
        """The value of column ``column`` (0-based within this source) for an image; None = none."""
        raise NotImplementedError

    def display(self, value: int | float, column: int) -> object:
        """What the cell shows for a value (sorting uses the value itself)."""
        return value


class ImageTableModel(QAbstractTableModel):
    """One row per image of ``session.dataset``, in the chosen sort order.

    The model sorts itself (:meth:`sort`, one Python pass over the rows) instead of leaving it
    to ``QSortFilterProxyModel``: the proxy's sort asks ``data()`` for both sides of every
    comparison, ~22,000 calls from C++ into Python for 2,000 images, on every reset -- a
    visible freeze when a set opens, longer still while loader threads want the GIL.
    ``entry_index(row)`` / ``row_of_entry(index)`` convert between rows and data-set order.
    """

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self.sources: list[ColumnSource] = []
        self._source_slots: dict[ColumnSource, object] = {}
        # The data set the rows were built for. The session replaces its data set a little
        # before datasetChanged arrives (other signals fire in between): until the reset, the
        # rows keep describing the old one.
        self._ds: ReviewDataset | None = None
        self._order: list[int] = []  # row -> index into self._ds.entries
        self._row_of: list[int] = []  # the inverse
        self._sort_column, self._sort_order = COL_FILE, Qt.SortOrder.AscendingOrder
        session.datasetChanged.connect(self._reset)
        session.predictionsChanged.connect(lambda: (self._column_changed(COL_PREDS), self._column_changed(COL_FINDINGS)))
        session.statsChanged.connect(self._stats_changed)

    def _reset(self) -> None:
        self.beginResetModel()
        self._ds = self.session.dataset
        self._set_order(self._sorted_order())
        self.endResetModel()

    # -------------------------------------------------------------- sorting
    def entry_index(self, row: int) -> int:
        return self._order[row]

    def row_of_entry(self, index: int) -> int:
        return self._row_of[index] if 0 <= index < len(self._row_of) else -1

    def _set_order(self, order: list[int]) -> None:
        self._order = order
        self._row_of = [0] * len(order)
        for row, index in enumerate(order):
            self._row_of[index] = row

    def sort_key(self, index: int, column: int) -> object:
        """What rows are sorted by: numbers, unknown counts last; file names as text."""
        ds = self._ds
        assert ds is not None
        entry = ds.entries[index]
        if column == COL_ID:
            return entry.id
        if column == COL_FILE:
            return entry.file_name
        if column >= len(COLUMNS):
            extra = self._extra(column)
            value = None if extra is None else extra[0].value(entry.id, extra[1])
        else:
            value = self._count(index, column)
        return _UNKNOWN_SORT if value is None else value

    def _sorted_order(self) -> list[int]:
        ds = self._ds
        n = 0 if ds is None else len(ds.entries)
        if n == 0 or self._sort_column < 0 or self._sort_column >= self.columnCount():
            return list(range(n))
        keys = [self.sort_key(i, self._sort_column) for i in range(n)]
        descending = self._sort_order == Qt.SortOrder.DescendingOrder
        # stable either way, as Qt's sort: equal keys keep the data set's order
        return sorted(range(n), key=keys.__getitem__, reverse=descending)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column, self._sort_order = column, order
        self._resort()

    def _resort(self) -> None:
        if self.session.dataset is not self._ds:
            return  # a new data set is on its way: the reset sorts it
        new = self._sorted_order()
        if new == self._order:
            return
        self.layoutAboutToBeChanged.emit()
        old_order = self._order
        persistent = self.persistentIndexList()
        self._set_order(new)
        self.changePersistentIndexList(
            persistent, [self.index(self._row_of[old_order[p.row()]], p.column()) for p in persistent])
        self.layoutChanged.emit()

    def _column_changed(self, column: int) -> None:
        if self.rowCount():
            self.dataChanged.emit(self.index(0, column), self.index(self.rowCount() - 1, column))
            if column == self._sort_column:
                self._resort()

    def _stats_changed(self) -> None:
        self._column_changed(COL_GT)
        self._column_changed(COL_FINDINGS)

    # --------------------------------------------------------- extra columns
    def first_column_of(self, source: ColumnSource) -> int:
        col = len(COLUMNS)
        for s in self.sources:
            if s is source:
                return col
            col += len(s.headers)
        return -1

    def add_columns(self, source: ColumnSource) -> None:
        if source in self.sources:
            return
        first = len(COLUMNS) + sum(len(s.headers) for s in self.sources)
        self.beginInsertColumns(QModelIndex(), first, first + len(source.headers) - 1)
        self.sources.append(source)
        self.endInsertColumns()
        slot = self._source_slots[source] = lambda s=source: self._source_changed(s)
        source.changed.connect(slot)

    def remove_columns(self, source: ColumnSource) -> None:
        if source not in self.sources:
            return
        first = self.first_column_of(source)
        n = len(source.headers)
        self.beginRemoveColumns(QModelIndex(), first, first + n - 1)
        self.sources.remove(source)
        self.endRemoveColumns()
        # the sort column goes with its columns, or moves left with the ones after them (as
        # the header's sort indicator does)
        if first <= self._sort_column < first + n:
            self._sort_column = -1
        elif self._sort_column >= first + n:
            self._sort_column -= n
        source.changed.disconnect(self._source_slots.pop(source))

    def _source_changed(self, source: ColumnSource) -> None:
        first = self.first_column_of(source)
        if first >= 0 and self.rowCount():
            self.dataChanged.emit(self.index(0, first), self.index(self.rowCount() - 1, first + len(source.headers) - 1))
            if first <= self._sort_column < first + len(source.headers):
                self._resort()

    def _extra(self, column: int) -> tuple[ColumnSource, int] | None:
        k = column - len(COLUMNS)
        if k < 0:
            return None
        for source in self.sources:
            if k < len(source.headers):
                return source, k
            k -= len(source.headers)
        return None

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS) + sum(len(s.headers) for s in self.sources)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        extra = self._extra(section) if orientation == Qt.Orientation.Horizontal else None
        if extra is not None:
            source, k = extra
            if role == Qt.ItemDataRole.DisplayRole:
                return source.headers[k]
            if role == Qt.ItemDataRole.ToolTipRole and k < len(source.tips):
                return source.tips[k]
            return None
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return ("image id (imgCatIds.json)", "file name", "ground-truth instances",
                    "predictions for this image", "integrity findings in its annotation + predictions not drawn (size)")[section]
        return None

    def _count(self, index: int, column: int) -> int | None:
        """A count column of the data set's entry ``index`` (None: not known yet)."""
        ds = self._ds
        assert ds is not None
        if column == COL_GT:
            value = int(ds.gt_counts[index])  # type: ignore[index]
            return None if value < 0 else value
        if column == COL_FINDINGS:
            value = int(ds.findings_counts[index])  # type: ignore[index]
            preds = self.session.predictions
            return None if value < 0 else value + (preds.size_mismatch.get(ds.entries[index].id, 0) if preds else 0)
        preds = self.session.predictions
        return None if preds is None else preds.count(ds.entries[index].id)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        ds = self._ds
        if ds is None or not index.isValid():
            return None
        entry_index = self._order[index.row()]
        entry = ds.entries[entry_index]
        col = index.column()
        if role == ID_ROLE:
            return entry.id
        if col >= len(COLUMNS):
            return self._extra_data(entry.id, col, role)
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            if col == COL_ID:
                return entry.id
            if col == COL_FILE:
                return entry.file_name
            value = self._count(entry_index, col)
            if role == SORT_ROLE:
                return _UNKNOWN_SORT if value is None else value
            if value is None:
                return "…" if col != COL_PREDS else "–"
            return value
        if role == Qt.ItemDataRole.TextAlignmentRole and col != COL_FILE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and col == COL_FILE:
            return str(entry.photo_path or "image file not found")
        return None

    def _extra_data(self, image_id: int, col: int, role: int) -> object:
        extra = self._extra(col)
        if extra is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            value = extra[0].value(image_id, extra[1])
            if role == SORT_ROLE:
                return _UNKNOWN_SORT if value is None else value
            return "–" if value is None else extra[0].display(value, extra[1])
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ImageFilterProxy(QSortFilterProxyModel):
    """Filters by a text matched against file name and id; sorting is the source model's."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self._needle = ""
        self._ids: frozenset[int] | None = None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        # the view's header clicks land here: the source model sorts (see ImageTableModel);
        # this proxy keeps the source's order, so it never asks data() to compare rows
        source = self.sourceModel()
        if source is not None:
            try:
                source.sort(column, order)
            except Exception:  # noqa: BLE001 - an exception escaping a Qt override kills the process
                traceback.print_exc()

    def _change_filter(self, apply: object) -> None:
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9; invalidateFilter is deprecated there
            self.beginFilterChange()
            apply()
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            apply()
            self.invalidateRowsFilter()

    def set_search(self, text: str) -> None:
        self._change_filter(lambda: setattr(self, "_needle", text.strip().lower()))

    def set_ids(self, ids: frozenset[int] | None) -> None:
        """Show only these image ids (None: all)."""
        self._change_filter(lambda: setattr(self, "_ids", ids))

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        if self._ids is not None and model.data(model.index(source_row, COL_ID, source_parent), ID_ROLE) not in self._ids:
            return False
        if not self._needle:
            return True
        name = str(model.data(model.index(source_row, COL_FILE, source_parent))).lower()
        image_id = str(model.data(model.index(source_row, COL_ID, source_parent)))
        return self._needle in name or self._needle in image_id


class ImageListPanel(QWidget):
    """Search box + table. ``imageActivated`` carries the image id the user chose."""

    imageActivated = Signal(int)
    widthWanted = Signal(int)  # columns were added: the width that shows them all (preferred_width)

    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = ImageTableModel(session)
        self.proxy = ImageFilterProxy()
        self.proxy.setSourceModel(self.model)
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
