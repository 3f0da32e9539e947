"""A hand-made data set (challenge layout) where every error type is known, for the matches
and error-analysis views. Image 20210, 80 x 60, ground truth (instance id: category):

    1: painting (10) rows 50:58, cols 35:45  nothing near it: missed (GT id 0: it keeps the
                                             id-0 quirk away from the true positive)
    2: chair (8)     rows 5:25,  cols 5:25   matched by p0; p1 is its duplicate
    3: person (4)    rows 30:55, cols 5:30   p2 covers 7 of its 25 columns: localisation (IoU 0.28)
    4: lamp (37)     rows 5:25,  cols 50:75  nothing near it: missed
    5: bed (1)       rows 35:55, cols 50:75  p3 (chair) fits it exactly: classification

p4 (chair) lies where there is nothing: background; p6 (lamp) covers a third of the bed and
no lamp: classification and localisation ("both"). Image 20211 holds one person, found (p5).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gui_fixtures import WAIT_MS
from PIL import Image

from placeseg_core import rle as rle_utils
from placeseg_core.categories import default_categories

W, H = 80, 60
GREY = 128


@dataclass
class ErrorSet:
    root: Path
    ids: tuple[int, int] = (20210, 20211)
    # prediction index (position in the file) -> expected kind at IoU 0.50
    kinds: tuple[tuple[int, str], ...] = ((0, "true_positive"), (1, "duplicate"), (2, "localisation"),
                                          (3, "classification"), (4, "background"), (5, "true_positive"),
                                          (6, "both"))
    empty_px: tuple[int, int] = (40, 10)  # (x, y): no object, no prediction
    loc_px: tuple[int, int] = (9, 42)  # inside p2 (and the person), off every outline
    person_edge_px: tuple[int, int] = (29, 42)  # the person's right edge, outside p2
    chair_px: tuple[int, int] = (15, 15)  # inside the chair (p0, p1)
    lamp_px: tuple[int, int] = (62, 15)  # inside the lamp (missed)


def _box(r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[r0:r1, c0:c1] = True
    return m


def write_error_set(root: Path) -> ErrorSet:
    img_dir = root / "images" / "validation"
    ann_dir = root / "annotations_instance" / "validation"
    img_dir.mkdir(parents=True)
    ann_dir.mkdir(parents=True)
    objects_a = [(_box(50, 58, 35, 45), 10), (_box(5, 25, 5, 25), 8), (_box(30, 55, 5, 30), 4), (_box(5, 25, 50, 75), 37), (_box(35, 55, 50, 75), 1)]
    objects_b = [(_box(10, 40, 20, 50), 4)]
    for k, objects in enumerate((objects_a, objects_b), start=1):
        rgb = np.zeros((H, W, 3), np.uint8)
        for inst, (mask, cat) in enumerate(objects, start=1):
            rgb[mask, 0], rgb[mask, 1] = cat, inst
        Image.fromarray(rgb).save(ann_dir / f"ADE_val_{k:08d}.png")
        Image.fromarray(np.full((H, W, 3), GREY, np.uint8)).save(img_dir / f"ADE_val_{k:08d}.jpg", quality=95)
    catalog = {
        "images": [{"id": 20210 + k, "file_name": f"ADE_val_{k + 1:08d}.jpg", "width": W, "height": H} for k in range(2)],
        "categories": default_categories(),
    }
    (root / "imgCatIds.json").write_text(json.dumps(catalog))
    shifted = np.roll(objects_a[1][0], 1, axis=1)
    preds = [
        (20210, 8, objects_a[1][0], 0.9),  # p0 true positive
        (20210, 8, shifted, 0.8),  # p1 duplicate of p0 (IoU 0.90 with GT 1, taken)
        (20210, 4, _box(30, 55, 5, 12), 0.7),  # p2 localisation
        (20210, 8, objects_a[4][0], 0.6),  # p3 classification (a chair on the bed)
        (20210, 8, _box(27, 30, 36, 46), 0.5),  # p4 background
        (20211, 4, objects_b[0][0], 0.95),  # p5 true positive
        (20210, 37, _box(35, 55, 50, 58), 0.55),  # p6 both: a lamp on a third of the bed (IoU 0.32)
    ]
    out = [{"image_id": i, "category_id": c, "segmentation": rle_utils.encode(m), "score": s} for i, c, m, s in preds]
    (root / "predictions.json").write_text(json.dumps(out))
    return ErrorSet(root)


def open_and_analyse(qtbot: object, window: object, root: Path, view: str = "matches") -> None:
    """Open the set, show a view (which evaluates and analyses) and wait for the analysis."""
    window.controller.open_dataset(root)
    qtbot.waitUntil(lambda: window.session.predictions is not None, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: window.session.image is not None and not window.controller.busy, timeout=WAIT_MS)
    window.show_analysis(view, run=True)
    # The analysis starts AUTO_DELAY_MS after the evaluation is shown (a timer): wait for its
    # result, for this evaluation at the shown threshold, and for every job to have ended.
    qtbot.waitUntil(lambda: window.session.error_analysis is not None and not window.controller.jobs
                    and window.errors.current(), timeout=WAIT_MS)
