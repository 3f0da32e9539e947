"""Which predictions pycocotools scores, in which order, and where they belong.

All of it is column arithmetic on the submission:
- a prediction whose category is not in the ground truth's ``categories`` is never loaded
  (``getAnnIds(catIds=...)``);
- in each (image, category) group pycocotools ranks predictions with a stable mergesort on
  ``-score`` -- on equal scores the earlier item in the file comes first -- and keeps the first
  ``maxDets[-1]`` (255): maxDets applies per image *and* per category;
- the README rule (at most 255 per image across categories) is a separate, optional selection:
  each image's highest scores, the earlier item first on ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..submissions import Submission
from .groundtruth import GroundTruth

#: The challenge text's limit on predictions per image (across all categories).
README_LIMIT = 255


def group_ranks(keys: np.ndarray, score: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order of the masked items by (key, -score, file index) and each item's rank in its key.

    Returns ``(order, rank)``: ``order`` lists submission indices; ``rank`` is (N,) with -1 for
    items outside ``mask``.
    """
    idx = np.flatnonzero(mask)
    # lexsort: last key is primary. It is stable and ``idx`` ascends, so ties on -score keep
    # the file order without ``idx`` as a third key (a third of the time saved).
    order = idx[np.lexsort((-score[idx], keys[idx]))]
    sorted_keys = keys[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = sorted_keys[1:] != sorted_keys[:-1]
    first = np.flatnonzero(starts)
    run = np.repeat(first, np.diff(np.append(first, len(order))))
    rank = np.full(len(keys), -1, dtype=np.int64)
    rank[order] = np.arange(len(order)) - run
    return order, rank


def readme_rule_mask(sub: Submission, limit: int = README_LIMIT) -> np.ndarray:
    """Keep each image's ``limit`` highest-scoring predictions (earlier item wins a tie)."""
    _, rank = group_ranks(sub.image_ids, sub.scores, np.ones(len(sub), dtype=bool))
    return rank < limit


def images_over_limit(sub: Submission, limit: int = README_LIMIT) -> dict[int, int]:
    """Images with more than ``limit`` predictions, and how many each has."""
    ids, counts = np.unique(sub.image_ids, return_counts=True)
    over = counts > limit
    return dict(zip(ids[over].tolist(), counts[over].tolist(), strict=True))


@dataclass
class Plan:
    """The predictions one evaluation scores, in pycocotools' group order."""

    selected: np.ndarray  # bool (N,): chosen before scoring (all, or the README rule's)
    known_category: np.ndarray  # bool (N,)
    img_idx: np.ndarray  # int64 (N,): index into gt.image_ids
    cat_idx: np.ndarray  # int64 (N,): index into gt.category_ids (0 where unknown)
    rank: np.ndarray  # int64 (N,): rank in its (image, category) group, -1 if not in one
    scored: np.ndarray  # int64 (n,): submission indices scored, in (image, category, rank) order
    max_det: int

    @property
    def beyond_max_dets(self) -> np.ndarray:
        return self.rank >= self.max_det


def check_images(gt: GroundTruth, sub: Submission) -> np.ndarray:
    """Image indices of the predictions; an image outside the ground truth is an input error
    (pycocotools' loadRes: 'Results do not correspond to current coco set')."""
    if len(gt.image_ids) == 0:
        img_idx_c = np.zeros(len(sub), dtype=np.int64)
        bad = np.ones(len(sub), dtype=bool)
    else:
        img_idx_c = np.minimum(np.searchsorted(gt.image_ids, sub.image_ids), len(gt.image_ids) - 1)
        bad = gt.image_ids[img_idx_c] != sub.image_ids
    if np.any(bad):
        first = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{sub.source}: item {first}: image_id {int(sub.image_ids[first])} is not in the ground "
            f"truth's images ({int(bad.sum())} predictions name such images; pycocotools' loadRes "
            "fails on them)"
        )
    return img_idx_c


def make_plan(gt: GroundTruth, sub: Submission, selected: np.ndarray, max_det: int,
              img_idx: np.ndarray | None = None) -> Plan:
    if img_idx is None:
        img_idx = check_images(gt, sub)
    cat_pos = np.searchsorted(gt.category_ids, sub.category_ids)
    cat_pos_c = np.minimum(cat_pos, max(len(gt.category_ids) - 1, 0))
    if len(gt.category_ids):
        known = gt.category_ids[cat_pos_c] == sub.category_ids
    else:
        known = np.zeros(len(sub), dtype=bool)
    cat_idx = np.where(known, cat_pos_c, 0)
    num_cats = max(len(gt.category_ids), 1)
    keys = img_idx * num_cats + cat_idx
    order, rank = group_ranks(keys, sub.scores, selected & known)
    scored = order[rank[order] < max_det]
    return Plan(selected, known, img_idx, cat_idx, rank, scored, max_det)
