"""Real COCO data (polygons, crowd regions, pycocotools' default maxDets): the fast engine
equals pycocotools and the numbers the cocoapi publishes for its fake results."""

from __future__ import annotations

import json

import numpy as np
import pytest
from test_eval_cases import run_pycocotools

from placeseg_core.evaluation import EvalParams, evaluate

# val2014_fake_eval_res.txt, segm block (3 decimals as printed)
PUBLISHED = [0.320, 0.562, 0.299, 0.387, 0.310, 0.327, 0.268, 0.415, 0.417, 0.469, 0.377, 0.381]


def test_coco_val2014_100_segm(shared_dir):
    folder = shared_dir / "coco-val2014-100"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the COCO reference files are not in this copy of shared/")
    gt = json.loads((folder / "instances_val2014_100.json").read_text())
    items = json.loads((folder / "instances_val2014_fakesegm100_results.json").read_text())
    assert any(isinstance(a["segmentation"], list) for a in gt["annotations"])  # polygons
    assert any(a["iscrowd"] for a in gt["annotations"])  # crowd regions
    E = run_pycocotools(gt, items, max_dets=(1, 10, 100))
    params = EvalParams(max_dets=(1, 10, 100))
    for engine in ("fast", "reference"):
        result = evaluate(gt, items, engine=engine, params=params, workers=1)
        assert np.array_equal(result.precision, E.eval["precision"]), engine
        assert np.array_equal(result.recall, E.eval["recall"]), engine
        got = [round(v, 3) for v in result.summary.values()]
        assert got == PUBLISHED, engine
