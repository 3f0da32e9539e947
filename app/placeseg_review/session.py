"""The review session: what is open, which image is shown, what is selected, display options.

One :class:`ReviewSession` per window. Widgets read from it and bind to its signals; they
change it only through its setters, so every view stays in step (napari's model/view split:
the data lives in plain objects, this is the thin Qt layer that announces changes).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, Signal

from .data import PredictionIndex, ReviewDataset
from .prepared import PreparedImage
from .render import OverlayOptions, Selection


class ReviewSession(QObject):
    datasetChanged = Signal()
    predictionsChanged = Signal()
    statsChanged = Signal()  # whole-set counts (background scan) moved on
    imageChanged = Signal(object)  # PreparedImage | None: the image now on screen
    selectionChanged = Signal(object)  # Selection | None
    optionsChanged = Signal(object)  # OverlayOptions

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.dataset: ReviewDataset | None = None
        self.predictions: PredictionIndex | None = None
        self.image: PreparedImage | None = None
        self.current_id: int | None = None  # requested image (may still be loading)
        self.selection: Selection | None = None
        self.options = OverlayOptions()
        self._names: dict[int, str] = _names_of(None)

    # ----------------------------------------------------------------- data
    def set_dataset(self, dataset: ReviewDataset | None) -> None:
        self.dataset = dataset
        self._names = _names_of(dataset)
        self.predictions = None
        self.image = None
        self.current_id = None
        self.selection = None
        self.datasetChanged.emit()
        self.predictionsChanged.emit()
        self.imageChanged.emit(None)
        self.selectionChanged.emit(None)

    def set_predictions(self, predictions: PredictionIndex | None) -> None:
        self.predictions = predictions
        if self.selection is not None and self.selection.kind == "pred":
            self.select(None)
        self.predictionsChanged.emit()

    def stats_changed(self) -> None:
        self.statsChanged.emit()

    # ---------------------------------------------------------------- image
    def show_image(self, image: PreparedImage | None) -> None:
        same = (self.image is not None and image is not None and self.image.entry.id == image.entry.id)
        self.image = image
        if image is not None:
            self.current_id = image.entry.id
        if not same:
            self.selection = None
        elif self.selection is not None and self.selection.kind == "pred" and image is not None:
            if image.preds is None or self.selection.key not in set(image.preds.indices.tolist()):
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

    def category_names(self) -> dict[int, str]:
        """Category id -> name: the data set's names, the challenge's for the rest of 1..100."""
        return self._names


def _names_of(dataset: ReviewDataset | None) -> dict[int, str]:
    from placeseg_core.categories import CATEGORY_NAMES

    names = {i + 1: n for i, n in enumerate(CATEGORY_NAMES)}
    if dataset is not None:
        names.update({c.id: c.name for c in dataset.categories})
    return names
