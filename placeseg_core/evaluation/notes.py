"""Plain-language notes on what moved a score: pycocotools quirks and the README rule."""

from __future__ import annotations

import numpy as np

from ..categories import is_places_categories
from ..submissions import Submission
from .groundtruth import GroundTruth
from .results import (
    VARIANT_ALL_PREDICTIONS,
    VARIANT_ID0_COUNTED,
    VARIANT_MASK_AREAS,
    VARIANT_README_RULE,
    EvaluationResult,
)


def quirk_notes(result: EvaluationResult) -> list[str]:
    """What changed the score, with the corrected numbers (the CLI prints these, the GUI shows
    them under the summary: one wording for both)."""
    out: list[str] = []
    official = result.mean_ap

    def num(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.10f}"

    def verdict(name: str) -> str:
        return "changed the score" if result.changed_by(name) else "did not change any number"

    q = result.quirks
    if VARIANT_ID0_COUNTED in result.variants:
        v = result.variants[VARIANT_ID0_COUNTED]
        out.append(
            f"quirk: {q.id0_predictions} prediction(s) matched the ground truth with id 0 "
            f"({q.id0_matches} at area 'all' over the 10 thresholds); pycocotools stores a match "
            f"as the GT id and counts id 0 as no match; this {verdict(VARIANT_ID0_COUNTED)}. "
            f"Official mean AP {num(official)}; with those matches counted {num(v.mean_ap)}."
        )
    if VARIANT_MASK_AREAS in result.variants:
        v = result.variants[VARIANT_MASK_AREAS]
        out.append(
            f"quirk: the first prediction has a 'bbox', so pycocotools' loadRes took every "
            f"prediction's area from its box (w*h); {q.bbox_area_moves} scored prediction(s) fall in "
            f"another area range than their mask; this {verdict(VARIANT_MASK_AREAS)}. Official APs/APm/APl "
            f"{num(result.summary['APs'])}/{num(result.summary['APm'])}/{num(result.summary['APl'])}; "
            f"with mask areas {num(v.summary['APs'])}/{num(v.summary['APm'])}/{num(v.summary['APl'])} "
            f"(mean AP {num(v.mean_ap)})."
        )
    r = result.readme
    # The 255-per-image rule is the challenge's; other COCO sets only hear of it when asked.
    if r.broken and (r.applied or is_places_categories(result.category_names)):
        worst = max(r.images_over.values())
        if VARIANT_README_RULE in result.variants:
            v = result.variants[VARIANT_README_RULE]
            out.append(
                f"README rule broken: {len(r.images_over)} image(s) have more than {r.limit} "
                f"predictions (up to {worst}); the challenge text makes such a file invalid, the "
                f"evaluator scores it anyway (maxDets is per image and category). Mean AP "
                f"{num(official)} as scored; {num(v.mean_ap)} keeping each image's {r.limit} best."
            )
        elif VARIANT_ALL_PREDICTIONS in result.variants:
            v = result.variants[VARIANT_ALL_PREDICTIONS]
            out.append(
                f"README rule applied: {r.removed} prediction(s) beyond each image's {r.limit} best "
                f"were removed before scoring ({len(r.images_over)} image(s)). Mean AP "
                f"{num(official)}; {num(v.mean_ap)} as the evaluator scores the whole file."
            )
    if q.unknown_category:
        out.append(f"note: {q.unknown_category} prediction(s) name a category the ground truth does "
                   "not list; pycocotools never loads them.")
    if q.beyond_max_dets:
        out.append(f"note: {q.beyond_max_dets} prediction(s) are beyond the {result.params.max_det} "
                   "best of their image and category; pycocotools drops them.")
    if q.gt_has_id_zero and VARIANT_ID0_COUNTED not in result.variants:
        out.append("note: the ground truth has an annotation with id 0, but no prediction matched "
                   "it, so the quirk did not change the score.")
    return out


def size_notes(gt: GroundTruth, sub: Submission) -> list[str]:
    """Predictions whose mask size is not their image's: pycocotools scores them without a word
    (their IoUs are meaningless); the validator calls them errors, so the score says so too."""
    sizes = {int(im["id"]): (im.get("height"), im.get("width")) for im in gt.dataset.get("images", [])
             if isinstance(im, dict) and "id" in im}
    if not sizes or len(sub) == 0:
        return []
    ids = np.fromiter(sizes, dtype=np.int64, count=len(sizes))
    hw = np.array([[h if isinstance(h, int) else -1, w if isinstance(w, int) else -1] for h, w in sizes.values()],
                  dtype=np.int64)
    order = np.argsort(ids)
    ids, hw = ids[order], hw[order]
    # the loader's column when it has one: 200k small lists made into an array took 0.1 s
    got = (sub.mask_sizes if sub.mask_sizes is not None
           else np.array([r["size"] for r in sub.rles], dtype=np.int64).reshape(-1, 2))
    pos = np.minimum(np.searchsorted(ids, sub.image_ids), len(ids) - 1)
    known = (ids[pos] == sub.image_ids) & (hw[pos, 0] >= 0)
    wrong = np.flatnonzero(known & np.any(got != hw[pos], axis=1))
    if wrong.size == 0:
        return []
    i = int(wrong[0])
    swapped = int(np.sum(np.all(got[wrong] == hw[pos[wrong]][:, ::-1], axis=1)))
    detail = f", {swapped} of them with height and width swapped" if swapped else ""
    return [f"warning: {wrong.size} prediction(s) have a mask size other than their image's{detail} "
            f"(e.g. item {i}: {got[i].tolist()} for image {int(sub.image_ids[i])} of "
            f"{hw[pos[i]].tolist()}); pycocotools scores them anyway, with meaningless IoUs; "
            "'placeseg validate' lists them"]
