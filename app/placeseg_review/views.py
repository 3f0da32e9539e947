"""Named views of the window: what ``--view NAME`` (and later the View menu) switches to.

A view arranges the window for one task; later issues register 'validation', 'evaluation' and
'matches' here with :func:`register_view`. ``stage`` optionally prepares a screenshot (picks
something worth showing once the data is loaded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .main_window import MainWindow


@dataclass(frozen=True)
class ViewSpec:
    name: str
    title: str
    description: str
    apply: Callable[[MainWindow], None]
    stage: Callable[[MainWindow], None] | None = None


VIEWS: dict[str, ViewSpec] = {}


def register_view(spec: ViewSpec) -> None:
    VIEWS[spec.name] = spec


def view_names() -> list[str]:
    return list(VIEWS)


def _apply_viewer(window: MainWindow) -> None:
    for dock in window.docks.values():
        dock.show()
    window.docks["inspector"].raise_()
    window.canvas.fit()


def _stage_viewer(window: MainWindow) -> None:
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
    from .render import Selection

    return Selection(kind, key)


register_view(ViewSpec("viewer", "Viewer", "the photo with ground-truth and prediction overlays",
                       _apply_viewer, _stage_viewer))
