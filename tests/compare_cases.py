"""Pairs of submissions for the compare tests, and the bootstrap's resamples built literally.

``second_model`` makes a B from a case's A: some predictions dropped, scores moved (rounded to
one decimal when the case has ties, so equal scores across images stay common), a few
duplicates. ``literal_resample`` builds what the bootstrap's definition describes: the drawn
images as copies in draw order, each with a new image id (increasing with the draw position,
so pycocotools' sorted image ids follow the draws) and its annotations with new ids, and the
predictions of each copy in file order.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def second_model(items: list[dict[str, Any]], seed: int, ties: bool) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    out = []
    for it in items:
        if rng.random() < 0.15:
            continue
        score = float(it["score"]) * float(rng.uniform(0.7, 1.3))
        score = min(round(score, 1) if ties else score, 1.0)
        out.append(dict(it, score=score))
        if rng.random() < 0.05:
            out.append(dict(it, score=round(score * 0.5, 1) if ties else score * 0.5))
    return out


def literal_resample(gt: dict[str, Any], items: list[dict[str, Any]], image_ids: np.ndarray,
                     draw: np.ndarray) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Ground truth and predictions of one resample, as a data set pycocotools can score."""
    images = {im["id"]: im for im in gt["images"]}
    anns: dict[int, list[dict[str, Any]]] = {}
    for a in gt["annotations"]:
        anns.setdefault(a["image_id"], []).append(a)
    preds: dict[int, list[dict[str, Any]]] = {}
    for it in items:
        preds.setdefault(it["image_id"], []).append(it)
    new_images, new_anns, new_items = [], [], []
    next_ann = 1  # never 0: the copies of one annotation cannot all keep id 0 anyway
    for position, index in enumerate(draw.tolist()):
        old, new = int(image_ids[index]), 1_000_000 + position
        new_images.append(dict(images[old], id=new))
        for a in anns.get(old, []):
            new_anns.append(dict(a, id=next_ann, image_id=new))
            next_ann += 1
        new_items.extend(dict(it, image_id=new) for it in preds.get(old, []))
    return dict(gt, images=new_images, annotations=new_anns), new_items


def official_mean_ap(E: Any) -> float | None:
    """pycocotools' headline number: mean of precision[:, :, :, 0, -1] over entries > -1."""
    p = E.eval["precision"][:, :, :, 0, -1]
    s = p[p > -1]
    return float(np.mean(s)) if s.size else None
