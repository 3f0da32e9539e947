"""The image list's table: a model over the data set (its cells set in bulk, sorting and filtering
in C++), pluggable extra columns, and the search / image-filter proxy.

Counts not known yet (the background scan of annotation PNGs is still running) show as "…" and
sort last.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QRegularExpression, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItemModel

from ..model.data import ReviewDataset
from .session import ReviewSession

COLUMNS = ("ID", "File", "GT", "Preds", "Finds")
COL_ID, COL_FILE, COL_GT, COL_PREDS, COL_FINDINGS = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
ID_ROLE = Qt.ItemDataRole.UserRole + 2
FILTER_ROLE = Qt.ItemDataRole.UserRole + 3
_UNKNOWN_SORT = 1 << 40



def positions_in(sorted_ids: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``ids``: whether it is in ``sorted_ids``, and where (0 if not)."""
    if len(sorted_ids) == 0:
        return np.zeros(len(ids), dtype=bool), np.zeros(len(ids), dtype=np.int64)
    k = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    found = sorted_ids[k] == ids
    return found, np.where(found, k, 0)


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

    def values(self, image_ids: np.ndarray, column: int) -> list[int | float | None]:
        """:meth:`value` of many images at once (the list fills whole columns; override with
        array lookups: 2,000 single calls are a visible pause)."""
        return [self.value(i, column) for i in image_ids.tolist()]

    def display(self, value: int | float, column: int) -> object:
        """What the cell shows for a value (sorting uses the value itself)."""
        return value


