"""The challenge's numbers from ``precision`` / ``recall``, as pycocotools' ``summarize`` does.

``COCOeval.summarize()`` asks for ``maxDets=100`` for its first line, which the challenge's
``[1, 50, 255]`` does not contain, so it prints AP = -1; docs/scoring.md (section 4) defines AP at maxDets 255
instead. Every mean is pycocotools' ``np.mean(s[s > -1])`` over the same slice in the same
element order, hence bit-identical; an empty selection (no ground truth) is ``None`` here, where
pycocotools says -1.
"""

from __future__ import annotations

import numpy as np

from .params import EvalParams


def mean_defined(values: np.ndarray) -> float | None:
    """``np.mean(s[s > -1])``, or None when no entry is defined."""
    defined = values[values > -1]
    if defined.size == 0:
        return None
    return float(np.mean(defined))


def _select(params: EvalParams, array: np.ndarray, ap: bool, iou: float | None, area: str,
            max_det: int) -> np.ndarray:
    # pycocotools indexes with lists (aind, mind), keeping the dimensions: same element order
    aind = [i for i, lbl in enumerate(params.area_labels) if lbl == area]
    mind = [i for i, m in enumerate(params.max_dets) if m == max_det]
    s = array
    if iou is not None:
        s = s[np.where(iou == params.iou_thrs)[0]]
    return s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]


def summary_stat(params: EvalParams, precision: np.ndarray, recall: np.ndarray, ap: bool,
                 iou: float | None = None, area: str = "all", max_det: int | None = None) -> float | None:
    """One line of pycocotools' summary (AP when ``ap``, else AR); None where -1."""
    m = params.max_det if max_det is None else max_det
    return mean_defined(_select(params, precision if ap else recall, ap, iou, area, m))


def summary_keys(params: EvalParams) -> list[str]:
    return ["AP", "AP50", "AP75", "APs", "APm", "APl",
            *[f"AR{m}" for m in params.max_dets], "ARs", "ARm", "ARl"]


def summarize(params: EvalParams, precision: np.ndarray, recall: np.ndarray) -> dict[str, float | None]:
    """The 12 numbers: AP, AP50, AP75, APs/m/l at maxDets[-1]; AR at each maxDets; ARs/m/l."""
    top = params.max_det
    out: dict[str, float | None] = {
        "AP": summary_stat(params, precision, recall, True, max_det=top),
        "AP50": summary_stat(params, precision, recall, True, iou=0.5, max_det=top),
        "AP75": summary_stat(params, precision, recall, True, iou=0.75, max_det=top),
        "APs": summary_stat(params, precision, recall, True, area="small", max_det=top),
        "APm": summary_stat(params, precision, recall, True, area="medium", max_det=top),
        "APl": summary_stat(params, precision, recall, True, area="large", max_det=top),
    }
    for m in params.max_dets:
        out[f"AR{m}"] = summary_stat(params, precision, recall, False, max_det=m)
    out["ARs"] = summary_stat(params, precision, recall, False, area="small", max_det=top)
    out["ARm"] = summary_stat(params, precision, recall, False, area="medium", max_det=top)
    out["ARl"] = summary_stat(params, precision, recall, False, area="large", max_det=top)
    return out


def mean_ap(params: EvalParams, precision: np.ndarray) -> float | None:
    """The challenge's mean AP (docs/scoring.md, section 4): mean of precision[0:10, :, :, 0, maxDets 255] over entries > -1."""
    return mean_defined(precision[:, :, :, params.area_index("all"), params.max_dets.index(params.max_det)])


def per_category_ap(params: EvalParams, precision: np.ndarray) -> list[float | None]:
    """AP of each category (same slice, one category); None for a category without GT."""
    a, m = params.area_index("all"), params.max_dets.index(params.max_det)
    return [mean_defined(precision[:, :, k, a, m]) for k in range(precision.shape[2])]
