"""From a prepared image and the display options to the layers the canvas shows (Qt-free).

Also hit-testing: what lies under a pixel (:func:`pick`), which the hover card and canvas
clicks use, so that what is hovered is exactly what is drawn on top.
"""

from __future__ import annotations

from concurrent.futures import Executor
from dataclasses import dataclass, field

import numpy as np

from .overlay import (
    category_overlay_colour,
    compose_crops,
    highlight_rgba,
    inner_boundary,
    instance_overlay_colour,
    lut_rgba,
    outline_lut_from,
    render_labels,
    thicken,
    visible_predictions,
)
from .prepared import GtInstance, PreparedImage

COLOUR_MODES = ("instance", "category")
LABEL_MIN_AREA_FRACTION = 0.002  # names only on instances of at least 0.2 % of the image
LABEL_MAX = 40


@dataclass(frozen=True)
class OverlayOptions:
    """What the canvas draws; every control of the layers panel maps to one field."""

    show_photo: bool = True
    show_gt: bool = True
    show_preds: bool = True
    outlines: bool = True
    labels: bool = True
    colour_mode: str = "instance"  # "instance" or "category"
    gt_opacity: float = 0.45
    pred_opacity: float = 0.2
    score_threshold: float = 0.3
    top_k: int = 100  # 0 = no limit
    hidden_categories: frozenset[int] = field(default_factory=frozenset)
    pred_status: PredStatus | None = None  # colour predictions by a status (e.g. match) instead
    gt_status: GtStatus | None = None  # colour ground truth by a status (e.g. found by A, B) instead


@dataclass(frozen=True, eq=False)
class PredStatus:
    """A per-prediction status that colours the predictions, whatever ``colour_mode`` says.

    ``codes[i]`` is the status of the prediction at position ``i`` of the submission file;
    ``colours`` and ``names`` map a code to its colour and to what the hover card says. Compared
    by identity: a new object (new evaluation, other threshold) redraws the predictions.
    """

    codes: np.ndarray
    colours: dict[int | None, tuple[int, int, int]]
    names: dict[int, str]
    title: str = ""  # e.g. "match at IoU 0.50"

    def code_of(self, index: int) -> int | None:
        return int(self.codes[index]) if 0 <= index < len(self.codes) else None

    def name_of(self, index: int) -> str | None:
        code = self.code_of(index)
        return None if code is None else self.names.get(code)


@dataclass(frozen=True, eq=False)
class GtStatus:
    """A per-object status that colours the ground truth, whatever ``colour_mode`` says.

    ``codes[(image id, instance id)]`` is the status of that object (instance id: the PNG's green
    value, a COCO file's annotation id); an object without one is drawn grey. Compared by
    identity, as :class:`PredStatus`.
    """

    codes: dict[tuple[int, int], int]
    colours: dict[int, tuple[int, int, int]]
    names: dict[int, str]
    title: str = ""

    def colour_of(self, image_id: int, instance_id: int) -> tuple[int, int, int]:
        code = self.codes.get((image_id, instance_id))
        return self.colours.get(code, (128, 128, 128)) if code is not None else (128, 128, 128)


@dataclass(frozen=True)
class Selection:
    """A selected object: ``kind`` "gt" (key = label) or "pred" (key = position in the file)."""

    kind: str
    key: int


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    colour: tuple[int, int, int]


@dataclass
class PredLayer:
    rgba: np.ndarray
    top: np.ndarray  # (H, W) int32: position of the topmost shown prediction + 1
    shown: np.ndarray  # positions (into PreparedImage.preds arrays) shown


def _gt_key(o: OverlayOptions) -> tuple:
    return (o.colour_mode, o.gt_opacity, o.outlines, o.hidden_categories, id(o.gt_status))


def _pred_key(o: OverlayOptions) -> tuple:
    return (o.colour_mode, o.pred_opacity, o.outlines, o.score_threshold, o.top_k, o.hidden_categories,
            id(o.pred_status))


@dataclass
class RenderedLayers:
    """The overlays of one image and the option values they were drawn for."""

    gt_key: tuple
    gt: np.ndarray | None
    pred_key: tuple
    preds: PredLayer | None


def render_layers(prep: PreparedImage, opts: OverlayOptions, pool: Executor | None = None) -> RenderedLayers:
    """Both layers; with a ``pool`` the predictions' there while the ground truth's is drawn here."""
    if pool is None:
        return RenderedLayers(_gt_key(opts), render_gt(prep, opts), _pred_key(opts), render_preds(prep, opts))
    preds = pool.submit(render_preds, prep, opts)
    gt = render_gt(prep, opts)
    return RenderedLayers(_gt_key(opts), gt, _pred_key(opts), preds.result())


