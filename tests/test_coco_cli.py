"""``placeseg evaluate --max-dets / --iou-type`` and ``placeseg validate --gt`` on COCO-format
sets: every printed and JSON number equals pycocotools run on the same files."""

from __future__ import annotations

import contextlib
import io
import json
import re

import numpy as np
import pytest
from coco_cases import make_coco_case
from test_eval_cases import run_pycocotools

from placeseg_core.cli.main import main

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

LINE = re.compile(r"^ Average (Precision|Recall) .*maxDets=\s*(\d+) \] = (.*)$")


def expected_stats(E, max_dets) -> list[float]:
    """pycocotools' 12 summary numbers with AP at maxDets C (its summarize() hard-codes 100 for
    the first line; with C = 100 this is exactly E.stats, see the test below)."""
    p, r = E.eval["precision"], E.eval["recall"]
    a_all, m_top = 0, len(max_dets) - 1

    def mean(s):
        s = s[s > -1]
        return -1.0 if s.size == 0 else float(np.mean(s))

    t50, t75 = np.where(E.params.iouThrs == 0.5)[0], np.where(E.params.iouThrs == 0.75)[0]
    return [
        mean(p[:, :, :, a_all, m_top]), mean(p[t50][:, :, :, a_all, m_top]), mean(p[t75][:, :, :, a_all, m_top]),
        mean(p[:, :, :, 1, m_top]), mean(p[:, :, :, 2, m_top]), mean(p[:, :, :, 3, m_top]),
        mean(r[:, :, a_all, 0]), mean(r[:, :, a_all, 1]), mean(r[:, :, a_all, 2]),
        mean(r[:, :, 1, m_top]), mean(r[:, :, 2, m_top]), mean(r[:, :, 3, m_top]),
    ]


def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def printed_numbers(out: str) -> list[tuple[int, str]]:
    rows = [LINE.match(line) for line in out.splitlines()]
    return [(int(m.group(2)), m.group(3)) for m in rows if m]


@pytest.fixture
def coco_files(tmp_path):
    case = make_coco_case(4, n_images=8)
    gt, preds = tmp_path / "gt.json", tmp_path / "preds.json"
    gt.write_text(json.dumps(case.gt))
    preds.write_text(json.dumps(case.items))
    return case, gt, preds


@pytest.mark.parametrize("max_dets", [(1, 10, 100), (1, 50, 255), (2, 3, 5)])
@pytest.mark.parametrize("engine", ["fast", "reference"])
def test_max_dets_every_number_equals_pycocotools(coco_files, tmp_path, capsys, max_dets, engine):
    case, gt, preds = coco_files
    out_json = tmp_path / "s.json"
    code, out, err = run_cli(capsys, "evaluate", "--gt", gt, "--preds", preds, "--max-dets", *max_dets,
                             "--iou-type", "segm", "--engine", engine, "--json", out_json)
    assert code == 0, err
    E = run_pycocotools(case.gt, case.items, max_dets=max_dets)
    want = expected_stats(E, max_dets)
    a, b, c = max_dets
    doc = json.loads(out_json.read_text())
    assert list(doc["summary"]) == ["AP", "AP50", "AP75", "APs", "APm", "APl", f"AR{a}", f"AR{b}", f"AR{c}",
                                    "ARs", "ARm", "ARl"]
    assert [(-1.0 if v is None else v) for v in doc["summary"].values()] == want
    assert doc["params"]["max_dets"] == list(max_dets)
    printed = printed_numbers(out)
    assert [m for m, _ in printed] == [c] * 6 + [a, b, c] + [c] * 3
    assert [v for _, v in printed] == [f"{x:0.3f}" if x > -1 else "  n/a" for x in want]
    p = E.eval["precision"][:, :, :, 0, 2]
    assert doc["mean_ap"] == float(np.mean(p[p > -1]))
    for k, entry in enumerate(doc["per_category"]):
        pk = E.eval["precision"][:, :, k, 0, 2]
        assert entry["ap"] == (float(np.mean(pk[pk > -1])) if (pk > -1).any() else None)


def test_max_dets_1_10_100_is_pycocotools_summarize(coco_files, tmp_path, capsys):
    """With COCO's own maxDets, pycocotools' summarize() itself gives the 12 numbers."""
    case, gt, preds = coco_files
    out_json = tmp_path / "s.json"
    assert run_cli(capsys, "evaluate", "--gt", gt, "--preds", preds, "--max-dets", 1, 10, 100,
                   "--json", out_json)[0] == 0
    E = run_pycocotools(case.gt, case.items, max_dets=(1, 10, 100))
    with contextlib.redirect_stdout(io.StringIO()):
        E.summarize()
    want = [None if s == -1 else float(s) for s in E.stats]  # undefined: null in our JSON
    assert None in want  # an area range without ground truth: -1 in pycocotools
    assert list(json.loads(out_json.read_text())["summary"].values()) == want


def test_default_max_dets_are_the_challenge_s(coco_files, tmp_path, capsys):
    case, gt, preds = coco_files
    code, out, _ = run_cli(capsys, "evaluate", "--gt", gt, "--preds", preds)
    assert code == 0
    assert [m for m, _ in printed_numbers(out)] == [255] * 6 + [1, 50, 255] + [255] * 3


