"""The review session: what is open, which image is shown, what is selected, display options.

One :class:`ReviewSession` per window. Widgets read from it and bind to its signals; they
change it only through its setters, so every view stays in step (napari's model/view split:
the data lives in plain objects, this is the thin Qt layer that announces changes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from ..model.data import PredictionIndex, ReviewDataset
from ..model.prepared import PreparedImage
from ..model.render import GtStatus, OverlayOptions, Selection

if TYPE_CHECKING:
    from placeseg_core.analysis import ErrorAnalysis
    from placeseg_core.compare import Comparison
    from placeseg_core.validate import ValidationReport

    from ..model.evaluation import Evaluation


@dataclass(frozen=True)
class ImageFilter:
    """Restricts the image list to some images (e.g. those holding a chosen category)."""

    ids: frozenset[int]
    label: str  # what the list says it shows, e.g. "images with chair"
    owner: str = ""  # who made it ("categories", "errors"): only its owner clears it


@dataclass(frozen=True)
class Pair:
    """A prediction (position in the file) and a ground-truth object (label in the prepared
    image) of image ``image_id``, drawn together; either may be None (an unmatched one)."""

    image_id: int
    pred_index: int | None
    gt_label: int | None


@dataclass(frozen=True)
class RejectedFile:
    """A predictions file the user asked to open that could not be used: the window keeps the
    predictions it had (``ReviewSession.predictions``) and says so; ``report`` is the
    validator's account of the rejected file, once it has run."""

    path: Path
    message: str
    report: ValidationReport | None = None


@dataclass(frozen=True)
class ComparisonState:
    """The open predictions (A) compared with a second file (B)."""

    comparison: Comparison
    name_a: str
    name_b: str
    b: PredictionIndex  # B's predictions, as loaded for the data set
    found: GtStatus | None = None  # who found each object: the canvas's colours for it