def layers_for(prep: PreparedImage, opts: OverlayOptions) -> RenderedLayers:
    """The image's layers for ``opts``, redrawing only a layer whose options changed.

    Images prepared in a worker arrive with their layers drawn, so showing one costs no
    overlay rendering on the GUI thread; a slider moves redraws one layer.
    """
    layers = prep.layers
    if not isinstance(layers, RenderedLayers):
        layers = prep.layers = render_layers(prep, opts)
        return layers
    if layers.gt_key != _gt_key(opts):
        layers.gt, layers.gt_key = render_gt(prep, opts), _gt_key(opts)
    if layers.pred_key != _pred_key(opts):
        layers.preds, layers.pred_key = render_preds(prep, opts), _pred_key(opts)
    return layers


@dataclass(frozen=True)
class HoverInfo:
    """What lies under the cursor: at most one ground-truth instance and one prediction."""

    x: int
    y: int
    gt: GtInstance | None
    gt_category: str = ""
    pred_index: int | None = None  # position in the submission file
    pred_category: str = ""
    pred_score: float = 0.0
    pred_area: int = 0
    match: str | None = None  # filled by the evaluation view later

    @property
    def empty(self) -> bool:
        return self.gt is None and self.pred_index is None

    def topmost(self, preds_on_top: bool = True) -> Selection | None:
        if self.pred_index is not None and (preds_on_top or self.gt is None):
            return Selection("pred", self.pred_index)
        if self.gt is not None:
            return Selection("gt", self.gt.label)
        return None


def gt_colours(prep: PreparedImage, mode: str, status: GtStatus | None = None) -> dict[int, tuple[int, int, int]]:
    """Colour of each ground-truth label under a colour mode (or a status, when given)."""
    if prep.gt is None:
        return {}
    if status is not None:
        return {i.label: status.colour_of(prep.entry.id, i.instance_id) for i in prep.gt.instances}
    if mode == "category":
        return {i.label: category_overlay_colour(i.category_id) for i in prep.gt.instances}
    return {i.label: instance_overlay_colour(k) for k, i in enumerate(prep.gt.instances, start=1)}


def pred_colours(prep: PreparedImage, mode: str, status: PredStatus | None = None) -> np.ndarray:
    preds = prep.preds
    if preds is None or len(preds) == 0:
        return np.zeros((0, 3), dtype=np.uint8)
    if status is not None:
        grey = (128, 128, 128)
        return np.array([status.colours.get(status.code_of(int(i)), grey) for i in preds.indices], dtype=np.uint8)
    if mode == "category":
        return np.array([category_overlay_colour(int(c)) for c in preds.category_ids], dtype=np.uint8)
    return np.array([instance_overlay_colour(k + 1) for k in range(len(preds))], dtype=np.uint8)


def render_gt(prep: PreparedImage, opts: OverlayOptions) -> np.ndarray | None:
    gt = prep.gt
    if gt is None:
        return None
    colours = gt_colours(prep, opts.colour_mode, opts.gt_status)
    hidden = opts.hidden_categories
    size = int(gt.labels.max()) + 1 if gt.labels.size else 1
    size = max(size, max((i.label for i in gt.instances), default=0) + 1)
    lut = lut_rgba(size, ((i.label, colours[i.label], 0.0 if i.category_id in hidden else opts.gt_opacity)
                          for i in gt.instances))
    if not opts.outlines:
        return render_labels(gt.labels, lut)
    visible = lut_rgba(size, ((i.label, colours[i.label], 1.0) for i in gt.instances if i.category_id not in hidden))
    return render_labels(gt.labels, lut, thicken(gt.boundary) & (gt.labels != 0), outline_lut_from(visible))


def render_preds(prep: PreparedImage, opts: OverlayOptions) -> PredLayer | None:
    preds = prep.preds
    if preds is None:
        return None
    shown = visible_predictions(preds.scores, preds.category_ids, opts.score_threshold, opts.top_k,
                                opts.hidden_categories)
    rgba, top = compose_crops(prep.shape, preds.crops, preds.edges, shown, pred_colours(prep, opts.colour_mode, opts.pred_status),
                              opts.pred_opacity, opts.outlines)
    return PredLayer(rgba, top, shown)


def render_selection(prep: PreparedImage, sel: Selection | None) -> np.ndarray | None:
    mask = selection_mask(prep, sel)
    return None if mask is None else highlight_rgba(mask)


