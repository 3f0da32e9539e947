"""Table models of the evaluation view: the 12 summary numbers, the per-category table, and
the TP / FP / FN columns it adds to the image list.

Numbers are shown with 3 decimals (pycocotools' summary format; the tooltip has every digit);
an undefined number (no ground truth in that setting) shows as "–" and sorts last.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor

from placeseg_core.evaluation import VARIANT_README_RULE

from ..model.evaluation import Evaluation, ImageCounts, image_counts
from ..model.overlay import category_overlay_colour
from ..services.exporters import category_rows
from ..services.image_table import ColumnSource, positions_in
from ..services.session import ReviewSession

ModelIndex = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
CAT_ROLE = Qt.ItemDataRole.UserRole + 2
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_DIM = QColor(128, 132, 138)

# key of result.summary -> (label, setting); maxDets filled in from the parameters
SUMMARY_ROWS = (
    ("AP", "AP", "0.50:0.95 · all · {m2}"),
    ("AP50", "AP50", "0.50 · all · {m2}"),
    ("AP75", "AP75", "0.75 · all · {m2}"),
    ("APs", "AP small", "0.50:0.95 · small · {m2}"),
    ("APm", "AP medium", "0.50:0.95 · medium · {m2}"),
    ("APl", "AP large", "0.50:0.95 · large · {m2}"),
    ("AR{m0}", "AR{m0}", "0.50:0.95 · all · {m0}"),
    ("AR{m1}", "AR{m1}", "0.50:0.95 · all · {m1}"),
    ("AR{m2}", "AR{m2}", "0.50:0.95 · all · {m2}"),
    ("ARs", "AR small", "0.50:0.95 · small · {m2}"),
    ("ARm", "AR medium", "0.50:0.95 · medium · {m2}"),
    ("ARl", "AR large", "0.50:0.95 · large · {m2}"),
)


def fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def full(value: float | None) -> str:
    return "undefined (no ground truth in this setting)" if value is None else repr(float(value))


class SummaryModel(QAbstractTableModel):
    """Rows: the 12 numbers. Columns: name, setting, official; README rule when it differs."""

    def __init__(self) -> None:
        super().__init__()
        self.evaluation: Evaluation | None = None
        self.rows: list[tuple[str, str, str]] = []  # (summary key, label, setting)
        self.show_readme = False

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        self.beginResetModel()
        self.evaluation = evaluation
        self.rows = []
        self.show_readme = False
        if evaluation is not None:
            m = dict(zip(("m0", "m1", "m2"), evaluation.result.params.max_dets, strict=False))
            self.rows = [(k.format(**m), label.format(**m), setting.format(**m)) for k, label, setting in SUMMARY_ROWS]
            self.show_readme = evaluation.result.changed_by(VARIANT_README_RULE)
        self.endResetModel()

    def columns(self) -> tuple[str, ...]:
        return ("Metric", "IoU · area · maxDets", "Official") + (("README rule",) if self.show_readme else ())

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns())

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns()[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            return ("", "IoU thresholds · area range · maxDets",
                    "as the challenge's evaluator scores the file (maxDets per image and category)",
                    "keeping each image's 255 best predictions, as the challenge text demands")[section]
        return None

    def value(self, row: int, column: int) -> float | None:
        ev = self.evaluation
        assert ev is not None
        key = self.rows[row][0]
        if column == 2:
            return ev.result.summary.get(key)
        return ev.result.variants[VARIANT_README_RULE].summary.get(key)

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or self.evaluation is None:
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col < 2:
                return self.rows[row][1 + col]
            return fmt(self.value(row, col))
        if role == Qt.ItemDataRole.ToolTipRole and col >= 2:
            return full(self.value(row, col))
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 2:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and col == 1:
            return _DIM
        return None


CATEGORY_COLUMNS = ("Category", "GT", "Preds", "AP", "AP50", "AP75")
CATEGORY_TIPS = ("name (id)", "ground-truth instances", "predictions in the file",
                 "AP at IoU 0.50:0.95 (all areas, maxDets 255)", "AP at IoU 0.50", "AP at IoU 0.75")


class CategoryTableModel(QAbstractTableModel):
    """One row per category of the ground truth: name, GT count, predictions, AP, AP50, AP75."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[tuple] = []

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        self.beginResetModel()
        self.rows = category_rows(evaluation) if evaluation is not None else []
        self.endResetModel()

    def row_of(self, category_id: int) -> int:
        for r, row in enumerate(self.rows):
            if row[0] == category_id:
                return r
        return -1

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(CATEGORY_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return CATEGORY_COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole:
                return CATEGORY_TIPS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        cid, name, n_gt, n_pred, *aps = self.rows[index.row()]
        col = index.column()
        if role == CAT_ROLE:
            return cid
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return f"{name} ({cid})"
            if col in (1, 2):
                return (n_gt, n_pred)[col - 1]
            return fmt(aps[col - 3])
        if role == SORT_ROLE:
            if col == 0:
                return name.lower()
            if col in (1, 2):
                return (n_gt, n_pred)[col - 1]
            value = aps[col - 3]
            return -1.0 if value is None else value
        if role == Qt.ItemDataRole.DecorationRole and col == 0:
            return QColor(*category_overlay_colour(cid))
        if role == Qt.ItemDataRole.TextAlignmentRole and col > 0:
            return _RIGHT
        if role == Qt.ItemDataRole.ToolTipRole and col >= 3:
            return full(aps[col - 3])
        if role == Qt.ItemDataRole.ForegroundRole and (n_gt == 0 or (col >= 3 and aps[col - 3] is None)):
            return _DIM
        return None


class CategoryFilterProxy(QSortFilterProxyModel):
    def __init__(self) -> None:
        super().__init__()
        self.setSortRole(SORT_ROLE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(0)


class MatchCountColumns(ColumnSource):
    """TP / FP / FN per image at the chosen threshold (of the chosen categories, if any)."""

    headers = ("TP", "FP", "FN")
    tips = ("true positives at the chosen IoU threshold (chosen categories, if any)",
            "false positives (a match with ground-truth id 0 included, as pycocotools counts it)",
            "ground truth missed (not matched, not ignored)")
    chars = (3, 3, 3)

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self.counts: ImageCounts | None = None
        for signal in (session.evaluationChanged, session.thresholdChanged, session.focusChanged):
            signal.connect(self.refresh)

    def refresh(self, *_args: object) -> None:
        ev = self.session.evaluation
        was = self.active
        if ev is None:
            self.counts = None
        else:
            cats = self.session.focus_categories or None
            self.counts = image_counts(ev.result.records, ev.outcomes, self.session.threshold_index, cats)
        self.active = self.counts is not None
        if self.active != was:
            self.activeChanged.emit(self.active)
        elif self.active:
            self.changed.emit()

    def value(self, image_id: int, column: int) -> int | None:
        return self.values(np.array([image_id], dtype=np.int64), column)[0]

    def values(self, image_ids: np.ndarray, column: int) -> list[int | None]:
        """None for an image not evaluated; 0 for one evaluated without such outcomes."""
        ev, c = self.session.evaluation, self.counts
        if c is None or ev is None:
            return [None] * len(image_ids)
        evaluated = np.isin(image_ids, ev.image_ids)
        counts = (c.tp, c.fp, c.fn)[column]
        found, k = positions_in(c.image_ids, image_ids)
        got = np.where(found, counts[k] if len(counts) else 0, 0)
        return [int(v) if e else None for v, e in zip(got.tolist(), evaluated.tolist(), strict=True)]

