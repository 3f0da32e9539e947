"""All 100 categories: colour swatch, visibility, counts in this image and in the whole set."""

from __future__ import annotations

from collections import Counter

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..model.overlay import category_overlay_colour
from ..services.session import ReviewSession

ModelIndex = QModelIndex | QPersistentModelIndex
COLUMNS = ("Category", "GT", "Pred", "GT all", "Pred all")
TIPS = ("visibility, colour and name", "ground-truth instances in this image", "predictions for this image",
        "ground-truth instances in the whole data set", "predictions in the whole file")
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CAT_ROLE = Qt.ItemDataRole.UserRole + 2


class CategoryModel(QAbstractTableModel):
    """One row per category (1..100 plus any other id the data uses); column 0 is checkable."""

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self.ids: list[int] = list(range(1, 101))
        self._row = {c: r for r, c in enumerate(self.ids)}
        self.here_gt: Counter[int] = Counter()
        self.here_pred: Counter[int] = Counter()
        session.datasetChanged.connect(self._reset)
        session.imageChanged.connect(self._on_image)
        session.statsChanged.connect(lambda: self._columns_changed(3, 3))
        session.predictionsChanged.connect(lambda: self._columns_changed(4, 4))
        session.optionsChanged.connect(lambda _o: self._columns_changed(0, 0))

    def _reset(self) -> None:
        self.beginResetModel()
        ds = self.session.dataset
        extra = sorted(c.id for c in ds.categories if not 1 <= c.id <= 100) if ds is not None else []
        self.ids = list(range(1, 101)) + extra
        self._row = {c: r for r, c in enumerate(self.ids)}
        self.endResetModel()

    def _on_image(self, prep: object) -> None:
        gt = getattr(prep, "gt", None)
        preds = getattr(prep, "preds", None)
        old = set(self.here_gt) | set(self.here_pred)
        self.here_gt = Counter(i.category_id for i in gt.instances) if gt is not None else Counter()
        self.here_pred = Counter(preds.category_ids.tolist()) if preds is not None else Counter()
        # Only the rows whose counts can have changed: a whole-column change would make the
        # sorting proxy re-read all 100 rows on every image switch.
        rows = {self._row.get(c) for c in old | set(self.here_gt) | set(self.here_pred)} - {None}
        for row in sorted(rows):
            self.dataChanged.emit(self.index(row, 1), self.index(row, 2))

    def _columns_changed(self, first: int, last: int) -> None:
        if self.ids:
            self.dataChanged.emit(self.index(0, first), self.index(len(self.ids) - 1, last))

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.ids)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return TIPS[section]
        return None

    def count(self, cat: int, column: int) -> int | None:
        if column == 1:
            return self.here_gt.get(cat, 0)
        if column == 2:
            return self.here_pred.get(cat, 0) if self.session.predictions is not None else None
        if column == 3:
            ds = self.session.dataset
            if ds is None:
                return None
            if ds.kind == "layout" and not ds.scanned:
                return None
            return int(ds.category_counts[cat]) if 0 <= cat < len(ds.category_counts) else 0
        preds = self.session.predictions
        if preds is None:
            return None
        return int(preds.category_counts[cat]) if 0 <= cat < len(preds.category_counts) else 0

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsUserCheckable if index.column() == 0 else base

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        cat, col = self.ids[index.row()], index.column()
        if role == CAT_ROLE:
            return cat
        if col == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{cat:3d}  {self.session.category_names().get(cat, f'<unknown {cat}>')}"
            if role == SORT_ROLE:
                return cat
            if role == Qt.ItemDataRole.DecorationRole:
                return QColor(*category_overlay_colour(cat))
            if role == Qt.ItemDataRole.CheckStateRole:
                hidden = cat in self.session.options.hidden_categories
                return Qt.CheckState.Unchecked if hidden else Qt.CheckState.Checked
            return None
        if role in (Qt.ItemDataRole.DisplayRole, SORT_ROLE):
            value = self.count(cat, col)
            if role == SORT_ROLE:
                return -1 if value is None else value
            return "…" if value is None else value
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and not self.count(cat, col):
            return QColor(110, 113, 118)  # zeros recede, so present categories stand out
        return None

    def setData(self, index: ModelIndex, value: object, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole:
            return False
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, Qt.CheckState) else value == Qt.CheckState.Checked
        self.session.set_category_hidden(self.ids[index.row()], not checked)
        return True


class _Filter(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(0)


class CategoryPanel(QWidget):
    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.model = CategoryModel(session)
        self.proxy = _Filter()
        self.proxy.setSourceModel(self.model)
        self.search = QLineEdit(placeholderText="Filter categories…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.setFilterFixedString)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, len(COLUMNS)):
            metrics = self.table.fontMetrics()
            self.table.setColumnWidth(column, max(metrics.horizontalAdvance("00000"),
                                                  metrics.horizontalAdvance(COLUMNS[column])) + 18)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        show_all, hide_all, only_here = QPushButton("Show all"), QPushButton("Hide all"), QPushButton("Only in image")
        show_all.clicked.connect(lambda: session.update_options(hidden_categories=frozenset()))
        hide_all.clicked.connect(lambda: session.update_options(hidden_categories=frozenset(self.model.ids)))
        only_here.clicked.connect(self._only_here)
        buttons = QHBoxLayout()
        for b in (show_all, hide_all, only_here):
            buttons.addWidget(b)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.search)
        layout.addLayout(buttons)
        layout.addWidget(self.table)

    def _only_here(self) -> None:
        present = set(self.model.here_gt) | set(self.model.here_pred)
        self.session.update_options(hidden_categories=frozenset(c for c in self.model.ids if c not in present))

    def row_of(self, category_id: int) -> int:
        src = self.model.index(self.model.ids.index(category_id), 0)
        return self.proxy.mapFromSource(src).row()
