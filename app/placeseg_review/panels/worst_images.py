"""Worst images first: the error analysis' per-image counts as image-list columns, and
"next worst image" navigation by a chosen count.

:class:`ErrorCountColumns` adds ΔAP (the AP points gained by fixing only that image's errors,
``lost_ap``), missed objects, duplicates and classification errors to the image list; the
evaluation's own columns already give true and false positives. :class:`WorstImages` orders
the evaluated images by a chosen key (worst first, images without any such error left out),
walks that order, sorts the image list by it and can restrict the list to those images.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Signal

from placeseg_core.analysis import ErrorAnalysis

from ..services.controller import ReviewController
from ..services.image_table import ColumnSource, positions_in
from ..services.session import ImageFilter, ReviewSession

#: (key of ErrorAnalysis.images.columns, words for the user), the orders offered
WORST_KEYS = (
    ("lost_ap", "share of lost AP"),
    ("false_positives", "false positives"),
    ("missed", "missed objects"),
    ("duplicate", "duplicates"),
    ("classification", "classification errors"),
    ("localisation", "localisation errors"),
    ("background", "background errors"),
)
KEY_LABELS = dict(WORST_KEYS)
FILTER_OWNER = "errors"  # ImageFilter.owner of the "only these images" filter


class ErrorCountColumns(ColumnSource):
    """ΔAP / Miss / Dup / Cls per image, from the session's error analysis."""

    keys = ("lost_ap", "missed", "duplicate", "classification")
    headers = ("ΔAP", "Miss", "Dup", "Cls")
    tips = ("AP points (at the analysis' IoU) gained by fixing only this image's errors: its share of the lost AP",
            "ground truth missed: matched by nothing, claimed by no error",
            "duplicates: the object was already taken by a higher-scoring prediction",
            "classification errors: the mask fits an object of another category")
    chars = (4, 3, 3, 3)

    def __init__(self, session: ReviewSession) -> None:
        super().__init__()
        self.session = session
        self.analysis: ErrorAnalysis | None = None
        session.errorAnalysisChanged.connect(self.refresh)

    def refresh(self, *_args: object) -> None:
        was = self.active
        self.analysis = self.session.error_analysis
        self.active = self.analysis is not None
        if self.active != was:
            self.activeChanged.emit(self.active)
        elif self.active:
            self.changed.emit()

    def column_of(self, key: str) -> int:
        return self.keys.index(key) if key in self.keys else -1

    def value(self, image_id: int, column: int) -> int | float | None:
        return self.values(np.array([image_id], dtype=np.int64), column)[0]

    def values(self, image_ids: np.ndarray, column: int) -> list[int | float | None]:
        a = self.analysis
        if a is None:
            return [None] * len(image_ids)
        found, k = positions_in(a.images.image_ids, image_ids)
        got = a.images.columns[self.keys[column]][k] if len(a.images.image_ids) else k
        convert = float if column == 0 else int
        return [convert(v) if f else None for v, f in zip(got.tolist(), found.tolist(), strict=True)]

    def display(self, value: int | float, column: int) -> object:
        return f"{100 * value:.2f}" if column == 0 else value


class WorstImages(QObject):
    """The evaluated images by a chosen key, worst first; ``next`` walks them."""

    keyChanged = Signal(str)
    sortRequested = Signal(object, int)  # (ColumnSource, column): sort the image list by it

    def __init__(self, session: ReviewSession, controller: ReviewController, columns: ErrorCountColumns,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.controller, self.columns = session, controller, columns
        self.key = "lost_ap"
        self.only_these = False  # restrict the image list to the images with such errors
        self._last_jump: int | None = None
        session.errorAnalysisChanged.connect(lambda _a: self._refilter())
        session.imageFilterChanged.connect(self._on_filter)

    def set_key(self, key: str) -> None:
        if key not in KEY_LABELS:
            raise KeyError(key)
        if key != self.key:
            self.key = key
            self._last_jump = None
            self.keyChanged.emit(key)
        self._refilter()
        self.sort_list()

    def sort_list(self) -> None:
        """Sort the image list by the key when it is one of the list's columns."""
        if self.columns.column_of(self.key) >= 0:
            self.sortRequested.emit(self.columns, self.columns.column_of(self.key))

    def order(self) -> np.ndarray:
        """Image ids with at least one error of the key (lost AP > 0), worst first."""
        a = self.session.error_analysis
        if a is None:
            return np.zeros(0, dtype=np.int64)
        ids = a.worst_images(self.key)
        values = a.images.columns[self.key][np.searchsorted(a.images.image_ids, ids)]
        return ids[values > 0]

    def step(self, delta: int = 1) -> int | None:
        """Go to the next (``delta`` 1) or previous (-1) worst image. The first step goes to the
        worst; then on from the image the last step went to. Returns the id, or None."""
        ids = self.order().tolist()
        if not ids:
            return None
        cur = self.session.current_id
        if self._last_jump is not None and cur == self._last_jump and cur in ids:
            pos = max(0, min(len(ids) - 1, ids.index(cur) + delta))
        else:
            pos = 0 if delta > 0 else len(ids) - 1
        target = int(ids[pos])
        self._last_jump = target
        self.controller.go_to(target)
        return target

    def position(self) -> tuple[int, int] | None:
        """(1-based rank of the current image in the order, length) or None when not in it."""
        ids = self.order().tolist()
        cur = self.session.current_id
        return (ids.index(cur) + 1, len(ids)) if cur in ids else None

    def set_only_these(self, on: bool) -> None:
        self.only_these = on
        self._refilter()

    def _refilter(self) -> None:
        s = self.session
        if self.only_these and s.error_analysis is not None:
            ids = frozenset(self.order().tolist())
            s.set_image_filter(ImageFilter(ids, f"Images with {KEY_LABELS[self.key]}", FILTER_OWNER))
        else:
            s.clear_image_filter(FILTER_OWNER)

    def _on_filter(self, image_filter: ImageFilter | None) -> None:
        ours = image_filter is not None and image_filter.owner == FILTER_OWNER
        if self.only_these and self.session.error_analysis is not None and not ours:
            # "Show all", or another filter replaced ours
            self.only_these = False
            self.keyChanged.emit(self.key)  # the view re-reads only_these
