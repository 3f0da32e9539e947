"""What the bootstrap needs of one evaluation, laid out once so that resamples are cheap.

A resample is a list of images in draw order; pycocotools would evaluate it as a data set in
which each drawn copy is an image of its own, placed in draw order. Matching is per image, so
each copy has the matches, outcomes and ranks of its original: nothing is re-matched. What
changes is ``accumulate``: per category, the copies' detections are concatenated in draw order
and sorted stably by descending score, and the non-ignored ground truth is counted per copy.

Only the points where a true positive lands matter for the interpolated precision (see
``resample.py``), and copies of one detection are adjacent in the sorted list unless another
detection of the same category has exactly the same score. So detections are laid out in
pycocotools' order for the original evaluation (category, -score, image, rank) as *slots*:

- a regular slot is one detection; a resample repeats it as often as its image was drawn;
- a *mixed tie group* is a run of two or more detections of one category with the same score
  that holds a true positive and a false positive at some IoU threshold. Their order in a
  resample depends on the draw positions of their images (and on the ranks within an image),
  so the group is laid out again for each resample (``groups.py``).

Ties whose members agree at every threshold need no such care: swapping two true positives (or
two false positives) does not change any count where a true positive lands.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..evaluation.params import EvalParams
from ..evaluation.records import MatchRecords, Outcome, PredStatus


@dataclass
class CategorySlots:
    """One category's slots in pycocotools' order (arrays index the file's scored detections)."""

    k: int
    slot_det: np.ndarray  # int64 (S,): the detection of a regular slot, the first of a group
    slot_group: np.ndarray  # int64 (S,): -1 for a regular slot, else the group's id
    slot_tp: np.ndarray  # bool (T, S): a true positive at t (a group: any member)
    clean: bool  # no detection of the category is ignored at any threshold
    nonig_rep: tuple[int, ...]  # per threshold, the first threshold with the same ignored set


@dataclass
class BootstrapTable:
    """One evaluation as the bootstrap reads it: detections in pycocotools' order, their
    outcome at each threshold, non-ignored ground truth per image and category, tie groups."""

    params: EvalParams
    num_images: int
    num_categories: int
    det_img: np.ndarray  # int64 (D,): image index (into the sorted evaluated image ids)
    tp: np.ndarray  # bool (T, D + 1): true positive; the extra last column is padding (False)
    nonig: np.ndarray  # bool (T, D + 1): true or false positive (not ignored); padding False
    npig: np.ndarray  # int64 (n, K): non-ignored ground truth per image and category
    npig_nonzero: tuple[np.ndarray, np.ndarray, np.ndarray]  # (image, count, category) where > 0
    categories: list[CategorySlots]
    group_bounds: np.ndarray  # int64 (G, 2): group g holds detections [start, end)
    mixed_by_image: np.ndarray  # int64: detections of mixed groups sorted by (image, position)
    mixed_image_start: np.ndarray  # int64 (n + 1,): CSR offsets into mixed_by_image
    mixed_group_by_image: np.ndarray  # int64: the group of each entry of mixed_by_image
    mixed_group: np.ndarray  # int64 (D + 1,): group id of each detection (-1 if none)
    tp_capable: np.ndarray  # bool (D + 1,): a true positive at some threshold (padding: False)
    group_patterns: tuple[int, ...]  # thresholds whose ignored sets groups need (groups.py)

    @property
    def num_detections(self) -> int:
        return len(self.det_img)

    @property
    def padding(self) -> int:
        """Index of the padding detection (never a true or false positive)."""
        return len(self.det_img)

    @property
    def num_groups(self) -> int:
        return len(self.group_bounds)


def build_table(records: MatchRecords, image_ids: np.ndarray, category_ids: np.ndarray,
                params: EvalParams) -> BootstrapTable:
    """Lay out one evaluation's match records (area "all", maxDets[-1]) for resampling.

    ``image_ids``: the evaluated images, sorted (pycocotools' ``params.imgIds``);
    ``category_ids``: the ground truth's categories, sorted (``params.catIds``).
    """
    T = params.num_thresholds
    n, K = len(image_ids), len(category_ids)
    scored = np.flatnonzero(records.status == PredStatus.SCORED)
    cat = np.searchsorted(category_ids, records.category_ids[scored])
    img = np.searchsorted(image_ids, records.image_ids[scored])
    score = records.scores[scored]
    rank = records.rank[scored]
    # pycocotools' order: per category, descending score; ties by image, then by the rank
    # evaluateImg gave in the image (accumulate's stable mergesort over images in id order)
    order = np.lexsort((rank, img, -score, cat))
    scored, cat, img, score = scored[order], cat[order], img[order], score[order]
    D = len(scored)
    tp = np.zeros((T, D + 1), dtype=bool)
    nonig = np.zeros((T, D + 1), dtype=bool)
    for t in range(T):
        _, _, code = records.threshold_columns(t)
        c = code[scored]
        tp[t, :D] = c == Outcome.TP
        nonig[t, :D] = (c == Outcome.TP) | (c == Outcome.FP) | (c == Outcome.FP_ID0)
    fp = nonig & ~tp
    npig = _non_ignored_gt(records, image_ids, category_ids)
    nz_cat, nz_img = np.nonzero(npig.T)  # by category, then image

    # runs of equal (category, score): the tie groups
    starts = np.ones(D, dtype=bool)
    if D > 1:
        starts[1:] = (cat[1:] != cat[:-1]) | (score[1:] != score[:-1])
    run_start = np.flatnonzero(starts)
    run_end = np.append(run_start[1:], D)
    run_len = run_end - run_start
    if D:
        run_tp = np.logical_or.reduceat(tp[:, :D], run_start, axis=1)
        run_fp = np.logical_or.reduceat(fp[:, :D], run_start, axis=1)
        mixed_run = (run_len > 1) & np.any(run_tp & run_fp, axis=0)
    else:
        run_tp = np.zeros((T, 0), dtype=bool)
        mixed_run = np.zeros(0, dtype=bool)
    group_runs = np.flatnonzero(mixed_run)
    group_bounds = np.stack((run_start[group_runs], run_end[group_runs]), axis=1).astype(np.int64)
    mixed_group = np.full(D + 1, -1, dtype=np.int64)
    mixed_group[:D] = np.repeat(np.where(mixed_run, np.cumsum(mixed_run) - 1, -1), run_len)
    mixed = np.flatnonzero(mixed_group[:D] >= 0)
    # per image, its detections of mixed groups by group, then by their order in the group
    # (image order is fixed within one image: rank) -- what a drawn copy contributes
    by_image = mixed[np.argsort(img[mixed], kind="stable")]
    image_start = np.searchsorted(img[by_image], np.arange(n + 1), side="left")

    # slots: a mixed group is one slot, every other detection a slot of its own
    first_in_slot = np.ones(D, dtype=bool)
    first_in_slot[mixed] = False
    first_in_slot[group_bounds[:, 0]] = True
    slot_det = np.flatnonzero(first_in_slot)
    slot_group = mixed_group[slot_det]
    slot_tp = tp[:, slot_det]
    gslots = np.flatnonzero(slot_group >= 0)
    if len(gslots):
        slot_tp[:, gslots] = run_tp[:, group_runs]
    cat_bounds = np.searchsorted(cat, np.arange(K + 1), side="left")
    slot_cat_bounds = np.searchsorted(slot_det, cat_bounds, side="left")
    categories = []
    for k in range(K):
        lo, hi = int(slot_cat_bounds[k]), int(slot_cat_bounds[k + 1])
        # nothing after the category's last possible true positive can change a point: the
        # tail (low-scored false positives, often most of the list) is left out
        can_hit = np.flatnonzero(slot_tp[:, lo:hi].any(axis=0))
        hi = lo + int(can_hit[-1]) + 1 if len(can_hit) else lo
        d_lo, d_hi = int(cat_bounds[k]), int(cat_bounds[k + 1])
        block = nonig[:, d_lo:d_hi]
        rep = [next(u for u in range(t + 1) if np.array_equal(block[u], block[t])) for t in range(T)]
        categories.append(CategorySlots(
            k=k, slot_det=slot_det[lo:hi], slot_group=slot_group[lo:hi], slot_tp=slot_tp[:, lo:hi],
            clean=bool(block.all()), nonig_rep=tuple(rep),
        ))
    patterns = sorted({rep for c in categories if not c.clean and (c.slot_group >= 0).any()
                       for rep in c.nonig_rep})
    return BootstrapTable(
        params=params, num_images=n, num_categories=K, det_img=img, tp=tp, nonig=nonig,
        npig=npig, npig_nonzero=(nz_img, npig[nz_img, nz_cat], nz_cat), categories=categories,
        group_bounds=group_bounds, mixed_by_image=by_image,
        mixed_image_start=image_start, mixed_group_by_image=mixed_group[by_image], mixed_group=mixed_group,
        tp_capable=np.any(tp, axis=0), group_patterns=tuple(patterns),
    )


def _non_ignored_gt(records: MatchRecords, image_ids: np.ndarray, category_ids: np.ndarray) -> np.ndarray:
    """pycocotools' ``npig`` per (image, category): ground truth not ignored in area "all"."""
    n, K = len(image_ids), len(category_ids)
    keep = ~records.gt_ignored
    gi = np.searchsorted(image_ids, records.gt_image_ids[keep])
    gk = np.searchsorted(category_ids, records.gt_category_ids[keep])
    counts = np.bincount(gi * K + gk, minlength=n * K) if n * K else np.zeros(0, dtype=np.int64)
    return counts.reshape(n, K).astype(np.int64)
