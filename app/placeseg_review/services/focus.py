"""Choosing categories to look at: one owner for what follows from the choice.

Choosing categories in the evaluation view (the session's *focus*) restricts the image list to
the images holding them and hides every other category on the canvas; clearing the choice, or
the list's *Show all*, undoes both. That rule used to live in the view that sets the focus;
here it has one owner, and views only set or read the focus.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from ..model.evaluation import images_with_categories
from .session import ImageFilter, ReviewSession

OWNER = "categories"  # ImageFilter.owner of the filter the focus makes


class CategoryFocus(QObject):
    """Keeps the image filter and the canvas's hidden categories in step with the focus."""

    message = Signal(str)  # what a choice did, for the status bar

    def __init__(self, session: ReviewSession, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._saved_hidden: frozenset[int] | None = None  # the canvas's filter before the focus
        session.focusChanged.connect(self._on_focus)
        session.imageFilterChanged.connect(self._on_image_filter)

    def _on_focus(self, categories: frozenset[int]) -> None:
        s, ev = self.session, self.session.evaluation
        if categories and ev is not None:
            ids = images_with_categories(ev.result.records, categories)
            names = [ev.result.category_names.get(c, str(c)) for c in sorted(categories)]
            label = "Images with " + (", ".join(names) if len(names) <= 3 else f"{len(names)} chosen categories")
            self.message.emit(f"{label}: {len(ids)} image(s) listed, other categories hidden on the photo "
                              "(Clear choice shows everything again)")
            s.set_image_filter(ImageFilter(frozenset(ids.tolist()), label, OWNER))
            if self._saved_hidden is None:
                self._saved_hidden = s.options.hidden_categories
            everything = set(s.category_names()) | set(ev.result.category_ids.tolist())
            s.update_options(hidden_categories=frozenset(everything - set(categories)))
            return
        s.clear_image_filter(OWNER)
        if self._saved_hidden is not None:
            s.update_options(hidden_categories=self._saved_hidden)
            self._saved_hidden = None

    def _on_image_filter(self, image_filter: ImageFilter | None) -> None:
        """*Show all*, or another filter replacing the focus's: the choice is over."""
        if self.session.focus_categories and (image_filter is None or image_filter.owner != OWNER):
            self.session.set_focus(frozenset())
