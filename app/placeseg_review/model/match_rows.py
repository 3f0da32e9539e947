"""The rows of the matches view for one image at one IoU threshold (Qt-free).

Matching columns (matched ground truth, IoU, status) come from the evaluation's records
(``MatchRecords.threshold_columns``), so they exist as soon as the evaluation does; the "why"
columns come from the error analysis (``ErrorAnalysis.explain_image``) when it was made at the
same threshold. Each row also names its *partner*, the object the canvas draws it with: for a
prediction its matched ground truth, else the ground truth its error refers to, else its best
overlap; for a ground truth its matching prediction, else the error that claims it, else its
best candidate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from placeseg_core.analysis import ErrorAnalysis
from placeseg_core.evaluation import MatchRecords
from placeseg_core.evaluation.records import Outcome, PredStatus

from .evaluation import Evaluation
from .prepared import PreparedImage

STATUS_TEXT = {
    PredStatus.SCORED: "scored",
    PredStatus.UNKNOWN_CATEGORY: "not scored (category unknown)",
    PredStatus.BEYOND_MAX_DETS: "beyond maxDets",
    PredStatus.REMOVED_BY_README_RULE: "dropped (README rule)",
}
OUTCOME_TEXT = {
    Outcome.TP: "true positive", Outcome.FP: "false positive", Outcome.IGNORED: "ignored",
    Outcome.FP_ID0: "false positive (GT id 0)",
}
KIND_TEXT = {
    "true_positive": "", "ignored": "", "classification": "classification", "localisation": "localisation",
    "both": "cls + loc", "duplicate": "duplicate", "background": "background", "id0_quirk": "id-0 quirk",
    "matched": "", "missed": "missed", "claimed": "claimed by an error",
}


@dataclass(frozen=True)
class PredRow:
    rank: int  # 1-based position in the image, scored predictions by score first
    index: int  # position in the submission file
    category_id: int
    score: float
    matched_gt: int | None  # GT id matched at the threshold (records)
    matched_row: int | None
    iou: float | None
    outcome: Outcome  # records' outcome at the threshold (NOT_SCORED when not scored)
    status: str  # what the official score makes of it, in words
    kind: str | None  # the analysis' kind (an error type ...), None without an analysis
    why: str  # the analysis' explanation ("" without one)
    partner_row: int | None  # GT row drawn with it


@dataclass(frozen=True)
class GtRow:
    row: int  # GT row of the records
    gt_id: int
    category_id: int
    area: float
    matched_pred: int | None  # submission index matching it at the threshold (records)
    iou: float | None
    status: str  # matched / missed / ignored (crowd) / missed (GT id 0)
    kind: str | None
    why: str
    partner_pred: int | None


@dataclass
class ImageRows:
    image_id: int
    threshold_index: int
    predictions: list[PredRow]
    ground_truth: list[GtRow]
    explained: bool  # the "why" columns are filled (an analysis at this threshold)


class ThresholdColumns:
    """``records.threshold_columns(t)`` computed once per threshold (cheap to ask again)."""

    def __init__(self, records: MatchRecords) -> None:
        self.records = records
        self._cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def get(self, t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if t not in self._cache:
            self._cache[t] = self.records.threshold_columns(t)
        return self._cache[t]


def _opt_float(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def image_rows(columns: ThresholdColumns, t: int, image_id: int, analysis: ErrorAnalysis | None) -> ImageRows:
    """Every prediction (scored ones by score, then the others) and GT of one image at ``t``."""
    r = columns.records
    rows, ious, code = columns.get(t)
    idx = r.image_prediction_indices(image_id)
    scored = r.status[idx] == PredStatus.SCORED
    first = idx[scored][np.lexsort((idx[scored], -r.scores[idx[scored]]))]
    rest = idx[~scored][np.lexsort((idx[~scored], -r.scores[idx[~scored]]))]
    order = np.concatenate((first, rest)).astype(np.int64)
    explainer = analysis if analysis is not None and analysis.records is r and analysis.columns.t_index == t else None
    explained = explainer is not None
    why = {}
    gwhy = {}
    if explainer is not None:
        ex = explainer.explain_image(image_id)
        why = {p.index: p for p in ex.predictions}
        gwhy = {g.row: g for g in ex.ground_truth}
    preds: list[PredRow] = []
    for rank, i in enumerate(order.tolist(), start=1):
        c = Outcome(int(code[i]))
        mrow = int(rows[i])
        w = why.get(i)
        partner = mrow if mrow >= 0 else None
        if partner is None and explainer is not None:
            partner = _pred_partner(explainer, i)
        preds.append(PredRow(
            rank=rank, index=i, category_id=int(r.category_ids[i]), score=float(r.scores[i]),
            matched_gt=int(r.gt_ids[mrow]) if mrow >= 0 else None, matched_row=mrow if mrow >= 0 else None,
            iou=_opt_float(ious[i]) if mrow >= 0 else None, outcome=c,
            status=OUTCOME_TEXT.get(c) or STATUS_TEXT[PredStatus(int(r.status[i]))],
            kind=None if w is None else w.kind, why="" if w is None else w.text, partner_row=partner))
    gts: list[GtRow] = []
    for g in r.image_gt_rows(image_id).tolist():
        by = int(r.gt_matched[g, t]) if r.gt_matched.shape[1] else -1
        gid = int(r.gt_ids[g])
        if r.gt_ignored[g]:
            status = "ignored (crowd)"
        elif by >= 0 and gid != 0:
            status = "matched"
        elif by >= 0:
            status = "missed (GT id 0)"
        else:
            status = "missed"
        gw = gwhy.get(g)
        partner = by if by >= 0 else None
        if partner is None and explainer is not None:
            partner = _gt_partner(explainer, g)
        gts.append(GtRow(
            row=g, gt_id=gid, category_id=int(r.gt_category_ids[g]), area=float(r.gt_areas[g]),
            matched_pred=by if by >= 0 else None, iou=_opt_float(ious[by]) if by >= 0 else None,
            status=status, kind=None if gw is None else gw.kind, why="" if gw is None else gw.text,
            partner_pred=partner))
    return ImageRows(int(image_id), t, preds, gts, explained)


def _pred_partner(a: ErrorAnalysis, i: int) -> int | None:
    """The GT an unmatched prediction is drawn with: its error's GT, else its best overlap."""
    target = int(a.columns.target[i])
    if target >= 0:
        return target
    ov = a.overlaps
    same, other = int(ov.same_row[i]), int(ov.other_row[i])
    if same >= 0 and (other < 0 or ov.same_iou[i] >= ov.other_iou[i]):
        return same
    return other if other >= 0 else None