def test_unsupported_iou_type_and_bad_max_dets_exit_2(coco_files, capsys):
    _, gt, preds = coco_files
    for iou_type in ("bbox", "keypoints"):
        code, out, err = run_cli(capsys, "evaluate", "--gt", gt, "--preds", preds, "--iou-type", iou_type)
        assert code == 2 and out == ""
        assert f"--iou-type {iou_type}" in err and "segm" in err and err.count("\n") == 1
    code, _, err = run_cli(capsys, "evaluate", "--gt", gt, "--preds", preds, "--max-dets", 0, 10, 100)
    assert code == 2 and "positive" in err
    code, _, err = run_cli(capsys, "evaluate", "--gt", gt, "--preds", preds, "--max-dets", 10, 10, 100)
    assert code == 2 and "differ" in err
    with pytest.raises(SystemExit) as exc:  # argparse: exactly three values
        main(["evaluate", "--gt", str(gt), "--preds", str(preds), "--max-dets", "1", "10"])
    assert exc.value.code == 2
    assert "--max-dets" in capsys.readouterr().err
    code, _, err = run_cli(capsys, "matches", "--gt", gt, "--preds", preds, "--image-id", 1000,
                           "--iou-type", "bbox")
    assert code == 2 and "--iou-type bbox" in err


def test_matches_uses_max_dets(coco_files, capsys):
    case, gt, preds = coco_files
    image_id = case.gt["images"][0]["id"]
    code, out, _ = run_cli(capsys, "matches", "--gt", gt, "--preds", preds, "--image-id", image_id,
                           "--max-dets", 1, 2, 3)
    assert code == 0
    doc = json.loads(out)
    per_group: dict[int, int] = {}
    for p in doc["predictions"]:
        if p["status"] == "scored":
            per_group[p["category_id"]] = per_group.get(p["category_id"], 0) + 1
    assert per_group and max(per_group.values()) <= 3
    counts = {}
    for it in case.items:
        if it["image_id"] == image_id and it["category_id"] in {c["id"] for c in case.gt["categories"]}:
            counts[it["category_id"]] = counts.get(it["category_id"], 0) + 1
    beyond = sum(max(0, n - 3) for n in counts.values())
    assert sum(p["status"] == "beyond_max_dets" for p in doc["predictions"]) == beyond


# --------------------------------------------------------------------- real COCO data


def test_coco_val2014_100_cli_equals_pycocotools_and_published(shared_dir, tmp_path, capsys):
    folder = shared_dir / "coco-val2014-100"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the COCO reference files are not in this copy of shared/")
    gt_path = folder / "instances_val2014_100.json"
    preds_path = folder / "instances_val2014_fakesegm100_results.json"
    gt, items = json.loads(gt_path.read_text()), json.loads(preds_path.read_text())
    assert sum(isinstance(a["segmentation"], list) for a in gt["annotations"]) == 830
    assert sum(a["iscrowd"] for a in gt["annotations"]) == 9
    published_text = (folder / "val2014_fake_eval_res.txt").read_text()
    segm_block = published_text.split("type=segm")[1].split("type=bbox")[0]
    published_lines = [line for line in segm_block.splitlines() if line.startswith(" Average")]
    assert len(published_lines) == 12

    E = run_pycocotools(gt, items, max_dets=(1, 10, 100))
    with contextlib.redirect_stdout(io.StringIO()):
        E.summarize()
    for engine in ("fast", "reference"):
        out_json = tmp_path / f"{engine}.json"
        code, out, err = run_cli(capsys, "evaluate", "--gt", gt_path, "--preds", preds_path,
                                 "--max-dets", 1, 10, 100, "--engine", engine, "--json", out_json)
        assert code == 0, err
        doc = json.loads(out_json.read_text())
        assert list(doc["summary"].values()) == [float(s) for s in E.stats], engine
        ours = [line for line in out.splitlines() if line.startswith(" Average")]
        # the published file comes from an older pycocotools that padded titles one space less
        assert [" ".join(x.split()) for x in ours] == [" ".join(x.split()) for x in published_lines], engine
        p = E.eval["precision"][:, :, :, 0, 2]
        assert doc["mean_ap"] == float(np.mean(p[p > -1]))
        for k, entry in enumerate(doc["per_category"]):
            pk = E.eval["precision"][:, :, k, 0, 2]
            assert entry["ap"] == (float(np.mean(pk[pk > -1])) if (pk > -1).any() else None)
        assert re.search(r"^mean AP: 0\.3195452759$", out, re.M)

    # the challenge's maxDets on the same files: pycocotools with [1, 50, 255]
    E2 = run_pycocotools(gt, items)
    out_json = tmp_path / "default.json"
    assert run_cli(capsys, "evaluate", "--gt", gt_path, "--preds", preds_path, "--json", out_json)[0] == 0
    assert list(json.loads(out_json.read_text())["summary"].values()) == expected_stats(E2, (1, 50, 255))

    # the validator, from the ground truth alone
    code, out, err = run_cli(capsys, "validate", preds_path, "--gt", gt_path, "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["valid"] is True and set(report["counts"]) <= {"missing-images", "score-ties"}
    assert report["stats"]["rules"] == "coco" and report["stats"]["expected_images"] == 100
