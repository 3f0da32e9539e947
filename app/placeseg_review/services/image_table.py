"""The image list's table: a model over the data set (its cells set in bulk, sorting and filtering
in C++), pluggable extra columns, and the search / image-filter proxy.

Counts not known yet (the background scan of annotation PNGs is still running) show as "…" and
sort last.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import QObject, QRegularExpression, QSortFilterProxyModel, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItemModel

from ..model.data import ReviewDataset
from .session import ReviewSession

COLUMNS = ("ID", "File", "GT", "Preds", "Finds")
COL_ID, COL_FILE, COL_GT, COL_PREDS, COL_FINDINGS = range(len(COLUMNS))
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
FILTER_ROLE = Qt.ItemDataRole.UserRole + 2
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

    Writing is the expensive part: each ``setData`` lets go of the GIL, and while a worker
    thread runs Python, getting it back can take up to the switch interval. A whole column of a
    2,000-image set took 40-100 ms that way, and a data set or an evaluation arriving writes
    several (a 250-360 ms freeze at 505k predictions, benchmarks/gui_responsiveness.py
    --trace-stalls). So the counts and extra columns are written in passes of at most
    ``PASS_SECONDS``, one per turn of the event loop; a small set (up to ``SYNC_CELLS`` cells
    waiting) is written at once, and so is the file name of a new data set.
    """

    PASS_SECONDS = 0.012
    PASS_ROWS = 250
    SYNC_CELLS = 1000
    CHECK_ROWS = 16  # rows between looks at the clock

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
        self._written: dict[int, list[object]] = {}  # column -> what each row's cell holds (None: nothing yet)
        self._target: dict[int, list[object]] = {}  # column -> what each row's cell should hold
        self._dirty: dict[int, int] = {}  # column -> first row not compared yet, in the order queued
        self._writer = QTimer(self, singleShot=True, interval=0)
        self._writer.timeout.connect(self._write_some)
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

    def image_id_of_row(self, row: int) -> int | None:
        """The image id of a model row (from the data set the rows were built for)."""
        ds = self._ds
        return ds.entries[row].id if ds is not None and 0 <= row < len(ds.entries) else None

    def writing(self) -> bool:
        """Some cells are still being written (a large set, a pass per turn of the event loop)."""
        return bool(self._dirty)

    def _reset(self) -> None:
        ds = self._ds = self.session.dataset
        entries = ds.entries if ds is not None else []
        # rows removed and added with their signals, then written (the first pass now); one
        # reset tells the proxy and the view to read everything again
        self.removeRows(0, self.rowCount())
        self.insertRows(0, len(entries))
        self._written, self._target, self._dirty = {}, {}, {}
        blocked = self.blockSignals(True)
        try:
            # the file name now: it gives the list its order (sorted by name unless the user
            # chose another column), which the controller asks for at once (the first image);
            # the rest follows in passes
            self._queue(COL_FILE, write=False)
            self._write_some(all_of_them=True)
            for column in range(self.columnCount()):
                if column != COL_FILE:
                    self._queue(column, write=False)
            self._kick()
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
        written = self._written.get(COL_FILE, [])
        blocked = self.blockSignals(True)
        try:
            for r, entry in enumerate(ds.entries):
                if r >= len(written) or written[r] is None:
                    continue  # written later, with the marks as they are then
                index = self.index(r, COL_FILE)
                text = self._filter_text(entry.id, entry.file_name)
                if index.data(FILTER_ROLE) != text:
                    self.setData(index, text, FILTER_ROLE)
        finally:
            self.blockSignals(blocked)

    # ----------------------------------------------------------------- values
    def _cells(self, column: int) -> list[object]:
        """What every row's cell of ``column`` should hold: (id,) for the id, (name, tip) for
        the file, (shown, sort key) for a count or an extra column."""
        ds = self._ds
        assert ds is not None
        if column == COL_ID:
            return [(e.id,) for e in ds.entries]
        if column == COL_FILE:
            return [(e.file_name, str(e.photo_path or "image file not found")) for e in ds.entries]
        if column >= len(COLUMNS):
            extra = self._extra(column)
            if extra is None:
                return [("–", _UNKNOWN_SORT)] * len(ds.entries)
            source, k = extra
            ids = np.fromiter((e.id for e in ds.entries), dtype=np.int64, count=len(ds.entries))
            return [("–", _UNKNOWN_SORT) if v is None else (source.display(v, k), v)
                    for v in source.values(ids, k)]
        unknown = ("…", _UNKNOWN_SORT) if column != COL_PREDS else ("–", _UNKNOWN_SORT)
        values = self._counts(column)
        return [(v, v) if v >= 0 else unknown for v in values.tolist()]

    def _write_cell(self, row: int, column: int, cell: tuple, first: bool) -> None:
        # one call per cell (each call into Qt may wait for the GIL: see the class's notes)
        index = self.index(row, column)
        if column == COL_FILE:
            name, tip = cell
            self.setItemData(index, {Qt.ItemDataRole.DisplayRole: name, SORT_ROLE: name,
                                     Qt.ItemDataRole.ToolTipRole: tip,
                                     FILTER_ROLE: self._filter_text(self._ds.entries[row].id, name)})  # type: ignore[union-attr]
            return
        shown, key = (cell[0], cell[0]) if column == COL_ID else cell
        if first:
            self.setItemData(index, {Qt.ItemDataRole.DisplayRole: shown, SORT_ROLE: key,
                                     Qt.ItemDataRole.TextAlignmentRole: _RIGHT})
        else:  # setItemData would drop the alignment
            self.setData(index, shown, Qt.ItemDataRole.DisplayRole)
            self.setData(index, key, SORT_ROLE)

    def _queue(self, column: int, write: bool = True) -> None:
        """Have ``column``'s cells follow its values (now for a small set, else in passes)."""
        ds = self._ds
        if ds is None or not len(ds.entries):
            return
        self._target.pop(column, None)  # worked out when its turn comes (see _write_some)
        self._written.setdefault(column, [None] * len(ds.entries))
        self._dirty.pop(column, None)
        self._dirty[column] = 0  # compared again from the top, after the columns queued before
        if write:
            self._kick()

    def _waiting(self) -> int:
        n = len(self._ds.entries) if self._ds is not None else 0
        return sum(n - row for row in self._dirty.values())

    def _kick(self) -> None:
        """Write now when few cells wait, else start the passes (several columns changing in
        one slot then share the passes instead of each taking one on the spot)."""
        if self._waiting() <= self.SYNC_CELLS:
            self._write_some(all_of_them=True)
        elif not self._writer.isActive():
            self._writer.start()

    def _write_some(self, all_of_them: bool = False) -> None:
        """Write the cells that differ, column by column, for at most ``PASS_SECONDS`` and
        ``PASS_ROWS`` rows (the proxy re-sorts the rows of a pass when the list is sorted by
        that column: its time grows with them); the rest in the next turn of the loop."""
        n = len(self._ds.entries) if self._ds is not None else 0
        deadline = time.perf_counter() + self.PASS_SECONDS
        rows_left = n * len(self._dirty) if all_of_them else self.PASS_ROWS
        while self._dirty and rows_left > 0:
            column, row = next(iter(self._dirty.items()))
            if column not in self._target:
                self._target[column] = self._cells(column)
            target, written = self._target[column], self._written[column]
            first = last = -1
            blocked = self.blockSignals(True)
            try:
                while row < n and rows_left > 0:
                    if written[row] != target[row]:
                        self._write_cell(row, column, target[row], written[row] is None)  # type: ignore[arg-type]
                        written[row] = target[row]
                        first = row if first < 0 else first
                        last = row
                    row += 1
                    rows_left -= 1
                    if not all_of_them and row % self.CHECK_ROWS == 0 and time.perf_counter() >= deadline:
                        rows_left = 0
            finally:
                self.blockSignals(blocked)
            if first >= 0:  # one signal per column and pass (the proxy re-sorts and re-filters it)
                self.dataChanged.emit(self.index(first, column), self.index(last, column))
            if row < n:
                self._dirty[column] = row
            else:
                del self._dirty[column]
        if self._dirty:
            self._writer.start()

    def _column_changed(self, column: int) -> None:
        if self._ds is not self.session.dataset or not 0 <= column < self.columnCount():
            return  # a new data set is on its way: the reset writes everything
        self._queue(column)

    def _stats_changed(self) -> None:
        self._column_changed(COL_GT)
        self._column_changed(COL_FINDINGS)

    def _counts(self, column: int) -> np.ndarray:
        """A count column for every entry, -1 where not known yet (whole arrays: 3,352 calls
        of a per-row function were 20 ms on the GUI thread)."""
        ds = self._ds
        assert ds is not None and ds.gt_counts is not None and ds.findings_counts is not None
        preds = self.session.predictions
        if column == COL_GT:
            return np.asarray(ds.gt_counts, dtype=np.int64)
        if column == COL_FINDINGS:
            values = np.asarray(ds.findings_counts, dtype=np.int64).copy()
            if preds is not None and preds.size_mismatch:
                extra = np.array([preds.size_mismatch.get(e.id, 0) for e in ds.entries], dtype=np.int64)
                values = np.where(values >= 0, values + extra, values)
            return values
        if preds is None:
            return np.full(len(ds.entries), -1, dtype=np.int64)
        return np.fromiter((preds.count(e.id) for e in ds.entries), dtype=np.int64, count=len(ds.entries))

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
        # the cells of later columns move left with them
        def shift(by_column: dict) -> dict:
            return {(c if c < first else c - n): v for c, v in by_column.items() if not first <= c < first + n}

        self._written, self._target, self._dirty = shift(self._written), shift(self._target), shift(self._dirty)
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