def _gt_partner(a: ErrorAnalysis, g: int) -> int | None:
    """The prediction a missed GT is drawn with: the error that claims it, else its best candidate."""
    by = int(a.columns.gt_by[g])
    if by >= 0:
        return by
    best = int(a.overlaps.gt_best_pred[g])
    # drawn as its partner only when it overlaps enough to explain something (the analysis'
    # background threshold): a prediction barely touching the object is not its candidate
    return best if best >= 0 and a.overlaps.gt_best_iou[g] >= a.columns.t_b else None


def gt_row_labels(prep: PreparedImage, evaluation: Evaluation) -> dict[int, int]:
    """GT row of the evaluation's records -> label of the prepared image's ground truth.

    Matched by the object's own id (``Evaluation.gt_instance_ids``: a PNG's instance id, a COCO
    file's annotation id) and checked by category; a row without exactly one such object in
    the image gets no label.
    """
    if prep.gt is None:
        return {}
    records = evaluation.result.records
    by_id: dict[int, list] = {}
    for inst in prep.gt.instances:
        by_id.setdefault(inst.instance_id, []).append(inst)
    out: dict[int, int] = {}
    for g in records.image_gt_rows(prep.entry.id).tolist():
        found = by_id.get(int(evaluation.gt_instance_ids[g]), [])
        if len(found) == 1 and found[0].category_id == int(records.gt_category_ids[g]):
            out[g] = found[0].label
    return out


def label_gt_ids(prep: PreparedImage, evaluation: Evaluation) -> dict[int, int]:
    """Label of the prepared image's ground truth -> its annotation id in the evaluation ("GT id")."""
    records = evaluation.result.records
    return {label: int(records.gt_ids[g]) for g, label in gt_row_labels(prep, evaluation).items()}


def gt_row_instances(prep: PreparedImage | None, labels: dict[int, int]) -> dict[int, int]:
    """GT row -> instance id (green value, or a COCO file's annotation id) from ``gt_row_labels``' map."""
    if prep is None or prep.gt is None:
        return {}
    return {g: prep.gt.by_label[label].instance_id for g, label in labels.items() if label in prep.gt.by_label}
