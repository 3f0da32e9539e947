"""The inspector: tables of the current image's ground-truth instances and predictions.

Selecting a row selects that object in the session (the canvas highlights it); a selection
made elsewhere (a canvas click) selects and reveals the row here.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelectionModel,
    QModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..model.match_rows import label_gt_ids
from ..model.overlay import visible_predictions
from ..model.prepared import PreparedImage
from ..model.render import Selection, gt_colours, pred_colours
from ..services.session import ReviewSession

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
_DIM = QColor(130, 130, 130)


class _ObjectModel(QStandardItemModel):
    """Rows of one image, held in Qt's own items.

    A Python ``QAbstractTableModel`` is asked for every role of every visible cell on each
    repaint, each call needing the GIL -- which a worker preparing the next image holds (about
    13 ms per image switch in benchmarks/gui_switch.py, more while prefetching). The items are
    filled once per image; painting them runs no Python at all.
    """

    kind = ""
    columns: tuple[str, ...] = ()
    tips: tuple[str, ...] = ()

    def __init__(self, session: ReviewSession) -> None:
        super().__init__(0, len(self.columns))
        self.session = session
        self.rows: list[tuple] = []  # (key, colour, *cells)
        self.dim: set[int] = set()  # rows drawn greyed out (filtered out of the canvas)
        self.row_tips: dict[int, str] = {}  # row -> tooltip (why it is not drawn)
        # header texts and cells are set through the model, never as QStandardItem objects made
        # in Python: PySide then owns a wrapper that the model's deletion of the item (on the
        # next image) tears down a second time -- a crash seen on the third re-evaluation
        for column, name in enumerate(self.columns):
            self.setHeaderData(column, Qt.Orientation.Horizontal, name, Qt.ItemDataRole.DisplayRole)
            if column < len(self.tips):
                self.setHeaderData(column, Qt.Orientation.Horizontal, self.tips[column], Qt.ItemDataRole.ToolTipRole)

    def set_image(self, prep: PreparedImage | None) -> None:
        self.rows = self._rows(prep) if prep is not None else []
        self.dim = set()
        # rows removed and added with their signals; the items are then written silently and
        # announced with one dataChanged instead of a signal per item
        self.removeRows(0, self.rowCount())
        self.insertRows(0, len(self.rows))
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        blocked = self.blockSignals(True)
        try:
            # one call per cell with all its roles: a switch to an image with 100 predictions
            # made 1,200 calls into Qt here, the inspector's half of showing an image
            for r, row in enumerate(self.rows):
                tip = self.row_tips.get(r)
                for c, value in enumerate(row[2:]):
                    roles: dict[int, object] = {Qt.ItemDataRole.DisplayRole: value, KEY_ROLE: row[0]}
                    if isinstance(value, (int, float)):
                        roles[Qt.ItemDataRole.TextAlignmentRole] = right
                    if tip:
                        roles[Qt.ItemDataRole.ToolTipRole] = tip
                    if c == 0:
                        roles[Qt.ItemDataRole.DecorationRole] = QColor(*row[1])
                    self.setItemData(self.index(r, c), roles)
        finally:
            self.blockSignals(blocked)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(self.columns) - 1))

    def _rows(self, prep: PreparedImage) -> list[tuple]:
        raise NotImplementedError

    def set_dim(self, dim: set[int]) -> None:
        """Grey out these rows (only the rows that change are touched)."""
        for r in dim ^ self.dim:
            colour = _DIM if r in dim else None
            for c in range(len(self.columns)):
                self.setData(self.index(r, c), colour, Qt.ItemDataRole.ForegroundRole)
        self.dim = dim

    def row_of(self, key: int) -> int:
        for r, row in enumerate(self.rows):
            if row[0] == key:
                return r
        return -1


GT_ID_COLUMN = 1  # GtModel's "GT id"


class GtModel(_ObjectModel):
    kind = "gt"
    columns = ("Inst", "GT id", "Category", "Area", "Box x, y, w, h")
    tips = ("instance id in the annotation (the green value of a challenge-layout PNG; a COCO file's annotation id)",
            "annotation id as the evaluation numbers them (the matches view's 'GT id'); shown after an evaluation",
            "category (id)", "area in pixels", "bounding box in pixels")

    def _rows(self, prep: PreparedImage) -> list[tuple]:
        if prep.gt is None:
            return []
        names = self.session.category_names()
        colours = gt_colours(prep, self.session.options.colour_mode, self.session.options.gt_status)
        ids = self._gt_ids(prep)
        return [(i.label, colours[i.label], i.instance_id, ids.get(i.label, ""),
                 f"{names.get(i.category_id, '?')} ({i.category_id})",
                 i.area, "{}, {}, {}, {}".format(*i.bbox)) for i in prep.gt.instances]

    def _gt_ids(self, prep: PreparedImage) -> dict[int, int]:
        ev, ds = self.session.evaluation, self.session.dataset
        if ev is None or ds is None or not ev.evaluated(prep.entry.id):
            return {}
        return label_gt_ids(prep, ev)

    def update_dim(self) -> None:
        prep, hidden = self.session.image, self.session.options.hidden_categories
        if prep is None or prep.gt is None:
            return
        self.set_dim({r for r, i in enumerate(prep.gt.instances) if i.category_id in hidden})


class PredModel(GtModel):
    kind = "pred"
    columns = ("#", "Category", "Score", "Area")
    tips = ("position in the predictions file", "predicted category (id)", "score",
            "mask area in pixels ('not drawn': its RLE size is not the image's)")

    def _rows(self, prep: PreparedImage) -> list[tuple]:
        p = prep.preds
        self.row_tips = {}
        if p is None:
            return []
        names = self.session.category_names()
        colours = pred_colours(prep, self.session.options.colour_mode, self.session.options.pred_status)
        rows = [(int(p.indices[k]), tuple(int(c) for c in colours[k]), int(p.indices[k]),
                 f"{names.get(int(p.category_ids[k]), '?')} ({int(p.category_ids[k])})",
                 f"{float(p.scores[k]):.3f}", int(p.areas[k])) for k in range(len(p))]
        h, w = prep.shape
        for index, category_id, score, size in p.mismatched:  # listed greyed after the drawn ones
            self.row_tips[len(rows)] = (f"size mismatch: not drawn — its RLE is {size[0]}×{size[1]} (H×W), "
                                        f"the image is {h}×{w}")
            rows.append((index, _DIM.getRgb()[:3], index, f"{names.get(category_id, '?')} ({category_id})",
                         f"{score:.3f}", "not drawn"))
        return rows

    def update_dim(self) -> None:
        prep, o = self.session.image, self.session.options
        if prep is None or prep.preds is None:
            return
        shown = set(visible_predictions(prep.preds.scores, prep.preds.category_ids, o.score_threshold,
                                        o.top_k, o.hidden_categories).tolist())
        self.set_dim(set(range(len(self.rows))) - shown)


def _table(model: QAbstractItemModel, widths: tuple[int, ...], stretch: int) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(22)
    view.setAlternatingRowColors(True)
    header = view.horizontalHeader()
    # Fixed widths: sizing to contents would query every cell of every row on each image switch.
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)  # the category name takes the rest
    for column, chars in enumerate(widths):
        view.setColumnWidth(column, view.fontMetrics().horizontalAdvance("0") * chars + 16)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return view


class InspectorPanel(QWidget):
    def __init__(self, session: ReviewSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.gt_model, self.pred_model = GtModel(session), PredModel(session)
        self.gt_table = _table(self.gt_model, (4, 5, 16, 6, 15), 2)
        self.pred_table = _table(self.pred_model, (7, 16, 6, 6), 1)
        self.gt_title, self.pred_title = QLabel("Ground truth"), QLabel("Predictions")
        splitter = QSplitter(Qt.Orientation.Vertical)
        for title, table in ((self.gt_title, self.gt_table), (self.pred_title, self.pred_table)):
            box = QWidget()
            lay = QVBoxLayout(box)
            lay.setContentsMargins(0, 0, 0, 0)
            lay.addWidget(title)
            lay.addWidget(table)
            splitter.addWidget(box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(splitter)
        self._syncing = False
        self._colour_mode = (session.options.colour_mode, session.options.pred_status, session.options.gt_status)
        for table, kind in ((self.gt_table, "gt"), (self.pred_table, "pred")):
            table.selectionModel().currentRowChanged.connect(
                lambda cur, _prev, t=table, k=kind: self._on_row(t, k, cur))
        session.imageChanged.connect(self._on_image)
        session.evaluationChanged.connect(self._on_evaluation)
        self._on_evaluation(session.evaluation)
        session.optionsChanged.connect(self._on_options)
        session.selectionChanged.connect(self._on_selection)

    def _on_image(self, prep: PreparedImage | None) -> None:
        self._syncing = True
        self.gt_model.set_image(prep)
        self.pred_model.set_image(prep)
        self.gt_model.update_dim()
        self.pred_model.update_dim()
        self._syncing = False
        self._update_titles()

    def _update_titles(self) -> None:
        prep = self.session.image
        n_gt, n_pred = self.gt_model.rowCount(), self.pred_model.rowCount()
        self.gt_title.setText(f"Ground truth — {n_gt} instance{'s' * (n_gt != 1)}")
        shown = n_pred - len(self.pred_model.dim)
        lost = len(prep.preds.mismatched) if prep is not None and prep.preds is not None else 0
        lost_text = f", {lost} not drawn: size mismatch" if lost else ""
        self.pred_title.setText(f"Predictions — {n_pred} ({shown} shown{lost_text})"
                                if prep is not None and prep.preds is not None else "Predictions — none loaded")

    def _on_evaluation(self, evaluation: object) -> None:
        """The "GT id" column (the evaluation's annotation ids) exists only with an evaluation:
        an empty column before it would only puzzle."""
        self.gt_table.setColumnHidden(GT_ID_COLUMN, evaluation is None)
        self._rebuild()

    def _rebuild(self) -> None:
        self._on_image(self.session.image)
        self._on_selection(self.session.selection)

    def _on_options(self, opts: object) -> None:
        if (opts.colour_mode, opts.pred_status, opts.gt_status) != self._colour_mode:  # swatches change: rebuild the rows
            self._colour_mode = (opts.colour_mode, opts.pred_status, opts.gt_status)
            self._rebuild()
            return
        self.gt_model.update_dim()  # filters only grey rows out; selection and scroll stay
        self.pred_model.update_dim()
        self._update_titles()

    def _on_row(self, table: QTableView, kind: str, current: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        self.session.select(Selection(kind, int(table.model().data(current, KEY_ROLE))))

    def _on_selection(self, sel: Selection | None) -> None:
        self._syncing = True
        for table, model in ((self.gt_table, self.gt_model), (self.pred_table, self.pred_model)):
            row = model.row_of(sel.key) if sel is not None and sel.kind == model.kind else -1
            sm = table.selectionModel()
            if row < 0:
                sm.clearSelection()
                sm.setCurrentIndex(QModelIndex(), QItemSelectionModel.SelectionFlag.NoUpdate)
            else:
                index = model.index(row, 0)
                sm.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                   | QItemSelectionModel.SelectionFlag.Rows)
                table.scrollTo(index)
        self._syncing = False

    def selected_row(self, kind: str) -> int:
        table = self.gt_table if kind == "gt" else self.pred_table
        rows = table.selectionModel().selectedRows()
        return rows[0].row() if rows else -1
