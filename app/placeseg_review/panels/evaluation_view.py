"""The evaluation view: the official score of the open predictions, by category, with plots.

Runs the fast engine in a worker (progress bar, cancel). Shows the 12 summary numbers (the
README rule's beside them when they differ) with the quirk notes, a sortable per-category
table, PR curves and AP against IoU. Choosing categories in the table filters the image list
to the images holding them and the canvas to them; the canvas can colour predictions by match
status at the chosen IoU threshold, and the image list gains TP / FP / FN columns.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from placeseg_core.errors import InputError
from placeseg_core.evaluation.records import Outcome

from ..model.evaluation import (
    OUTCOME_COLOURS,
    OUTCOME_LABELS,
    Evaluation,
)
from ..model.render import PredStatus
from ..services.checks import EVALUATE, AnalysisController
from ..services.controller import ReviewController
from ..services.exporters import write_category_csv, write_png, write_results_json
from ..services.jobs import JobFeed
from ..services.session import ReviewSession
from ..widgets.eval_tables import (
    CAT_ROLE,
    CategoryFilterProxy,
    CategoryTableModel,
    MatchCountColumns,
    SummaryModel,
)
from ..widgets.job_bar import JobBar
from ..widgets.pr_plot import PlotsPanel


def _swatch(code: Outcome, text: str) -> QLabel:
    r, g, b = OUTCOME_COLOURS[code]
    label = QLabel(f"<span style='color:rgb({r},{g},{b}); font-size:13pt'>■</span> {text}")
    label.setToolTip(OUTCOME_LABELS[code])
    return label


class EvaluationView(QWidget):
    errorRaised = Signal(str, str)

    def __init__(self, session: ReviewSession, analysis: AnalysisController, controller: ReviewController,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.analysis, self.controller = session, analysis, controller
        self._was_cancelled = False
        self.columns = MatchCountColumns(session)

        self.feed = JobFeed.of_checks(analysis, EVALUATE)
        self.job_bar = JobBar(self.feed, "Evaluate", analysis.evaluate, analysis.can_evaluate,
                              progress_width=180, show_percent=True)
        self.run_button, self.cancel_button, self.progress = (
            self.job_bar.run_button, self.job_bar.cancel_button, self.job_bar.progress)
        self.run_button.setToolTip("Score the open predictions as the challenge does (fast engine)")
        self.headline = QLabel()
        self.headline.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.threshold = QComboBox()
        self.threshold.setToolTip("IoU threshold of the PR curves, the match colours and the TP / FP / FN columns")
        self.threshold.currentIndexChanged.connect(lambda i: i >= 0 and session.set_threshold_index(i))
        self.colour_by_match = QCheckBox("Colour predictions by match")
        self.colour_by_match.setToolTip("On the canvas: true positives green, false positives red, ignored blue")
        self.colour_by_match.toggled.connect(lambda _on: self._apply_match_colours())
        self.export_button = QToolButton(text="Export")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("Results JSON…", lambda: self._ask_export("json"))
        menu.addAction("Per-category CSV…", lambda: self._ask_export("csv"))
        menu.addAction("PR curves PNG…", lambda: self._ask_export("pr"))
        menu.addAction("AP against IoU PNG…", lambda: self._ask_export("iou"))
        self.export_button.setMenu(menu)
        bar = QHBoxLayout()  # two rows: the score, then how it is shown (fits a 1024-px window)
        bar.addWidget(self.job_bar)
        bar.addWidget(self.headline, 1)  # takes the rest of the row; elided by Qt when narrow
        self.headline.setMinimumWidth(60)
        self.headline.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar2 = QHBoxLayout()
        bar2.addWidget(QLabel("IoU"))
        bar2.addWidget(self.threshold)
        bar2.addSpacing(8)
        bar2.addWidget(self.colour_by_match)
        self.legend = QWidget()
        legend = QHBoxLayout(self.legend)
        legend.setContentsMargins(0, 0, 0, 0)
        for code, text in ((Outcome.TP, "TP"), (Outcome.FP, "FP"), (Outcome.IGNORED, "ignored")):
            legend.addWidget(_swatch(code, text))
        bar2.addWidget(self.legend)
        bar2.addStretch(1)
        bar2.addWidget(self.export_button)

        self.summary_model = SummaryModel()
        self.summary = QTableView()
        self.summary.setModel(self.summary_model)
        _plain_table(self.summary)
        self.summary.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes.setStyleSheet("color:#fdd663;")
        self.notes.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.summary, 1)
        left_layout.addWidget(self.notes)

        self.category_model = CategoryTableModel()
        self.category_proxy = CategoryFilterProxy()
        self.category_proxy.setSourceModel(self.category_model)
        self.category_search = QLineEdit(placeholderText="Filter categories…")
        self.category_search.setClearButtonEnabled(True)
        self.category_search.textChanged.connect(self.category_proxy.setFilterFixedString)
        self.clear_choice = QPushButton("Clear choice")
        self.clear_choice.setToolTip("Show every image and category again")
        self.clear_choice.clicked.connect(self.choose_categories)
        self.categories = QTableView()
        self.categories.setModel(self.category_proxy)
        _plain_table(self.categories)
        category_widths(self.categories)
        self.categories.setSortingEnabled(True)
        self.categories.sortByColumn(3, Qt.SortOrder.DescendingOrder)
        self.categories.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.categories.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.categories.setToolTip("Choose categories (Ctrl/Shift for several): their PR curves, their images")
        self.categories.selectionModel().selectionChanged.connect(lambda *_a: self._on_category_selection())
        middle = QWidget()
        mid_layout = QVBoxLayout(middle)
        mid_layout.setContentsMargins(0, 0, 0, 0)
        search_row = QHBoxLayout()
        search_row.addWidget(self.category_search, 1)
        search_row.addWidget(self.clear_choice)
        mid_layout.addLayout(search_row)
        mid_layout.addWidget(self.categories, 1)

        self.plots = PlotsPanel()
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        for w in (left, middle, self.plots):
            self.splitter.addWidget(w)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 2)
        self.splitter.setSizes([340, 420, 560])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addLayout(bar2)
        layout.addWidget(self.splitter, 1)

        session.evaluationChanged.connect(self.show_evaluation)
        session.thresholdChanged.connect(self._on_threshold)
        session.focusChanged.connect(self._on_focus)
        session.predictionsChanged.connect(self._sync)
        session.datasetChanged.connect(self._sync)
        self.feed.runningChanged.connect(self._on_running)
        analysis.cancelled.connect(lambda kind: kind == EVALUATE and self._on_cancelled())
        self.show_evaluation(session.evaluation)

    # ----------------------------------------------------------------- state
    @property
    def evaluation(self) -> Evaluation | None:
        return self.session.evaluation

    def _sync(self) -> None:
        running = self.feed.running()
        has = self.evaluation is not None
        self.job_bar.sync()
        self.run_button.setText("Evaluate again" if has else "Evaluate")
        for w in (self.export_button, self.colour_by_match, self.threshold, self.legend, self.clear_choice):
            w.setEnabled(has)
        if running:
            self.headline.setText("Evaluating…")
        elif not has and self._was_cancelled:
            self.headline.setText("Evaluation cancelled — press Evaluate to run it again")
        elif not has:
            self.headline.setText("Not evaluated yet — press Evaluate" if self.analysis.can_evaluate()
                                  else "Open a data set and predictions to evaluate them")

    def _on_running(self, running: bool) -> None:
        if running:
            self._was_cancelled = False
        self._sync()

    def _on_cancelled(self) -> None:
        self._was_cancelled = True
        self._sync()

    def show_evaluation(self, evaluation: Evaluation | None) -> None:
        self.summary_model.set_evaluation(evaluation)
        self.category_model.set_evaluation(evaluation)
        self.threshold.blockSignals(True)
        self.threshold.clear()
        if evaluation is not None:
            self.threshold.addItems([f"{t:.2f}" for t in evaluation.thresholds])
            self.threshold.setCurrentIndex(min(self.session.threshold_index, self.threshold.count() - 1))
        self.threshold.blockSignals(False)
        self._sync()
        self._size_summary()
        if evaluation is None:
            self.notes.clear()
            self.plots.show_evaluation(None, [], 0)
            return
        r = evaluation.result
        mean = "–" if r.mean_ap is None else f"{r.mean_ap:.4f}"
        self.headline.setText(f"<b>mean AP {mean}</b> · {r.num_predictions:,} predictions · "
                              f"{len(evaluation.image_ids):,} images · {r.elapsed:.2f} s")
        self.headline.setToolTip(evaluation.source)
        self.notes.setText("\n\n".join(evaluation.notes) if evaluation.notes else "No quirk changed this score.")
        self.notes.setStyleSheet("color:#fdd663;" if evaluation.notes else "color:#9aa0a6;")
        self._replot()
        self._apply_match_colours()

    def _size_summary(self) -> None:
        header = self.summary.horizontalHeader()
        digit = self.summary.fontMetrics().horizontalAdvance("0")
        widths = (digit * 10, digit * 18, digit * 6, digit * 11)
        for col in range(self.summary_model.columnCount()):
            self.summary.setColumnWidth(col, widths[col] + 14)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)

    def _on_threshold(self, index: int) -> None:
        if self.threshold.currentIndex() != index and index < self.threshold.count():
            self.threshold.setCurrentIndex(index)
        self._replot()
        self._apply_match_colours()

    def _replot(self) -> None:
        self.plots.show_evaluation(self.evaluation, self.chosen_categories(), self.session.threshold_index)

    # ------------------------------------------------------------- colours
    def match_status(self) -> PredStatus | None:
        ev = self.evaluation
        if ev is None:
            return None
        t = self.session.threshold_index
        colours: dict[int | None, tuple[int, int, int]] = {int(k): v for k, v in OUTCOME_COLOURS.items()}
        names = {int(k): v for k, v in OUTCOME_LABELS.items()}  # plain int keys: looked up per prediction
        return PredStatus(ev.outcomes[:, t], colours, names, f"IoU {ev.thresholds[t]:.2f}")

    def _apply_match_colours(self) -> None:
        on = self.colour_by_match.isChecked() and self.evaluation is not None
        status = self.match_status() if on else None
        if status is not None or self.session.options.pred_status is not None:
            self.session.update_options(pred_status=status)

    # ------------------------------------------------------------ categories
    def chosen_categories(self) -> list[int]:
        rows = sorted({i.row() for i in self.categories.selectionModel().selectedRows()})
        return [int(self.category_proxy.index(r, 0).data(CAT_ROLE)) for r in rows]

    def choose_categories(self, category_ids: list[int] | None = None) -> None:
        """Select these categories in the table (none: clear the choice)."""
        sm = self.categories.selectionModel()
        sm.clearSelection()
        for cid in category_ids or []:
            row = self.category_model.row_of(cid)
            if row >= 0:
                index = self.category_proxy.mapFromSource(self.category_model.index(row, 0))
                if index.isValid():
                    sm.select(index, sm.SelectionFlag.Select | sm.SelectionFlag.Rows)
                    self.categories.scrollTo(index)

    def _on_category_selection(self) -> None:
        self.session.set_focus(frozenset(self.chosen_categories()))
        self._replot()

    def _on_focus(self, categories: frozenset[int]) -> None:
        """The choice ended elsewhere (Show all, a new evaluation): unselect the rows.
        What a choice does to the list and the canvas is :class:`~..services.focus.CategoryFocus`'s."""
        if not categories and self.categories.selectionModel().hasSelection():
            self.categories.selectionModel().clearSelection()

    # --------------------------------------------------------------- export
    def export(self, path: str | Path, kind: str) -> bool:
        """kind: "json" (results), "csv" (per category), "pr" / "iou" (plot PNG)."""
        ev = self.evaluation
        if ev is None:
            return False
        try:
            if kind == "json":
                write_results_json(path, ev)
            elif kind == "csv":
                write_category_csv(path, ev)
            else:
                write_png(path, self.plots.export_image(kind))
        except InputError as exc:  # placeseg_core.atomic.OutputError: one line naming the file
            self.errorRaised.emit("Cannot export", str(exc))
            return False
        except (OSError, ValueError) as exc:
            self.errorRaised.emit("Cannot export", f"{path}: {getattr(exc, 'strerror', None) or exc}")
            return False
        self.controller.message.emit(f"Written {path}")
        return True

    def _ask_export(self, kind: str) -> None:
        preds = self.session.predictions
        stem = preds.path.stem if preds is not None and preds.path is not None else "predictions"
        suffix, filters = {"json": (".json", "JSON files (*.json)"), "csv": (".csv", "CSV files (*.csv)"),
                           "pr": ("-pr.png", "PNG images (*.png)"), "iou": ("-ap-iou.png", "PNG images (*.png)")}[kind]
        name = f"{stem}-evaluation{suffix}" if kind == "json" else f"{stem}{'-categories' if kind == 'csv' else ''}{suffix}"
        path, _ = QFileDialog.getSaveFileName(self, "Export", name, filters)
        if path:
            self.export(path, kind)


def _plain_table(table: QTableView) -> None:
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)
    table.setAlternatingRowColors(True)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(False)


def category_widths(table: QTableView) -> None:
    digit = table.fontMetrics().horizontalAdvance("0")
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
    for col, chars in ((1, 6), (2, 7), (3, 6), (4, 6), (5, 6)):
        table.setColumnWidth(col, digit * chars + 16)

