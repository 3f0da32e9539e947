"""The validation view: the validator's verdict on the open predictions, grouped by problem code.

A banner says *valid* or *N errors and M warnings*; below, one row per code (severity, count,
title) whose children are the located problems and the code's fix. Double-clicking a located
problem shows its image and selects its prediction. The validator runs in a worker when a
predictions file is opened (see :class:`~placeseg_review.services.checks.AnalysisController`) and
again on demand; the report exports as JSON or text.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from placeseg_core.errors import InputError
from placeseg_core.validate import CODES, Problem, Severity, ValidationReport, fix_for

from ..model.data import PredictionIndex
from ..model.render import Selection
from ..services.checks import VALIDATE, AnalysisController
from ..services.controller import ReviewController
from ..services.exporters import write_validation_json, write_validation_text
from ..services.jobs import JobFeed
from ..services.session import RejectedFile, ReviewSession
from ..widgets.job_bar import JobBar

PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1  # Problem of a located row
CODE_ROLE = Qt.ItemDataRole.UserRole + 2
SEVERITY_COLOURS = {Severity.ERROR: "#f28b82", Severity.WARNING: "#fdd663"}
BANNER_STYLES = {
    "valid": "background:#1e3a2a; color:#81c995; border:1px solid #2d6a45;",
    "warnings": "background:#3a3320; color:#fdd663; border:1px solid #6b5a1e;",
    "invalid": "background:#3c2224; color:#f28b82; border:1px solid #7a3034;",
    "idle": "background:#292a2d; color:#bdc1c6; border:1px solid #3c4043;",
}


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def totals(report: ValidationReport) -> tuple[int, int]:
    """(errors, warnings): problems found of each severity, every occurrence counted."""
    err = sum(n for c, n in report.counts.items() if CODES[c].severity is Severity.ERROR)
    warn = sum(n for c, n in report.counts.items() if CODES[c].severity is Severity.WARNING)
    return err, warn


def verdict_text(report: ValidationReport) -> str:
    err, warn = totals(report)
    if report.unusable:
        return f"Cannot be checked — {_plural(err, 'error')}"
    if report.valid:
        return "Valid" + (f" — {_plural(warn, 'warning')}" if warn else " — no problems found")
    return f"Invalid — {_plural(err, 'error')} and {_plural(warn, 'warning')}"


def rejected_text(rejected: RejectedFile, open_predictions: PredictionIndex | None) -> str:
    """Banner of a file that could not be opened: which one, why, and what is still shown."""
    still = (f"still showing {open_predictions.path.name}" if open_predictions is not None
             and open_predictions.path is not None else "no predictions open")
    why = " Its problems are listed below." if rejected.report is not None else f" {rejected.message}"
    return f"{rejected.path.name} could not be opened — {still}.{why}"


def where_text(p: Problem) -> str:
    parts = []
    if p.index is not None:
        parts.append(f"item {p.index}")
    if p.image_id is not None:
        parts.append(f"image {p.image_id}")
    if p.field:
        parts.append(p.field)
    return " · ".join(parts)


class ValidationView(QWidget):
    """Verdict banner, run / cancel / export buttons, and the problems tree."""

    errorRaised = Signal(str, str)  # title, message (the window shows it)
    jumped = Signal(int, object)  # image id, Selection | None: a problem was shown

    def __init__(self, session: ReviewSession, analysis: AnalysisController, controller: ReviewController,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session, self.analysis, self.controller = session, analysis, controller
        self._was_cancelled = False
        self.banner = QLabel()
        self.banner.setObjectName("ValidationBanner")
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = QFont(self.banner.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.banner.setFont(font)
        self.banner.setWordWrap(True)
        self.feed = JobFeed.of_checks(analysis, VALIDATE)
        self.job_bar = JobBar(self.feed, "Validate", analysis.validate, analysis.can_validate)
        self.run_button, self.cancel_button, self.progress = (
            self.job_bar.run_button, self.job_bar.cancel_button, self.job_bar.progress)
        self.run_button.setToolTip("Check the open predictions file again (placeseg validate)")
        self.export_json_button = QPushButton("Export JSON…")
        self.export_json_button.clicked.connect(lambda: self._ask_export("json"))
        self.export_text_button = QPushButton("Export text…")
        self.export_text_button.clicked.connect(lambda: self._ask_export("txt"))
        self.dismiss_button = QPushButton("Back to the open file")
        self.dismiss_button.setToolTip("Forget the file that could not be opened; show the open predictions' report")
        self.dismiss_button.clicked.connect(lambda: session.set_rejected(None))
        self.dismiss_button.hide()
        bar = QHBoxLayout()
        bar.addWidget(self.job_bar)
        bar.addWidget(self.dismiss_button)
        bar.addStretch(1)
        bar.addWidget(self.export_json_button)
        bar.addWidget(self.export_text_button)

        self.tree = QTreeWidget()
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Problem", "Count", "Where"])
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Interactive)
        digit = self.tree.fontMetrics().horizontalAdvance("0")
        self.tree.setColumnWidth(1, digit * 8 + 16)
        self.tree.setColumnWidth(2, digit * 24 + 16)
        self.tree.itemDoubleClicked.connect(self._on_double_click)
        self.tree.currentItemChanged.connect(self._on_current)
        self.fix_label = QLabel()
        self.fix_label.setWordWrap(True)
        self.fix_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stats_label = QLabel()
        self.stats_label.setWordWrap(True)
        self.stats_label.setStyleSheet("color:#9aa0a6;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.banner)
        layout.addLayout(bar)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.fix_label)
        layout.addWidget(self.stats_label)

        session.validationChanged.connect(lambda _r: self.show_report(self.report))
        session.rejectedChanged.connect(lambda _r: self.show_report(self.report))
        session.predictionsChanged.connect(self._sync_buttons)
        self.feed.runningChanged.connect(self._on_running)
        analysis.cancelled.connect(lambda kind: kind == VALIDATE and self._on_cancelled())
        self.show_report(session.validation)

    # -------------------------------------------------------------- showing
    @property
    def report(self) -> ValidationReport | None:
        """What the view shows: the report of a file that could not be opened, while the user
        has not dismissed it, else the open predictions'."""
        rejected = self.session.rejected
        return rejected.report if rejected is not None else self.session.validation

    def _set_banner(self, text: str, style: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(f"QLabel#ValidationBanner {{ {BANNER_STYLES[style]} border-radius:5px; padding:6px 10px; }}")
        self.banner.setProperty("verdict", style)

    def _sync_buttons(self) -> None:
        running = self.feed.running()
        self.job_bar.sync()
        has = self.report is not None
        self.export_json_button.setEnabled(has)
        self.export_text_button.setEnabled(has)
        if running:
            self._set_banner("Checking the predictions…", "idle")
        elif not has and self.session.rejected is None:
            self._idle_banner()

    def _idle_banner(self) -> None:
        if self._was_cancelled:
            self._set_banner("Validation cancelled — press Validate to run it again", "idle")
        elif self.session.predictions is None:
            self._set_banner("No predictions open — File ▸ Open predictions", "idle")
        elif not self.analysis.can_validate():
            self._set_banner("These predictions were not read from a file: nothing to validate", "idle")
        else:
            self._set_banner("Not validated yet — press Validate", "idle")

    def _on_running(self, running: bool) -> None:
        if running:
            self._was_cancelled = False
        self._sync_buttons()


    def _on_cancelled(self) -> None:
        self._was_cancelled = True
        self._sync_buttons()

    def show_report(self, report: ValidationReport | None) -> None:
        self.tree.clear()
        self.fix_label.clear()
        self.stats_label.clear()
        self._sync_buttons()
        rejected = self.session.rejected
        self.dismiss_button.setVisible(rejected is not None)
        if rejected is not None:
            self._set_banner(rejected_text(rejected, self.session.predictions), "invalid")
        if report is None:
            return
        err, warn = totals(report)
        style = "invalid" if not report.valid else ("warnings" if warn else "valid")
        if rejected is None:
            self._set_banner(f"{verdict_text(report)}  ·  {Path(report.source).name}", style)
        bold = QFont(self.tree.font())
        bold.setBold(True)
        italic = QFont(self.tree.font())
        italic.setItalic(True)
        for code, count in report.counts.items():
            info = CODES[code]
            top = QTreeWidgetItem([f"{info.severity.value}  {code} — {info.title}", f"{count:,}", ""])
            top.setData(0, CODE_ROLE, code)
            top.setFont(0, bold)
            top.setForeground(0, QBrush(QColor(SEVERITY_COLOURS[info.severity])))
            top.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            top.setToolTip(0, f"{code}: {info.title}\nFix: {fix_for(code)}")
            fix = QTreeWidgetItem([f"Fix: {fix_for(code)}", "", ""])
            fix.setFont(0, italic)
            fix.setForeground(0, QBrush(QColor("#8ab4f8")))
            fix.setData(0, CODE_ROLE, code)
            fix.setToolTip(0, fix_for(code))
            top.addChild(fix)
            listed = report.problems_for(code)
            for p in listed:
                child = QTreeWidgetItem([p.message, "", where_text(p)])
                child.setData(0, PROBLEM_ROLE, p)
                child.setData(0, CODE_ROLE, code)
                child.setToolTip(0, p.message + ("\nDouble-click to show it" if self._target(p) else ""))
                top.addChild(child)
            if count > len(listed):
                more = QTreeWidgetItem([f"… and {count - len(listed):,} more (the first {len(listed)} are listed)", "", ""])
                more.setForeground(0, QBrush(QColor("#9aa0a6")))
                more.setData(0, CODE_ROLE, code)
                top.addChild(more)
            self.tree.addTopLevelItem(top)
            top.setExpanded(info.severity is Severity.ERROR or len(report.counts) <= 3)
        self.stats_label.setText(_stats_text(report))

    def _on_current(self, item: QTreeWidgetItem | None, _previous: QTreeWidgetItem | None) -> None:
        code = item.data(0, CODE_ROLE) if item is not None else None
        self.fix_label.setText(f"<b>Fix ({code}):</b> {fix_for(code)}" if code else "")

    # ---------------------------------------------------------------- jumps
    def code_item(self, code: str) -> QTreeWidgetItem | None:
        for k in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(k)
            if item.data(0, CODE_ROLE) == code:
                return item
        return None

    def problem_items(self, code: str) -> list[QTreeWidgetItem]:
        top = self.code_item(code)
        if top is None:
            return []
        return [top.child(k) for k in range(top.childCount()) if top.child(k).data(0, PROBLEM_ROLE) is not None]

    def _target(self, p: Problem) -> tuple[int, Selection | None] | None:
        """(image id, prediction to select) of a located problem, when the data set has it."""
        ds, preds = self.session.dataset, self.session.predictions
        if ds is None:
            return None
        image_id = p.image_id
        sel = None
        report = self.report
        same_file = (preds is not None and preds.path is not None and report is not None
                     and report.source == str(preds.path))  # a rejected file is not the open one
        if p.index is not None and same_file and 0 <= p.index < len(preds.submission):
            sel = Selection("pred", p.index)
            if image_id is None:
                image_id = int(preds.submission.image_ids[p.index])
        if image_id is None or image_id not in ds.index_of:
            return None
        return image_id, sel

    def jump_to(self, p: Problem) -> bool:
        """Show the problem's image (and select its prediction); a problem of the whole file
        (no item, no image) has nothing to show: its details go under the tree instead."""
        if p.index is None and p.image_id is None:
            self.show_details(p)
            return False
        target = self._target(p)
        if target is None:
            where = f"image {p.image_id}" if p.image_id is not None else f"item {p.index}"
            self.controller.message.emit(f"Cannot show {where}: not an image of the open data set")
            return False
        image_id, sel = target
        if sel is None:
            self.controller.go_to(image_id)
        else:
            self.controller.go_to_and_select(image_id, sel)
        self.jumped.emit(image_id, sel)
        return True

    def show_details(self, p: Problem) -> None:
        """The whole message of a problem and its code's fix, below the tree."""
        self.fix_label.setText(f"<b>{escape(p.code)}:</b> {escape(p.message)}<br><b>Fix:</b> {escape(fix_for(p.code))}")

    def _on_double_click(self, item: QTreeWidgetItem, _column: int) -> None:
        p = item.data(0, PROBLEM_ROLE)
        if isinstance(p, Problem):
            self.jump_to(p)

    # --------------------------------------------------------------- export
    def export(self, path: str | Path, kind: str | None = None) -> bool:
        """Write the report (JSON or text, by ``kind`` or the suffix); errors go to ``errorRaised``."""
        report = self.report
        if report is None:
            return False
        kind = kind or ("json" if str(path).lower().endswith(".json") else "txt")
        try:
            (write_validation_json if kind == "json" else write_validation_text)(path, report)
        except InputError as exc:  # placeseg_core.atomic.OutputError: one line naming the file
            self.errorRaised.emit("Cannot export the report", str(exc))
            return False
        except OSError as exc:
            self.errorRaised.emit("Cannot export the report", f"{path}: {exc.strerror or exc}")
            return False
        self.controller.message.emit(f"Validation report written to {path}")
        return True

    def _ask_export(self, kind: str) -> None:
        preds = self.session.predictions
        stem = preds.path.stem if preds is not None and preds.path is not None else "predictions"
        filters = "JSON files (*.json)" if kind == "json" else "Text files (*.txt)"
        path, _ = QFileDialog.getSaveFileName(self, "Export validation report", f"{stem}-validation.{kind}", filters)
        if path:
            self.export(path, kind)


def _stats_text(report: ValidationReport) -> str:
    st = report.stats
    parts = []
    if st.get("predictions"):
        parts.append(f"{st['predictions']:,} predictions")
    covered, expected = st.get("images_covered"), st.get("expected_images")
    if covered is not None:
        parts.append(f"{covered:,} images covered" + (f" of {expected:,}" if expected is not None else ""))
    per = st.get("per_image")
    if per:
        parts.append(f"per image {per['min']}–{per['max']} (median {per['median']:g})")
    if st.get("categories_used") is not None:
        parts.append(f"{st['categories_used']} categories")
    if st.get("split"):
        parts.append(f"split {st['split']}")
    return " · ".join(parts)
