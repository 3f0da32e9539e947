"""The order in which the user walks through the images: one owner, no widget.

The image list shows this order and the controller steps through it (next, previous, first,
last, prefetch), so both must agree on it: it lives here, not in the list widget. Sorting and
filtering stay in Qt's C++ proxy (ADR 0002: a Python model made every repaint call into
Python); the list's view only binds to ``proxy``.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from .image_table import ImageFilterProxy, ImageTableModel
from .session import ImageFilter, ReviewSession


class ImageOrder(QObject):
    """The data set's images as the list shows them: searched, filtered, sorted."""

    orderChanged = Signal()  # the rows shown or their order changed (search, filter, sort, reset)
    filterApplied = Signal(object)  # ImageFilter | None, once the rows follow it

    def __init__(self, session: ReviewSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = ImageTableModel(session)
        self.proxy = ImageFilterProxy()
        self.proxy.setSourceModel(self.model)
        for changed in (self.proxy.layoutChanged, self.proxy.modelReset, self.proxy.rowsInserted,
                        self.proxy.rowsRemoved):
            changed.connect(lambda *_args: self.orderChanged.emit())
        self.filtering = False  # the image filter is being applied
        session.imageFilterChanged.connect(self._on_filter)

    def set_search(self, text: str) -> None:
        self.proxy.set_search(text)

    def _on_filter(self, image_filter: ImageFilter | None) -> None:
        # while the rows change, a view's current row moves by itself: that is not the user
        # choosing an image (``filtering`` tells the list); the controller decides after
        self.filtering = True
        try:
            self.proxy.set_ids(None if image_filter is None else image_filter.ids)
        finally:
            self.filtering = False
        self.filterApplied.emit(image_filter)

    # ------------------------------------------------------------------ queries
    def __len__(self) -> int:
        return self.proxy.rowCount()

    def visible_ids(self) -> list[int]:
        ids = (self.id_at(r) for r in range(self.proxy.rowCount()))
        return [i for i in ids if i is not None]

    def row_of(self, image_id: int) -> int:
        """Row of an image in the order, -1 when it is filtered out or not in the data set."""
        ds = self.session.dataset
        if ds is None or image_id not in ds.index_of:
            return -1
        source = self.model.index(self.model.row_of_entry(ds.index_of[image_id]), 0)
        return self.proxy.mapFromSource(source).row()

    def position(self, image_id: int) -> tuple[int, int] | None:
        """(row, rows) of an image in the order, or None when it is filtered out."""
        row = self.row_of(image_id)
        return (row, self.proxy.rowCount()) if row >= 0 else None

    def id_at(self, row: int) -> int | None:
        if 0 <= row < self.proxy.rowCount():
            return self.model.image_id_of_row(self.proxy.mapToSource(self.proxy.index(row, 0)).row())
        return None

    def neighbour(self, image_id: int | None, step: int) -> int | None:
        """The id ``step`` rows away (clamped); the first row when ``image_id`` is not listed."""
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