PAIR_GT_COLOUR = (0, 230, 255)  # ground truth of a pair: a solid cyan outline
PAIR_PRED_COLOUR = (255, 190, 0)  # prediction of a pair: an amber fill and outline
PAIR_DIM_ALPHA = 0.62  # black over everything outside the pair


def render_pair(prep: PreparedImage, pred_index: int | None, gt_label: int | None) -> np.ndarray | None:
    """A prediction and a ground truth drawn as a pair: everything else dimmed, the ground
    truth's outline (3 px, cyan), the prediction filled (amber, with its outline)."""
    pred = selection_mask(prep, Selection("pred", pred_index)) if pred_index is not None else None
    gt = selection_mask(prep, Selection("gt", gt_label)) if gt_label is not None else None
    if pred is None and gt is None:
        return None
    union = np.zeros(prep.shape, dtype=bool)
    for mask in (pred, gt):
        if mask is not None:
            union |= mask
    rgba = np.zeros((*prep.shape, 4), dtype=np.uint8)
    rgba[~union, 3] = int(round(PAIR_DIM_ALPHA * 255))
    if pred is not None:
        rgba[pred, :3] = PAIR_PRED_COLOUR
        rgba[pred, 3] = 150
        edge = thicken(inner_boundary(pred.astype(np.uint8)))
        rgba[edge, :3] = PAIR_PRED_COLOUR
        rgba[edge, 3] = 255
    if gt is not None:
        edge = thicken(thicken(inner_boundary(gt.astype(np.uint8))))
        rgba[edge, :3] = PAIR_GT_COLOUR
        rgba[edge, 3] = 255
    return rgba


def selection_mask(prep: PreparedImage, sel: Selection | None) -> np.ndarray | None:
    if sel is None:
        return None
    if sel.kind == "gt" and prep.gt is not None and sel.key in prep.gt.by_label:
        return prep.gt.labels == sel.key
    if sel.kind == "pred" and prep.preds is not None:
        where = np.flatnonzero(prep.preds.indices == sel.key)
        if where.size:
            y0, x0, crop = prep.preds.crops[int(where[0])]
            mask = np.zeros(prep.shape, dtype=bool)
            region = mask[y0:y0 + crop.shape[0], x0:x0 + crop.shape[1]]
            region |= crop[: region.shape[0], : region.shape[1]]
            return mask
    return None


def gt_labels(prep: PreparedImage, opts: OverlayOptions, names: dict[int, str]) -> list[Label]:
    """Category names at the instances large enough to carry one (largest first)."""
    if prep.gt is None:
        return []
    h, w = prep.shape
    min_area = LABEL_MIN_AREA_FRACTION * h * w
    colours = gt_colours(prep, opts.colour_mode, opts.gt_status)
    chosen = sorted((i for i in prep.gt.instances if i.area >= min_area and i.category_id not in opts.hidden_categories),
                    key=lambda i: -i.area)[:LABEL_MAX]
    return [Label(i.anchor[0], i.anchor[1], names.get(i.category_id, str(i.category_id)), colours[i.label])
            for i in chosen]


def pick(prep: PreparedImage, x: float, y: float, pred_layer: PredLayer | None,
         opts: OverlayOptions, names: dict[int, str]) -> HoverInfo | None:
    """What is drawn at image pixel (x, y); None outside the image."""
    h, w = prep.shape
    xi, yi = int(np.floor(x)), int(np.floor(y))
    if not (0 <= xi < w and 0 <= yi < h):
        return None
    gt_inst = None
    if prep.gt is not None and opts.show_gt:
        label = int(prep.gt.labels[yi, xi])
        inst = prep.gt.by_label.get(label)
        if inst is not None and inst.category_id not in opts.hidden_categories:
            gt_inst = inst
    info = HoverInfo(xi, yi, gt_inst, names.get(gt_inst.category_id, "") if gt_inst else "")
    if pred_layer is not None and opts.show_preds and prep.preds is not None:
        pos = int(pred_layer.top[yi, xi]) - 1
        if pos >= 0:
            preds = prep.preds
            cat = int(preds.category_ids[pos])
            index = int(preds.indices[pos])
            status = opts.pred_status
            match = None if status is None else status.name_of(index)
            if match and status is not None and status.title:
                match = f"{match} ({status.title})"
            info = HoverInfo(xi, yi, gt_inst, info.gt_category, index, names.get(cat, str(cat)),
                             float(preds.scores[pos]), int(preds.areas[pos]), match)
    return info
