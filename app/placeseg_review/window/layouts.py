"""Named views of the window: what ``--view NAME`` (and later the View menu) switches to.

A view arranges the window for one task; register more with :func:`register_view` (issue 7:
'matches'). ``stage`` optionally prepares a screenshot (picks something worth showing once the
data is loaded); ``ready`` says when the view has what it shows (the screenshot waits for it
before staging, e.g. until the evaluation finished).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the window imports nothing of this module: no cycle
    from .protocol import ReviewWindow


@dataclass(frozen=True)
class ViewSpec:
    name: str
    title: str
    description: str
    apply: Callable[[ReviewWindow], None]  # arranges the window (sizes in fractions of it)
    stage: Callable[[ReviewWindow], None] | None = None
    ready: Callable[[ReviewWindow], bool] | None = None
    work: Callable[[ReviewWindow], None] | None = None  # starts what the view shows (e.g. evaluates)


VIEWS: dict[str, ViewSpec] = {}
#: The analysis panels, hidden while reviewing.
ANALYSIS_DOCKS = ("validation", "evaluation", "matches", "errors", "compare")


def apply_view(window: ReviewWindow, name: str) -> None:
    """Arrange ``window`` for the view ``name`` (``--view NAME``) and start what it shows."""
    spec = VIEWS[name]
    window.workspaces.follow_view(name)
    spec.apply(window)
    start_work(window, name)


def start_work(window: ReviewWindow, name: str) -> None:
    """What view ``name`` needs computed (an evaluation, an error analysis), if not there yet."""
    work = VIEWS[name].work
    if work is not None:
        work(window)


def register_view(spec: ViewSpec) -> None:
    VIEWS[spec.name] = spec


def view_names() -> list[str]:
    return list(VIEWS)


def _apply_viewer(window: ReviewWindow) -> None:
    for key, dock in window.docks.items():
        dock.setVisible(key not in ANALYSIS_DOCKS)
    window.docks["inspector"].raise_()
    # the photo is the largest thing on screen: a quarter of the width for each side
    side = max(200, window.width() // 4)
    window.resizeDocks([window.docks["images"], window.docks["inspector"]], [side, side], _horizontal())
    window.resizeDocks([window.docks["images"], window.docks["layers"]],
                       [window.height() * 3 // 5, window.height() * 2 // 5], _vertical())
    window.canvas.fit()


def _stage_viewer(window: ReviewWindow) -> None:
    """Select the best-scoring shown prediction and hover over it, so the screenshot explains itself."""
    prep = window.session.image
    if prep is None:
        return
    layer = window.canvas.pred_layer
    if prep.preds is not None and layer is not None and len(layer.shown):
        pos = int(layer.shown[0])
        window.session.select(_selection("pred", int(prep.preds.indices[pos])))
        ys, xs = (layer.top == pos + 1).nonzero()
        if len(xs):
            k = len(xs) // 2
            window.canvas.hover_at(float(xs[k]), float(ys[k]))
    elif prep.gt is not None and prep.gt.instances:
        largest = max(prep.gt.instances, key=lambda i: i.area)
        window.session.select(_selection("gt", largest.label))
        window.canvas.hover_at(*largest.anchor)


def _selection(kind: str, key: int) -> object:
    from ..model.render import Selection

    return Selection(kind, key)


register_view(ViewSpec("viewer", "Viewer", "the photo with ground-truth and prediction overlays",
                       _apply_viewer, _stage_viewer))


# ------------------------------------------------------------------------------ validation


def _apply_validation(window: ReviewWindow) -> None:
    _apply_viewer(window)
    window.docks["layers"].hide()
    window.raise_panel("validation")
    window.resizeDocks([window.docks["validation"]], [int(window.height() * 0.45)], _vertical())


def _validation_ready(window: ReviewWindow) -> bool:
    return window.session.validation is not None or not window.analysis.can_validate()


def _stage_validation(window: ReviewWindow) -> None:
    """Jump to the first located problem (as a double-click does) so the shot shows it."""
    view = window.validation_view
    report = window.session.validation
    if report is None:
        return
    for code in report.counts:
        for item in view.problem_items(code):
            if view.jump_to(item.data(0, _problem_role())):
                view.tree.setCurrentItem(item)
                return


# ------------------------------------------------------------------------------ evaluation


def _apply_evaluation(window: ReviewWindow) -> None:
    _apply_viewer(window)
    window.docks["layers"].hide()
    window.raise_panel("evaluation")
    for key in ("inspector", "categories", "findings"):  # the canvas and the list share the top
        window.docks[key].hide()
    # room for all twelve summary numbers and the notes under them, from 700 px of height up
    window.resizeDocks([window.docks["evaluation"]], [max(int(window.height() * 0.55), 440)], _vertical())
    window.resizeDocks([window.docks["images"]], [int(window.width() * 0.35)], _horizontal())  # TP / FP / FN


def _work_evaluation(window: ReviewWindow) -> None:
    window.analysis.auto_evaluate = True
    if window.session.evaluation is None and not window.analysis.running("evaluate") and window.analysis.can_evaluate():
        window.analysis.evaluate()


def _evaluation_ready(window: ReviewWindow) -> bool:
    return window.session.evaluation is not None


def _stage_evaluation(window: ReviewWindow) -> None:
    """Choose the two categories with the most ground truth, colour by match at IoU 0.50 and
    show the image of those with the most true and false positives."""
    view, ev = window.evaluation_view, window.session.evaluation
    if ev is None:
        return
    top = sorted(ev.gt_per_category, key=lambda c: -ev.gt_per_category[c])[:2]
    view.colour_by_match.setChecked(True)
    view.choose_categories(top)
    counts = view.columns.counts
    if counts is not None and len(counts.image_ids):
        best = int(counts.image_ids[(counts.tp + counts.fp).argmax()])
        window.controller.go_to(best)


def _vertical() -> object:
    from PySide6.QtCore import Qt

    return Qt.Orientation.Vertical


def _horizontal() -> object:
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def _problem_role() -> int:
    from ..panels.validation_view import PROBLEM_ROLE

    return PROBLEM_ROLE


register_view(ViewSpec("validation", "Validation", "the validator's report on the open predictions, grouped by problem",
                       _apply_validation, _stage_validation, _validation_ready))
register_view(ViewSpec("evaluation", "Evaluation", "the official score: summary, per category, PR curves",
                       _apply_evaluation, _stage_evaluation, _evaluation_ready, _work_evaluation))


# ------------------------------------------------------------------------------ matches


def _apply_matches(window: ReviewWindow) -> None:
    _apply_viewer(window)
    window.docks["layers"].hide()
    window.raise_panel("matches")
    for key in ("inspector", "categories", "findings"):  # the matches tables say what the inspector says
        window.docks[key].hide()
    window.resizeDocks([window.docks["matches"]], [int(window.height() * 0.5)], _vertical())
    _widen_image_list(window)


def _work_analysis(window: ReviewWindow) -> None:
    """Matches and errors need an evaluation and its error analysis (which follows it)."""
    window.analysis.auto_evaluate = True
    window.run_panel("errors")


def _matches_ready(window: ReviewWindow) -> bool:
    return window.session.evaluation is not None and window.errors.current() and not window.errors.running()


def _stage_matches(window: ReviewWindow) -> None:
    """Show the image that loses the most AP and select a localisation or classification error
    in it (the one on the largest object), so its pair is drawn."""
    a = window.session.error_analysis
    if a is None:
        return
    window.matches_view.worst_key.setCurrentIndex(0)  # share of lost AP (sorts the list by it)
    window.matches_view.worst.sort_list()
    target = window.matches_view.worst.step(1)
    if target is None:
        return
    errors = [p for p in a.explain_image(target).predictions
              if p.kind in ("localisation", "classification") and p.target_row is not None]
    if errors:  # the one whose object is largest: its pair reads best on the whole image
        chosen = max(errors, key=lambda p: a.records.gt_areas[p.target_row])
        window.controller.go_to_and_select(target, _selection("pred", chosen.index))


register_view(ViewSpec("matches", "Matches", "one image's predictions and ground truth, how each matched and why",
                       _apply_matches, _stage_matches, _matches_ready, _work_analysis))


# ------------------------------------------------------------------------------ error analysis


def _apply_errors(window: ReviewWindow) -> None:
    _apply_viewer(window)
    window.docks["layers"].hide()
    window.raise_panel("errors")
    window.resizeDocks([window.docks["errors"]], [int(window.height() * 0.55)], _vertical())
    _widen_image_list(window)


def _widen_image_list(window: ReviewWindow) -> None:
    """Room for the error columns and the file name (the window widens the list again when they come)."""
    window.fit_image_list(window.image_list.preferred_width())


def _stage_errors(window: ReviewWindow) -> None:
    """List the largest confusion between two categories (off the diagonal), as a click does."""
    conf = window.error_view.confusion
    m = conf.model.matrix
    if m is None:
        return
    counts = m.counts[:-1, :-1].copy()
    counts[range(len(counts)), range(len(counts))] = 0
    r, c = divmod(int(counts.argmax()), counts.shape[1])
    index = conf.model.index_of(r, c)
    if index.isValid():
        conf.table.setCurrentIndex(index)
        conf.show_cell(index)


register_view(ViewSpec("errors", "Error analysis", "what each error type costs (dAP) and the confusion matrix",
                       _apply_errors, _stage_errors, _matches_ready, _work_analysis))


# ------------------------------------------------------------------------------ compare


def _apply_compare(window: ReviewWindow) -> None:
    _apply_viewer(window)
    window.docks["layers"].hide()
    window.raise_panel("compare")
    for key in ("inspector", "categories", "findings"):
        window.docks[key].hide()
    window.resizeDocks([window.docks["compare"]], [max(int(window.height() * 0.55), 420)], _vertical())


def _work_compare(window: ReviewWindow) -> None:
    """Compare with the file asked for; the demo (and any layout) offers ``predictions-b.json``."""
    runner, ds = window.compare, window.session.dataset
    if runner.b_path is None and ds is not None and ds.kind == "layout":
        candidate = ds.source / "predictions-b.json"
        if candidate.is_file():
            runner.request(candidate)


def _compare_ready(window: ReviewWindow) -> bool:
    """Compared, with a bootstrap (only the screenshot asks: it starts a short one, 200 resamples)."""
    state, runner = window.session.comparison, window.compare
    if state is None or runner.running():
        return False
    if state.comparison.bootstrap is None:
        runner.resamples = 200
        runner.bootstrap()
        return False
    return True


def _stage_compare(window: ReviewWindow) -> None:
    """Show the image that changed most."""
    view = window.compare_view
    if view.images.rowCount():
        view.images.setCurrentCell(0, 0)


register_view(ViewSpec("compare", "Compare", "the open predictions against a second file, with a paired bootstrap",
                       _apply_compare, _stage_compare, _compare_ready, _work_compare))
