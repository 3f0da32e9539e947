"""The Compare view: the open predictions (A) against a second file (B).

Both official summaries with the difference, and with the bootstrap its 95% interval and how
often B beat A; a sortable per-category table of AP A, AP B and Δ (with a bar per row); the
images ranked by how much they changed. Every row jumps to its image (a category's: the image
with most of its objects found by one file only). The numbers are those ``placeseg compare
--json`` writes (one computation, ``placeseg_core.compare``).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..model.comparison import category_rows, image_rows, summary_rows
from ..services.compare_runner import CompareRunner
from ..services.controller import ReviewController
from ..services.jobs import JobFeed
from ..services.session import ComparisonState, ReviewSession
from ..widgets.job_bar import JobBar

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
IMAGE_ROLE = Qt.ItemDataRole.UserRole + 2
GAIN, LOSS = QColor(40, 190, 90), QColor(225, 70, 70)


def fmt(value: float | None, signed: bool = False) -> str:
    return "–" if value is None else (f"{value:+.3f}" if signed else f"{value:.3f}")


class _Item(QTableWidgetItem):
    """A cell that sorts by its number (undefined last), not by its text."""

    def __init__(self, text: str, key: float | None = None, right: bool = True) -> None:
        super().__init__(text)
        self.setData(SORT_ROLE, key)
        if right:
            self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(SORT_ROLE), other.data(SORT_ROLE)
        a = float("-inf") if a is None else a
        b = float("-inf") if b is None else b
        return self.text() < other.text() if a == b else a < b


class DeltaBar(QStyledItemDelegate):
    """Δ drawn as a bar from the middle of the cell: right and green for a gain, left and red for a loss."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale = 1.0  # the largest |Δ| of the table

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        value = index.data(SORT_ROLE)
        if isinstance(value, float) and self.scale > 0:  # in the right half; the number on the left
            r = option.rect.adjusted(option.rect.width() // 2, 4, -2, -4)
            mid = r.left() + r.width() // 2
            w = int(abs(value) / self.scale * (r.width() // 2))
            bar = QRect(mid, r.top(), w, r.height()) if value >= 0 else QRect(mid - w, r.top(), w, r.height())
            painter.fillRect(bar, GAIN if value >= 0 else LOSS)
        super().paint(painter, option, index)


def _table(headers: list[str]) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setHorizontalHeaderLabels(headers)
    t.verticalHeader().setVisible(False)
    t.verticalHeader().setDefaultSectionSize(t.fontMetrics().height() + 6)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setAlternatingRowColors(True)
    # compact fixed widths (numbers are 0.000 or a few digits): the three tables share the row
    # from 1024 px up; the first column (names) takes what is left
    header = t.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setMinimumSectionSize(24)
    digit = t.fontMetrics().horizontalAdvance("0")
    for col, name in enumerate(headers):
        t.setColumnWidth(col, max(t.fontMetrics().horizontalAdvance(name), digit * 6) + 14)
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    header.setStretchLastSection(False)
    return t


class CompareView(QWidget):
    errorRaised = Signal(str, str)

    def __init__(self, session: ReviewSession, controller: ReviewController, runner: CompareRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.controller, self.runner = session, controller, runner
        self.feed = JobFeed.of_runner(runner)
        self.job_bar = JobBar(self.feed, "Compare", runner.run, runner.can_run, progress_width=140)
        self.open_button = QPushButton("Open B…")
        self.open_button.setToolTip("Choose the predictions file to compare with the open one")
        self.open_button.clicked.connect(self.ask_b)
        self.resamples = QSpinBox(minimum=100, maximum=100_000, singleStep=100, value=runner.resamples)
        self.resamples.setToolTip("Resamples of the paired bootstrap (images drawn with replacement)")
        self.bootstrap_button = QPushButton("Bootstrap")
        self.bootstrap_button.setToolTip("A 95% interval for each mean AP and for the difference, and how often B beats A")
        self.bootstrap_button.clicked.connect(self._bootstrap)
        self.show_b = QCheckBox("Photo shows B (X)")
        self.show_b.setToolTip("Draw B's predictions on the photo instead of A's (X flips between them)")
        self.show_b.toggled.connect(self._draw_b)
        self.colour_found = QCheckBox("Colour objects by who found them")
        self.colour_found.setToolTip("Ground truth at IoU 0.50: green both, amber A only, blue B only, red neither")
        self.colour_found.toggled.connect(self._colour_found)
        self.files = QLabel("No second file — File ▸ Open predictions to compare")
        self.headline = QLabel()
        self.headline.setWordWrap(True)
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bar = QHBoxLayout()
        for w in (self.open_button, self.job_bar, QLabel("Resamples"), self.resamples, self.bootstrap_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.show_b)
        bar.addWidget(self.colour_found)

        self.summary = _table(["Metric", "A", "B", "Δ"])
        self.categories = _table(["Category", "AP A", "AP B", "Δ"])
        self.delta_bar = DeltaBar(self.categories)
        self.categories.setItemDelegateForColumn(3, self.delta_bar)
        self.categories.setColumnWidth(3, self.categories.fontMetrics().horizontalAdvance("0") * 16)
        self.categories.setSortingEnabled(True)
        self.images = _table(["Image", "TP A", "FP A", "FN A", "TP B", "FP B", "FN B", "Change"])
        self.images.setSortingEnabled(True)
        images_header = self.images.horizontalHeader()  # ids and counts: no column needs the slack
        images_header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        images_header.setStretchLastSection(True)
        for table in (self.categories, self.images):
            table.itemActivated.connect(self._jump)
            table.currentItemChanged.connect(lambda cur, _prev: cur is not None and self._jump(cur))
        splitter = QSplitter(Qt.Orientation.Horizontal)
        for w in (self.summary, self.categories, self.images):
            splitter.addWidget(w)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 4)
        splitter.setStretchFactor(2, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.files)
        layout.addWidget(self.headline)
        layout.addWidget(splitter, 1)

        session.comparisonChanged.connect(self.show_comparison)
        self.feed.runningChanged.connect(lambda _on: self._sync())
        runner.failed.connect(lambda msg: self.errorRaised.emit("Cannot compare", msg))
        self.show_comparison(session.comparison)

    def ask_b(self) -> None:
        start = str(self.session.predictions.path.parent) if self.session.predictions and self.session.predictions.path else ""
        path, _ = QFileDialog.getOpenFileName(self, "Predictions to compare (B)", start, "JSON files (*.json)")
        if path:
            self.runner.open_b(path)

    def _bootstrap(self) -> None:
        self.runner.resamples = self.resamples.value()
        self.runner.bootstrap()

    def flip(self) -> None:
        """A or B on the photo (the X key)."""
        if self.show_b.isEnabled():
            self.show_b.toggle()

    def _draw_b(self, on: bool) -> None:
        state = self.session.comparison
        if on and state is not None:
            self.session.update_options(pred_status=None)  # A's match colours say nothing of B
        self.controller.draw_predictions_of(state.b if on and state is not None else None)
        self.controller.message.emit(f"The photo shows {'B' if on else 'A'}'s predictions"
                                     + (f" ({state.name_b if on else state.name_a})" if state is not None else ""))

    def _colour_found(self, on: bool) -> None:
        state = self.session.comparison
        self.session.update_options(gt_status=state.found if on and state is not None else None)

    def _sync(self) -> None:
        self.job_bar.sync()
        busy = self.feed.running()
        has = self.session.comparison is not None
        self.bootstrap_button.setEnabled(not busy and has)
        for box in (self.show_b, self.colour_found):
            box.setEnabled(has)

    def show_comparison(self, state: ComparisonState | None) -> None:
        self._sync()
        if state is None:  # nothing to draw or colour by any more
            for box in (self.show_b, self.colour_found):
                box.setChecked(False)
        else:  # a new comparison (a bootstrap, another B): the boxes apply to it
            if self.show_b.isChecked():
                self._draw_b(True)
            self._colour_found(self.colour_found.isChecked())
        for table in (self.summary, self.categories, self.images):
            table.setSortingEnabled(False)
            table.setRowCount(0)
        if state is None:
            self.files.setText("No second file — File ▸ Open predictions to compare"
                               if self.runner.b_path is None else f"B: {self.runner.b_path.name} — comparing…")
            self.headline.clear()
            return
        c = state.comparison
        self.files.setText(f"<b>A</b> {state.name_a} · <b>B</b> {state.name_b}")
        self.headline.setText(headline(state))
        for r, row in enumerate(summary_rows(c)):
            self._put(self.summary, r, [(row.label, None), (fmt(row.a), row.a), (fmt(row.b), row.b),
                                        (fmt(row.delta, True), row.delta)])
        cats = category_rows(c)
        self.delta_bar.scale = max((abs(r.delta) for r in cats if r.delta is not None), default=0.0)
        for r, cat in enumerate(cats):
            self._put(self.categories, r, [(cat.name, None), (fmt(cat.a), cat.a), (fmt(cat.b), cat.b),
                                           (fmt(cat.delta, True), cat.delta)], cat.image_id)
            self.categories.item(r, 3).setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for r, img in enumerate(image_rows(c)):
            values = (img.tp_a, img.fp_a, img.fn_a, img.tp_b, img.fp_b, img.fn_b, img.change)
            self._put(self.images, r, [(str(img.image_id), float(img.image_id))]
                      + [(str(v), float(v)) for v in values], img.image_id)
        self.categories.setSortingEnabled(True)
        self.categories.sortItems(3, Qt.SortOrder.DescendingOrder)
        self.images.setSortingEnabled(True)
        self.images.sortItems(7, Qt.SortOrder.DescendingOrder)

    @staticmethod
    def _put(table: QTableWidget, row: int, cells: list[tuple[str, float | None]], image_id: int | None = None) -> None:
        if table.rowCount() <= row:
            table.setRowCount(row + 1)
        for col, (text, key) in enumerate(cells):
            item = _Item(text, key, right=col > 0)
            if image_id is not None:
                item.setData(IMAGE_ROLE, image_id)
                item.setToolTip(f"Double-click: show image {image_id}")
            table.setItem(row, col, item)

    def _jump(self, item: QTableWidgetItem) -> None:
        image_id = item.data(IMAGE_ROLE)
        if isinstance(image_id, int):
            self.controller.go_to(image_id)


def headline(state: ComparisonState) -> str:
    """Mean AP of both and the difference; with the bootstrap its interval and B's share of wins."""
    c = state.comparison
    text = f"mean AP: A {fmt(c.a.mean_ap)} → B {fmt(c.b.mean_ap)} (Δ {fmt(c.mean_ap_delta, True)})"
    boot = c.bootstrap
    if boot is not None:
        ci = boot.ci95
        parts = [f"{k} [{lo:.3f}, {hi:.3f}]" for k, v in (("A", ci["a"]), ("B", ci["b"]), ("Δ", ci["delta"]))
                 if v is not None for lo, hi in (v,)]
        text += (f" · 95% intervals over {boot.resamples} paired resamples (seed {boot.seed}): "
                 f"{', '.join(parts)} · B better in {boot.b_better:.0%} of them")
    m = c.matches
    text += (f"<br>objects at IoU {m.iou:.2f}: found by both {m.both}, A only {m.a_only}, "
             f"B only {m.b_only}, neither {m.neither}")
    return text