class ReviewSession(QObject):
    datasetChanged = Signal()
    predictionsChanged = Signal()
    statsChanged = Signal()  # whole-set counts (background scan) moved on
    imageChanged = Signal(object)  # PreparedImage | None: the image now on screen
    selectionChanged = Signal(object)  # Selection | None
    optionsChanged = Signal(object)  # OverlayOptions
    validationChanged = Signal(object)  # ValidationReport | None (of the open predictions)
    evaluationChanged = Signal(object)  # match_status.Evaluation | None
    thresholdChanged = Signal(int)  # IoU threshold index the evaluation views show
    focusChanged = Signal(object)  # frozenset[int]: categories chosen in the evaluation view
    imageFilterChanged = Signal(object)  # ImageFilter | None
    errorAnalysisChanged = Signal(object)  # placeseg_core.analysis.ErrorAnalysis | None (of the evaluation)
    pairChanged = Signal(object)  # Pair | None: a prediction and its ground truth drawn as a pair
    comparisonChanged = Signal(object)  # ComparisonState | None
    rejectedChanged = Signal(object)  # RejectedFile | None: the last predictions file that could not be opened
    pairViewersChanged = Signal(bool)  # whether a view that explains pairs is on screen (pairs_shown)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset: ReviewDataset | None = None
        self.predictions: PredictionIndex | None = None
        self.image: PreparedImage | None = None
        self.current_id: int | None = None  # requested image (may still be loading)
        self.selection: Selection | None = None
        self.options = OverlayOptions()
        self.validation: ValidationReport | None = None
        self.evaluation: Evaluation | None = None
        self.threshold_index = 0  # IoU 0.50
        self.focus_categories: frozenset[int] = frozenset()
        self.image_filter: ImageFilter | None = None
        self.error_analysis: ErrorAnalysis | None = None
        self.pair: Pair | None = None
        self.rejected: RejectedFile | None = None
        self.comparison: ComparisonState | None = None
        self._pair_viewers: set[str] = set()  # views on screen that explain pairs (matches, errors)
        self._names: dict[int, str] = _names_of(None)

    # ----------------------------------------------------------------- data
    def set_dataset(self, dataset: ReviewDataset | None) -> None:
        self.dataset = dataset
        self._names = _names_of(dataset)
        self.predictions = None
        self.image = None
        self.current_id = None
        self.selection = None
        self.set_rejected(None)
        self._clear_analysis()
        self.datasetChanged.emit()
        self.predictionsChanged.emit()
        self.imageChanged.emit(None)
        self.selectionChanged.emit(None)

    def set_predictions(self, predictions: PredictionIndex | None) -> None:
        self.predictions = predictions
        self.set_rejected(None)
        if self.selection is not None and self.selection.kind == "pred":
            self.select(None)
        self._clear_analysis()
        self.predictionsChanged.emit()

    def stats_changed(self) -> None:
        self.statsChanged.emit()

    def set_comparison(self, comparison: ComparisonState | None) -> None:
        """A (new) comparison of the open predictions with a second file, or none."""
        if comparison is not self.comparison:
            self.comparison = comparison
            self.comparisonChanged.emit(comparison)

    def set_rejected(self, rejected: RejectedFile | None) -> None:
        """A predictions file could not be opened (None: forget it, e.g. another one opened)."""
        if rejected != self.rejected:
            self.rejected = rejected
            self.rejectedChanged.emit(rejected)

    # ---------------------------------------------------------------- image
    def show_image(self, image: PreparedImage | None) -> None:
        same = (self.image is not None and image is not None and self.image.entry.id == image.entry.id)
        self.image = image
        if image is not None:
            self.current_id = image.entry.id
        if not same:
            self.selection = None
            if self.pair is not None:
                self.set_pair(None)
        elif self.selection is not None and self.selection.kind == "pred" and image is not None:
            if image.preds is None or not image.preds.listed(self.selection.key):
                self.selection = None
        self.imageChanged.emit(image)
        self.selectionChanged.emit(self.selection)

    # ------------------------------------------------------------ selection
    def select(self, selection: Selection | None) -> None:
        if selection == self.selection:
            return
        self.selection = selection
        self.selectionChanged.emit(selection)

    # -------------------------------------------------------------- options
    def set_options(self, options: OverlayOptions) -> None:
        if options == self.options:
            return
        self.options = options
        self.optionsChanged.emit(options)

    def update_options(self, **changes: Any) -> None:
        self.set_options(replace(self.options, **changes))

    def set_category_hidden(self, category_id: int, hidden: bool) -> None:
        cats = set(self.options.hidden_categories)
        (cats.add if hidden else cats.discard)(category_id)
        self.update_options(hidden_categories=frozenset(cats))

    # ------------------------------------------------ validation & evaluation
    def set_validation(self, report: ValidationReport | None) -> None:
        self.validation = report
        self.validationChanged.emit(report)

    def set_evaluation(self, evaluation: Evaluation | None) -> None:
        """A new evaluation (or none): the category focus and the match colours refer to the old one."""
        self.set_focus(frozenset())
        if self.options.pred_status is not None:
            self.update_options(pred_status=None)
        if self.error_analysis is not None:
            self.set_error_analysis(None)
        self.evaluation = evaluation
        self.evaluationChanged.emit(evaluation)

    def set_error_analysis(self, analysis: ErrorAnalysis | None) -> None:
        """The error analysis of the current evaluation (at one IoU threshold), or none."""
        self.error_analysis = analysis
        self.errorAnalysisChanged.emit(analysis)

    def set_pair(self, pair: Pair | None) -> None:
        """Draw a prediction and a ground-truth object as a pair, everything else dimmed."""
        if pair != self.pair:
            self.pair = pair
            self.pairChanged.emit(pair)

    @property
    def pairs_shown(self) -> bool:
        """Pairs are drawn on the canvas only while a view that explains them is on screen."""
        return bool(self._pair_viewers)

    def set_pair_viewer(self, name: str, on_screen: bool) -> None:
        """View ``name`` (one that explains pairs) appeared or disappeared."""
        before = self.pairs_shown
        (self._pair_viewers.add if on_screen else self._pair_viewers.discard)(name)
        if self.pairs_shown != before:
            if not self.pairs_shown:
                self.set_pair(None)
            self.pairViewersChanged.emit(self.pairs_shown)

    def set_threshold_index(self, index: int) -> None:
        if index != self.threshold_index:
            self.threshold_index = index
            self.thresholdChanged.emit(index)

    def set_focus(self, category_ids: frozenset[int]) -> None:
        """The categories the user chose to look at (the evaluation view filters by them)."""
        category_ids = frozenset(category_ids)
        if category_ids != self.focus_categories:
            self.focus_categories = category_ids
            self.focusChanged.emit(category_ids)

    def set_image_filter(self, image_filter: ImageFilter | None) -> None:
        """Restrict the image list (None: every image). A new filter replaces the old one,
        whoever made it; its owner sees that through ``imageFilterChanged``."""
        if image_filter != self.image_filter:
            self.image_filter = image_filter
            self.imageFilterChanged.emit(image_filter)

    def clear_image_filter(self, owner: str) -> None:
        """Drop the filter if ``owner`` made it (another owner's filter stays)."""
        if self.image_filter is not None and self.image_filter.owner == owner:
            self.set_image_filter(None)

    def _clear_analysis(self) -> None:
        """Opening other data makes reports and scores stale: drop them (silently if none)."""
        if self.validation is not None:
            self.set_validation(None)
        if self.evaluation is not None or self.focus_categories:
            self.set_evaluation(None)
        self.set_pair(None)
        self.set_comparison(None)
        self.set_image_filter(None)

    def category_names(self) -> dict[int, str]:
        """Category id -> name: the data set's names, the challenge's for the rest of 1..100."""
        return self._names


def _names_of(dataset: ReviewDataset | None) -> dict[int, str]:
    from placeseg_core.categories import CATEGORY_NAMES

    names = {i + 1: n for i, n in enumerate(CATEGORY_NAMES)}
    if dataset is not None:
        names.update({c.id: c.name for c in dataset.categories})
    return names