class ImageTableModel(QStandardItemModel):
    """One row per image of ``session.dataset``, in the data set's order, held in Qt's items.

    Painting, sorting and filtering 2,000 rows then run in C++ without calling into Python.
    With a Python model every repaint of the list asked ``data()`` (and ``rowCount()``) hundreds
    of times, each call waiting for the GIL while a loader thread held it: that was most of the
    window's freeze when a large set opened. Values are written when they change, column by
    column, and only the cells that differ (the background scan fills the counts gradually).
    """

    def __init__(self, session: ReviewSession) -> None:
        super().__init__(0, len(COLUMNS))
        self.session = session
        self.sources: list[ColumnSource] = []
        self._source_slots: dict[ColumnSource, object] = {}
        self._ids: frozenset[int] | None = None  # the image filter's ids (None: all)
        # The data set the rows were built for. The session replaces its data set a little
        # before datasetChanged arrives (other signals fire in between): until the reset,
        # the rows keep describing the old one.
        self._ds: ReviewDataset | None = None
        self._shown: dict[int, list[object]] = {}  # column -> what each row's cell holds now
        # Headers and cells are set through the model, never as QStandardItem objects made in
        # Python: PySide's wrapper of such an item is torn down twice when the model deletes
        # it (a crash seen in the inspector, which uses the same kind of model).
        for column, (name, tip) in enumerate(zip(COLUMNS, _TIPS, strict=True)):
            self._set_header(column, name, tip)
        session.datasetChanged.connect(self._reset)
        session.predictionsChanged.connect(lambda: (self._column_changed(COL_PREDS), self._column_changed(COL_FINDINGS)))
        session.statsChanged.connect(self._stats_changed)

    # ------------------------------------------------------------------- rows
    def row_of_entry(self, index: int) -> int:
        """The model row of the data set's entry ``index`` (rows keep the data set's order;
        the proxy sorts), -1 if there is none."""
        return index if 0 <= index < self.rowCount() else -1

    def _reset(self) -> None:
        ds = self._ds = self.session.dataset
        entries = ds.entries if ds is not None else []
        # rows removed and added with their signals, then written silently; one reset tells
        # the proxy and the view to read everything again
        self.removeRows(0, self.rowCount())
        self.insertRows(0, len(entries))
        self._shown = {}
        blocked = self.blockSignals(True)
        try:
            for r, entry in enumerate(entries):
                index = self.index(r, COL_ID)
                self.setData(index, entry.id, Qt.ItemDataRole.DisplayRole)
                self.setData(index, entry.id, SORT_ROLE)
                self.setData(index, entry.id, ID_ROLE)
                self.setData(index, _RIGHT, Qt.ItemDataRole.TextAlignmentRole)
                index = self.index(r, COL_FILE)
                self.setData(index, entry.file_name, Qt.ItemDataRole.DisplayRole)
                self.setData(index, entry.file_name, SORT_ROLE)
                self.setData(index, str(entry.photo_path or "image file not found"), Qt.ItemDataRole.ToolTipRole)
                self.setData(index, self._filter_text(entry.id, entry.file_name), FILTER_ROLE)
            for column in range(COL_GT, self.columnCount()):
                self._write_column(column)
        finally:
            self.blockSignals(blocked)
        self.beginResetModel()
        self.endResetModel()

    def _filter_text(self, image_id: int, file_name: str) -> str:
        # what the search matches (file name, id); a leading \x01 marks a row outside the
        # image filter, which the proxy's pattern never accepts
        out = "" if self._ids is None or image_id in self._ids else "\x01"
        return f"{out}{file_name.lower()}\x02{image_id}"

    def set_ids(self, ids: frozenset[int] | None) -> None:
        """Mark the rows outside ``ids`` (None: none); the proxy filters them out."""
        self._ids = ids
        ds = self._ds
        if ds is None:
            return
        blocked = self.blockSignals(True)
        try:
            for r, entry in enumerate(ds.entries):
                index = self.index(r, COL_FILE)
                text = self._filter_text(entry.id, entry.file_name)
                if index.data(FILTER_ROLE) != text:
                    self.setData(index, text, FILTER_ROLE)
        finally:
            self.blockSignals(blocked)

    # ----------------------------------------------------------------- values
    def _cells(self, column: int) -> list[tuple[object, object]]:
        """(shown, sort key) of every row of a count or extra column."""
        ds = self._ds
        assert ds is not None
        if column >= len(COLUMNS):
            extra = self._extra(column)
            if extra is None:
                return [("–", _UNKNOWN_SORT)] * len(ds.entries)
            source, k = extra
            ids = np.fromiter((e.id for e in ds.entries), dtype=np.int64, count=len(ds.entries))
            return [("–", _UNKNOWN_SORT) if v is None else (source.display(v, k), v)
                    for v in source.values(ids, k)]
        unknown = "…" if column != COL_PREDS else "–"
        out = []
        for index in range(len(ds.entries)):
            value = self._count(index, column)
            out.append((unknown, _UNKNOWN_SORT) if value is None else (value, value))
        return out

    def _write_column(self, column: int) -> tuple[int, int] | None:
        """Write the cells of ``column`` that changed; (first, last) changed row, or None."""
        ds = self._ds
        if ds is None or not len(ds.entries):
            return None
        before = self._shown.get(column)
        now = self._cells(column)
        changed = [r for r in range(len(now)) if before is None or before[r] != now[r]]
        for r in changed:
            index = self.index(r, column)
            self.setData(index, now[r][0], Qt.ItemDataRole.DisplayRole)
            self.setData(index, now[r][1], SORT_ROLE)
            if before is None:
                self.setData(index, _RIGHT, Qt.ItemDataRole.TextAlignmentRole)
        self._shown[column] = now
        return (changed[0], changed[-1]) if changed else None

    def _column_changed(self, column: int) -> None:
        if self._ds is not self.session.dataset or not 0 <= column < self.columnCount():
            return  # a new data set is on its way: the reset writes everything
        blocked = self.blockSignals(True)
        try:
            span = self._write_column(column)
        finally:
            self.blockSignals(blocked)
        if span is not None:  # one signal for the column (the proxy re-sorts and re-filters it)
            self.dataChanged.emit(self.index(span[0], column), self.index(span[1], column))

    def _stats_changed(self) -> None:
        self._column_changed(COL_GT)
        self._column_changed(COL_FINDINGS)

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

    def _set_header(self, column: int, name: str, tip: str | None) -> None:
        self.setHeaderData(column, Qt.Orientation.Horizontal, name, Qt.ItemDataRole.DisplayRole)
        if tip:
            self.setHeaderData(column, Qt.Orientation.Horizontal, tip, Qt.ItemDataRole.ToolTipRole)

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
        first = self.columnCount()
        self.insertColumns(first, len(source.headers))
        self.sources.append(source)
        for k, name in enumerate(source.headers):
            self._set_header(first + k, name, source.tips[k] if k < len(source.tips) else None)
            self._column_changed(first + k)
        slot = self._source_slots[source] = lambda s=source: self._source_changed(s)
        source.changed.connect(slot)

    def remove_columns(self, source: ColumnSource) -> None:
        if source not in self.sources:
            return
        first = self.first_column_of(source)
        n = len(source.headers)
        self.sources.remove(source)
        self.removeColumns(first, n)
        # the cached cells of later columns move left with them
        self._shown = {(c if c < first else c - n): v for c, v in self._shown.items() if not first <= c < first + n}
        source.changed.disconnect(self._source_slots.pop(source))

    def _source_changed(self, source: ColumnSource) -> None:
        first = self.first_column_of(source)
        for k in range(len(source.headers)) if first >= 0 else ():
            self._column_changed(first + k)

    def _extra(self, column: int) -> tuple[ColumnSource, int] | None:
        k = column - len(COLUMNS)
        if k < 0:
            return None
        for source in self.sources:
            if k < len(source.headers):
                return source, k
            k -= len(source.headers)
        return None


_TIPS = ("image id (imgCatIds.json)", "file name", "ground-truth instances", "predictions for this image",
         "integrity findings in its annotation + predictions not drawn (size)")
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter




class ImageFilterProxy(QSortFilterProxyModel):
    """Sorts by each column's sort key and filters by the search text and the image filter,
    all in C++ (the model holds a filter text per row, see ImageTableModel._filter_text)."""

    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(COL_FILE)
        self._needle = ""
        self._apply()

    def _apply(self) -> None:
        pattern = "^(?!\\x01).*" + QRegularExpression.escape(self._needle)
        self.setFilterRegularExpression(
            QRegularExpression(pattern, QRegularExpression.PatternOption.CaseInsensitiveOption
                               | QRegularExpression.PatternOption.DotMatchesEverythingOption))

    def set_search(self, text: str) -> None:
        self._needle = text.strip().lower()
        self._apply()

    def set_ids(self, ids: frozenset[int] | None) -> None:
        """Show only these image ids (None: all)."""
        model = self.sourceModel()
        if not isinstance(model, ImageTableModel):
            return
        # the marks change without signals: every row is filtered again
        if hasattr(self, "beginFilterChange"):  # Qt ≥ 6.9; invalidateFilter is deprecated there
            self.beginFilterChange()
            model.set_ids(ids)
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            model.set_ids(ids)
            self.invalidateRowsFilter()
