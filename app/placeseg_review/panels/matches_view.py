"""The matches view: why did this image score as it did?

For the image on screen, at the chosen IoU threshold: every prediction (rank, category, score,
matched ground truth, IoU, official status, the error it makes) and every ground-truth object
(matched prediction and IoU, or missed and why). Selecting a row selects the object and draws
it with its partner on the canvas (ground-truth outline, prediction fill, the rest dimmed);
clicking an object on the canvas selects its row. The bar also walks the images worst first.
Matching columns come from the evaluation's records; the "why" columns from the error
analysis, which runs in a worker (:class:`~placeseg_review.services.error_runner.ErrorAnalysisRunner`).
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from placeseg_core.evaluation.records import Outcome

from ..model.match_rows import (
    GtRow,
    ImageRows,
    PredRow,
    ThresholdColumns,
    gt_row_instances,
    gt_row_labels,
    image_rows,
)
from ..model.render import Selection
from ..services.controller import ReviewController
from ..services.error_runner import ErrorAnalysisRunner
from ..services.jobs import JobFeed
from ..services.session import Pair, ReviewSession
from ..widgets.job_bar import JobBar
from ..widgets.match_tables import ROW_ROLE, GroundTruthTable, PredictionTable, make_table
from .worst_images import WORST_KEYS, ErrorCountColumns, WorstImages

DEFAULT_THRESHOLDS = [0.5 + 0.05 * k for k in range(10)]


class MatchesView(QWidget):
    errorRaised = Signal(str, str)

    def __init__(self, session: ReviewSession, controller: ReviewController, runner: ErrorAnalysisRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.controller, self.runner = session, controller, runner
        self.columns = ErrorCountColumns(session)
        self.worst = WorstImages(session, controller, self.columns, self)
        self.rows: ImageRows | None = None
        self.labels: dict[int, int] = {}  # GT row -> label in the prepared image
        self._threshold_columns: ThresholdColumns | None = None
        self._syncing = False
        self.last_refresh_ms = 0.0

        self.feed = JobFeed.of_runner(runner)
        self.job_bar = JobBar(self.feed, "Analyse", runner.run, lambda: session.evaluation is not None,
                              progress_width=140)
        self.analyse_button, self.cancel_button, self.progress = (
            self.job_bar.run_button, self.job_bar.cancel_button, self.job_bar.progress)
        self.analyse_button.setToolTip("Run the error analysis of the evaluation at the chosen IoU")
        self.headline = QLabel()
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.headline.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.threshold = QComboBox()
        self.threshold.setToolTip("IoU threshold of the matching (shared with the evaluation view)")
        self.threshold.addItems([f"{t:.2f}" for t in DEFAULT_THRESHOLDS])
        self.threshold.currentIndexChanged.connect(lambda i: i >= 0 and session.set_threshold_index(i))
        self.worst_key = QComboBox()
        for key, text in WORST_KEYS:
            self.worst_key.addItem(text, key)
        self.worst_key.setToolTip("Order of 'next worst image'; the image list is sorted by it when it has the column")
        self.worst_key.currentIndexChanged.connect(lambda i: i >= 0 and self.worst.set_key(self.worst_key.itemData(i)))
        self.prev_worst = QToolButton(text="◀")
        self.prev_worst.setToolTip("Previous worst image (Shift+W)")
        self.prev_worst.clicked.connect(lambda: self.worst.step(-1))
        self.next_worst = QToolButton(text="Next worst ▶")
        self.next_worst.setToolTip("Next worst image by the chosen order (W)")
        self.next_worst.clicked.connect(lambda: self.worst.step(1))
        self.only_these = QCheckBox("Only these")
        self.only_these.setToolTip("List only the images with errors of the chosen kind")
        self.only_these.toggled.connect(self.worst.set_only_these)
        self.worst.keyChanged.connect(lambda _k: self._sync_worst())
        bar = QHBoxLayout()
        bar.addWidget(self.job_bar)
        bar.addWidget(self.headline, 1)
        for w in (QLabel("IoU"), self.threshold, QLabel("  Worst first by"), self.worst_key, self.prev_worst,
                  self.next_worst, self.only_these):
            bar.addWidget(w)

        self.pred_model = PredictionTable(self)
        self.gt_model = GroundTruthTable(self)
        self.pred_table = make_table(self.pred_model, (4, 14, 5, 5, 5, 13, 12, 5), 1)
        self.gt_table = make_table(self.gt_model, (5, 4, 12, 7, 6, 5, 13, 30), 7)
        self.pred_title, self.gt_title = QLabel(), QLabel()
        self.pred_table.selectionModel().currentRowChanged.connect(lambda cur, _p: self._on_pred_row(cur))
        self.gt_table.selectionModel().currentRowChanged.connect(lambda cur, _p: self._on_gt_row(cur))
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for title, table in ((self.pred_title, self.pred_table), (self.gt_title, self.gt_table)):
            box = QWidget()
            col = QVBoxLayout(box)
            col.setContentsMargins(0, 0, 0, 0)
            col.addWidget(title)
            col.addWidget(table, 1)
            self.splitter.addWidget(box)
        self.splitter.setSizes([820, 760])
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail.setMinimumHeight(self.fontMetrics().height() * 2 + 8)
        self.detail.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.detail)

        session.imageChanged.connect(lambda _p: self.refresh())
        session.evaluationChanged.connect(self._on_evaluation)
        session.errorAnalysisChanged.connect(lambda _a: self.refresh())
        session.thresholdChanged.connect(self._on_threshold)
        session.selectionChanged.connect(self._on_session_selection)
        session.datasetChanged.connect(self.refresh)
        session.pairViewersChanged.connect(self.update_pair)
        self.feed.runningChanged.connect(lambda _on: self._sync_bar())
        runner.cancelled.connect(self._sync_bar)
        self._on_evaluation(session.evaluation)

    # ----------------------------------------------------------------- state
    def _on_evaluation(self, evaluation: object) -> None:
        self._threshold_columns = ThresholdColumns(evaluation.result.records) if evaluation is not None else None
        self.threshold.blockSignals(True)
        self.threshold.clear()
        thresholds = evaluation.thresholds if evaluation is not None else DEFAULT_THRESHOLDS
        self.threshold.addItems([f"{t:.2f}" for t in thresholds])
        self.threshold.setCurrentIndex(min(self.session.threshold_index, self.threshold.count() - 1))
        self.threshold.blockSignals(False)
        self.refresh()

    def _on_threshold(self, index: int) -> None:
        if self.threshold.currentIndex() != index and index < self.threshold.count():
            self.threshold.blockSignals(True)
            self.threshold.setCurrentIndex(index)
            self.threshold.blockSignals(False)
        self.refresh()

    def _sync_bar(self) -> None:
        running = self.feed.running()
        self.job_bar.sync()
        self.analyse_button.setVisible(not self.runner.current() or running)
        for w in (self.worst_key, self.prev_worst, self.next_worst, self.only_these):
            w.setEnabled(self.session.error_analysis is not None)
        self.headline.setText(self._headline(running))

    def _sync_worst(self) -> None:
        k = self.worst_key.findData(self.worst.key)
        for widget, value in ((self.worst_key, k), (self.only_these, self.worst.only_these)):
            widget.blockSignals(True)
            widget.setCurrentIndex(value) if widget is self.worst_key else widget.setChecked(value)
            widget.blockSignals(False)
        self._sync_bar()

    def _headline(self, running: bool) -> str:
        s = self.session
        if s.evaluation is None:
            return "Evaluate the predictions (Check ▸ Evaluate, Ctrl+E) to see how each one matched"
        rows = self.rows
        if rows is None:
            return "This image was not evaluated" if s.current_id is not None else ""
        tp = sum(r.outcome == Outcome.TP for r in rows.predictions)
        fp = sum(r.outcome in (Outcome.FP, Outcome.FP_ID0) for r in rows.predictions)
        missed = sum(r.status.startswith("missed") for r in rows.ground_truth)
        text = (f"<b>Image {rows.image_id}</b> at IoU {self.threshold.currentText()}: "
                f"<span style='color:#28d250'>{tp} TP</span> · <span style='color:#eb3232'>{fp} FP</span> · "
                f"{missed} missed")
        claimed = sum(r.kind == "claimed" for r in rows.ground_truth)
        if claimed:
            text += f" ({claimed} claimed by an error)"
        a = s.error_analysis
        if rows.explained and a is not None:
            try:
                lost = a.images.row(rows.image_id)["lost_ap"]
                text += f" · fixing it gains {100 * lost:.2f} AP{round(100 * a.iou_threshold)} points"
            except KeyError:
                pass
            pos = self.worst.position()
            if pos is not None:
                text += f" · worst #{pos[0]} of {pos[1]} by {self.worst_key.currentText()}"
        elif running:
            text += " · analysing errors…"
        elif self.runner.was_cancelled:
            text += " · error analysis cancelled"
        return text

    # --------------------------------------------------------------- refresh
    def refresh(self) -> None:
        """Rebuild both tables for the image on screen (keeps the selected object's row)."""
        import time

        t0 = time.perf_counter()
        s = self.session
        image_id = s.image.entry.id if s.image is not None else s.current_id
        ev = s.evaluation
        self.rows = None
        self.labels = {}
        if ev is not None and image_id is not None and ev.evaluated(image_id) and self._threshold_columns is not None:
            t = min(s.threshold_index, ev.result.records.num_thresholds - 1)
            self.rows = image_rows(self._threshold_columns, t, image_id, s.error_analysis)
            if s.image is not None and s.image.entry.id == image_id and s.dataset is not None:
                self.labels = gt_row_labels(s.image, ev)
        names = s.category_names()

        def name(c: int) -> str:
            return names.get(c, str(c))

        self._syncing = True
        self.pred_model.set_rows(self.rows.predictions if self.rows else [], name)
        self.gt_model.set_rows(self.rows.ground_truth if self.rows else [], name, gt_row_instances(s.image, self.labels))
        self._syncing = False
        n_p, n_g = self.pred_model.rowCount(), self.gt_model.rowCount()
        self.pred_title.setText(f"<b>Predictions</b> — {n_p} (scored ones by score)" if self.rows else "<b>Predictions</b>")
        self.gt_title.setText(f"<b>Ground truth</b> — {n_g}" if self.rows else "<b>Ground truth</b>")
        self._sync_bar()
        self._on_session_selection(s.selection)
        self.last_refresh_ms = (time.perf_counter() - t0) * 1000

    # ------------------------------------------------------------- selection
    def update_pair(self, *_args: object) -> None:
        """Draw the selected row's pair, or none when no analysis view is on screen."""
        self._show_pair(self.current_row())

    def select_prediction(self, index: int) -> bool:
        row = self.pred_model.row_of(index)
        if row >= 0:
            self.pred_table.setCurrentIndex(self.pred_model.index(row, 0))
        return row >= 0

    def select_ground_truth(self, gt_row: int) -> bool:
        row = self.gt_model.row_of_gt(gt_row)
        if row >= 0:
            self.gt_table.setCurrentIndex(self.gt_model.index(row, 0))
        return row >= 0

    def _on_pred_row(self, current: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        row: PredRow = current.data(ROW_ROLE)
        self._clear(self.gt_table)
        self._select(Selection("pred", row.index), row)

    def _on_gt_row(self, current: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        row: GtRow = current.data(ROW_ROLE)
        self._clear(self.pred_table)
        label = self.labels.get(row.row)
        self._select(Selection("gt", label) if label is not None else None, row)

    def _select(self, selection: Selection | None, row: PredRow | GtRow) -> None:
        self._syncing = True
        try:
            self.session.select(selection)
            self._show_pair(row)
        finally:
            self._syncing = False

    def _pair_of(self, row: PredRow | GtRow) -> Pair | None:
        if self.rows is None:
            return None
        if isinstance(row, PredRow):
            gt = self.labels.get(row.partner_row) if row.partner_row is not None else None
            return Pair(self.rows.image_id, row.index, gt)
        return Pair(self.rows.image_id, row.partner_pred, self.labels.get(row.row))

    def _show_pair(self, row: PredRow | GtRow | None) -> None:
        self.detail.setText(self._describe(row))
        self.session.set_pair(self._pair_of(row) if row is not None and self.session.pairs_shown else None)
        pred_partner = row.partner_pred if isinstance(row, GtRow) else None
        gt_partner = row.partner_row if isinstance(row, PredRow) else None
        for model, table, key in ((self.pred_model, self.pred_table, pred_partner),
                                  (self.gt_model, self.gt_table, gt_partner)):
            k = model.set_partner(key)
            if k >= 0:  # once the table has laid out its new rows
                QTimer.singleShot(0, self, lambda t=table, m=model, k=k: k < m.rowCount() and t.scrollTo(m.index(k, 0)))

    def _describe(self, row: PredRow | GtRow | None) -> str:
        if row is None:
            return ("<span style='color:#9aa0a6'>Select a row (or click an object on the canvas): it is drawn with "
                    "its partner — ground truth outlined in cyan, prediction filled in amber.</span>")
        names = self.session.category_names()
        if isinstance(row, PredRow):
            head = (f"<b>Prediction #{row.index}</b> ({escape(names.get(row.category_id, str(row.category_id)))}, "
                    f"score {row.score:.3f}): {escape(row.status)}")
        else:
            inst = self.gt_model.instances.get(row.row)
            inst_text = f", instance {inst}" if inst is not None else ""
            head = (f"<b>Ground truth {row.gt_id}</b> ({escape(names.get(row.category_id, str(row.category_id)))}"
                    f"{inst_text}, {row.area:,.0f} px): {escape(row.status)}")
        partner = ""
        if isinstance(row, PredRow) and row.partner_row is not None and self.rows is not None:
            gt_id = next((g.gt_id for g in self.rows.ground_truth if g.row == row.partner_row), None)
            partner = f"drawn with ground truth {gt_id} (cyan outline)" if gt_id is not None else ""
        elif isinstance(row, GtRow) and row.partner_pred is not None:
            partner = f"drawn with prediction #{row.partner_pred} (amber fill)"
        if partner:
            head += f" <span style='color:#9aa0a6'>· {partner}</span>"
        why = row.why if row.why else ("analysing…" if self.runner.running() else "")
        return f"{head}<br>{escape(why)}" if why else head

    def _on_session_selection(self, sel: Selection | None) -> None:
        """The canvas (or anything) selected an object: select its row and draw its pair."""
        if self._syncing:
            return
        self._syncing = True
        try:
            row = None
            if sel is not None and sel.kind == "pred":
                k = self.pred_model.row_of(sel.key)
                self._set_current(self.pred_table, k)
                self._clear(self.gt_table)
                row = self.pred_model.rows[k] if k >= 0 else None
            elif sel is not None and sel.kind == "gt":
                gt_row = next((g for g, label in self.labels.items() if label == sel.key), None)
                k = self.gt_model.row_of_gt(gt_row) if gt_row is not None else -1
                self._set_current(self.gt_table, k)
                self._clear(self.pred_table)
                row = self.gt_model.rows[k] if k >= 0 else None
            else:
                self._clear(self.pred_table)
                self._clear(self.gt_table)
            self._show_pair(row)
        finally:
            self._syncing = False

    @staticmethod
    def _set_current(table: QTableView, row: int) -> None:
        if row < 0:
            table.selectionModel().clear()
            return
        index = table.model().index(row, 0)
        table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
        table.scrollTo(index)

    @staticmethod
    def _clear(table: QTableView) -> None:
        table.selectionModel().clear()

    def current_row(self) -> PredRow | GtRow | None:
        for table in (self.pred_table, self.gt_table):
            index = table.currentIndex()
            if index.isValid() and table.selectionModel().isSelected(index):
                return index.data(ROW_ROLE)
        return None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        self.session.set_pair_viewer("matches", True)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt override
        super().hideEvent(event)
        self.session.set_pair_viewer("matches", False)
