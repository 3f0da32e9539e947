"""The evaluation view with real widgets: the numbers shown equal the core's, categories filter,
match colours on the canvas, TP / FP / FN columns, worker signals, cancel and exports."""


from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from gui_fixtures import WAIT_MS, TinySet, canvas_pixel, open_tiny, wait_settled
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage

from placeseg_core.catalog import load_catalog
from placeseg_core.cli.main import main as placeseg_main
from placeseg_core.convert import convert_annotations
from placeseg_core.demo import build_demo
from placeseg_core.evaluation import evaluate
from placeseg_core.submissions import load_submission
from placeseg_review.model.evaluation import image_counts
from placeseg_review.widgets.eval_tables import fmt
from placeseg_review.widgets.image_list import COLUMNS

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@pytest.fixture
def demo(tmp_path: Path):
    return build_demo(tmp_path / "demo", n_images=5)


def _core(root: Path, preds: Path, ann_dir: Path):
    catalog = load_catalog(root / "imgCatIds.json")
    gt = convert_annotations(ann_dir, catalog, workers=1).dataset
    return gt, evaluate(gt, load_submission(preds), workers=1)


def _evaluate(qtbot, window, timeout: int = WAIT_MS) -> None:
    with qtbot.waitSignal(window.session.evaluationChanged, timeout=timeout, check_params_cb=lambda e: e is not None):
        window.evaluation_view.run_button.click()
    qtbot.waitUntil(lambda: not window.analysis.running("evaluate"), timeout=timeout)


def _open(qtbot, window, root: Path) -> None:
    window.controller.open_dataset(root)
    qtbot.waitUntil(lambda: window.session.predictions is not None, timeout=WAIT_MS)
    wait_settled(qtbot, window)


def test_tables_equal_the_core_results_and_worker_signals(qtbot, window, demo):
    _open(qtbot, window, demo.root)
    view = window.evaluation_view
    running, progress = [], []
    window.analysis.runningChanged.connect(lambda k, on: k == "evaluate" and running.append(on))
    window.analysis.progressed.connect(lambda k, d, t: k == "evaluate" and progress.append(d))
    with qtbot.waitSignal(window.session.evaluationChanged, timeout=WAIT_MS, check_params_cb=lambda e: e is not None):
        window.show_analysis("evaluation")  # the Evaluation workspace evaluates what it shows

    def stopped() -> None:  # runningChanged(False) is queued after the job has ended: wait for it
        assert running and running[-1] is False, f"runningChanged so far: {running}"

    qtbot.waitUntil(stopped, timeout=WAIT_MS)
    assert running[0] is True and running[-1] is False
    assert progress and progress == sorted(progress) and progress[-1] <= 1000
    gt, core = _core(demo.root, demo.predictions_path, demo.annotation_dir)
    result = window.session.evaluation.result
    assert result.mean_ap == core.mean_ap and result.summary == core.summary
    assert f"mean AP {core.mean_ap:.4f}" in view.headline.text()

    sm = view.summary_model
    assert sm.columnCount() == 3  # the README rule is kept: no second column
    keys = list(core.summary)
    for row in range(12):
        assert sm.index(row, 2).data() == fmt(core.summary[keys[row]])
    assert [sm.index(r, 0).data() for r in (0, 1, 2, 3, 6, 8)] == ["AP", "AP50", "AP75", "AP small", "AR1", "AR255"]

    # per category: every row equals the core's numbers; sorting by AP50 orders them
    proxy = view.category_proxy
    gt_count = {}
    for ann in gt["annotations"]:
        gt_count[ann["category_id"]] = gt_count.get(ann["category_id"], 0) + 1
    sub = load_submission(demo.predictions_path)
    assert proxy.rowCount() == len(core.category_ids)
    for r in range(proxy.rowCount()):
        cells = [proxy.index(r, c).data() for c in range(6)]
        cid = int(cells[0].rsplit("(", 1)[1].rstrip(")"))
        s = core.scores
        assert cells[0] == f"{core.category_names[cid]} ({cid})"
        assert cells[1:] == [gt_count.get(cid, 0), int((sub.category_ids == cid).sum()),
                             fmt(s.ap(cid)), fmt(s.ap(cid, iou=0.5)), fmt(s.ap(cid, iou=0.75))]
    view.categories.sortByColumn(4, view.categories.horizontalHeader().sortIndicatorOrder().DescendingOrder)
    ap50 = [proxy.index(r, 4).data() for r in range(proxy.rowCount())]
    values = [float(v) for v in ap50 if v != "–"]
    assert values == sorted(values, reverse=True)

    # the plots draw the core's curves: mean PR at IoU 0.50, then at 0.75 after choosing it
    rec, mean = core.scores.pr_curve(None, iou=0.5)
    drawn = view.plots.curves["pr"]
    assert any(name.startswith("mean") and (curve == mean).all() for name, curve in drawn.items())
    view.threshold.setCurrentIndex(5)
    assert window.session.threshold_index == 5
    _, mean75 = core.scores.pr_curve(None, iou=0.75)
    assert any((c == mean75).all() for n, c in view.plots.curves["pr"].items() if n.startswith("mean"))
    assert "0.75" in view.plots.pr.titleLabel.text


def test_cancel_returns_at_once_and_a_new_run_completes(qtbot, window, demo):
    _open(qtbot, window, demo.root)
    analysis, view = window.analysis, window.evaluation_view
    window.show_analysis("evaluation")
    view.run_button.click()
    assert view.cancel_button.isVisible() and view.progress.isVisible()
    running = []
    analysis.runningChanged.connect(lambda k, on: k == "evaluate" and running.append(on))
    # the app measures the time from the click to the cancelled signal: wait for the signal as
    # long as it takes, then hold the measured time to the promise
    with qtbot.waitSignal(analysis.cancelled, timeout=WAIT_MS, check_params_cb=lambda k: k == "evaluate"):
        view.cancel_button.click()
    assert analysis.last_cancel_latency["evaluate"] < 1.0
    qtbot.waitUntil(lambda: not analysis.running("evaluate") and running == [False], timeout=WAIT_MS)
    assert window.session.evaluation is None
    assert "cancelled" in view.headline.text() and not view.cancel_button.isVisible()
    _evaluate(qtbot, window)
    assert window.session.evaluation is not None


def test_choosing_a_category_filters_list_and_canvas(qtbot, window, demo):
    _open(qtbot, window, demo.root)
    _evaluate(qtbot, window)
    gt, core = _core(demo.root, demo.predictions_path, demo.annotation_dir)
    ev = window.session.evaluation
    sub = load_submission(demo.predictions_path)

    def holding_of(c):
        ids = {a["image_id"] for a in gt["annotations"] if a["category_id"] == c}
        return ids | set(sub.image_ids[sub.category_ids == c].tolist())

    n = len(window.session.dataset.entries)
    cid = max((c for c in ev.gt_per_category if 0 < len(holding_of(c)) < n), key=lambda c: ev.gt_per_category[c])
    holding = holding_of(cid)
    before_hidden = window.session.options.hidden_categories
    view, lst = window.evaluation_view, window.image_list
    view.choose_categories([cid])
    assert set(lst.order.visible_ids()) == holding
    assert lst.filter_bar.isVisible() and core.category_names[cid] in lst.filter_label.text()
    assert cid not in window.session.options.hidden_categories
    assert set(range(1, 101)) - {cid} <= window.session.options.hidden_categories
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.entry.id in holding,
                    timeout=WAIT_MS)
    assert set(view.plots.curves["iou"]) == {"mean AP", core.category_names[cid]}
    # "Show all" in the image list clears the choice everywhere
    lst.filter_clear.click()
    assert len(lst.order.visible_ids()) == len(window.session.dataset.entries)
    assert window.session.options.hidden_categories == before_hidden
    assert view.chosen_categories() == [] and window.session.focus_categories == frozenset()


def test_match_colours_on_canvas_and_tp_fp_fn_columns(qtbot, window, tiny_set: TinySet):
    open_tiny(qtbot, window, tiny_set)
    s = window.session
    s.update_options(show_gt=False, score_threshold=0.0, pred_opacity=0.5)
    _evaluate(qtbot, window)
    ev = s.evaluation
    # image 20210: the chair prediction is the chair's exact mask, but that GT has annotation id 0
    # (the converter numbers from 0), so pycocotools counts no match: an FP and a missed GT; the
    # person prediction covers nothing (FP); the person and painting/sofa GT are missed.
    # Image 20211: one exact person (GT id 3): a TP.
    lst = window.image_list
    first = len(COLUMNS)
    assert [lst.model.headerData(first + k, Qt.Orientation.Horizontal) for k in range(3)] == ["TP", "FP", "FN"]

    def row_counts(image_id):
        r = lst.order.row_of(image_id)
        return [lst.proxy.index(r, first + k).data() for k in range(3)]

    assert row_counts(20210) == [0, 2, 3] and row_counts(20211) == [1, 0, 0]
    core = image_counts(ev.result.records, ev.outcomes, 0)
    assert core.get(20210) == (0, 2, 3) and core.get(20211) == (1, 0, 0)
    assert ev.result.records.prediction(0).outcome[0] == "fp_gt_id_0"
    s.set_threshold_index(9)  # IoU 0.95: exact masks still match
    assert row_counts(20211) == [1, 0, 0]
    s.set_threshold_index(0)

    # colours: TP green, FP red, the id-0 "match" orange
    window.evaluation_view.colour_by_match.setChecked(True)
    assert s.options.pred_status is not None
    fp, id0 = canvas_pixel(window, *tiny_set.low_pred_px), canvas_pixel(window, *tiny_set.chair_px)
    assert fp[0] > fp[1] + 40 and fp[0] > fp[2] + 40, fp  # red
    assert id0[0] > id0[1] > id0[2] + 30, id0  # orange
    assert window.canvas.hover_at(*tiny_set.chair_px).match.startswith("false positive (matched GT id 0")
    window.controller.go_to(20211)
    qtbot.waitUntil(lambda: s.image is not None and s.image.entry.id == 20211, timeout=WAIT_MS)
    tp = canvas_pixel(window, 20, 20)
    assert tp[1] > tp[0] + 40 and tp[1] > tp[2] + 40, tp  # green
    assert window.canvas.hover_at(20, 20).match == "true positive (IoU 0.50)"
    window.evaluation_view.colour_by_match.setChecked(False)
    plain = canvas_pixel(window, 20, 20)
    assert plain != tp and s.options.pred_status is None

    # new predictions make the evaluation stale: columns and colours go away
    window.controller.open_predictions(tiny_set.predictions)
    qtbot.waitUntil(lambda: s.evaluation is None and lst.model.columnCount() == len(COLUMNS), timeout=WAIT_MS)
    assert s.options.pred_status is None


def test_exports_match_the_cli_and_the_core(qtbot, window, demo, tmp_path):
    _open(qtbot, window, demo.root)
    _evaluate(qtbot, window)
    view = window.evaluation_view
    window.show_analysis("evaluation")
    out = tmp_path / "exports"
    out.mkdir()
    assert view.export(out / "results.json", "json")
    assert view.export(out / "categories.csv", "csv")
    assert view.export(out / "pr.png", "pr") and view.export(out / "ap-iou.png", "iou")
    for name in ("pr.png", "ap-iou.png"):  # rendered for a file, not grabbed at the panel's size
        with Image.open(out / name) as plot:
            assert plot.size[0] == 1600, plot.size
    cli = out / "cli.json"
    assert placeseg_main(["evaluate", "--preds", str(demo.predictions_path), "--ann-dir", str(demo.annotation_dir),
                          "--img-cat-ids", str(demo.catalog_path), "--json", str(cli)]) == 0
    ours, theirs = json.loads((out / "results.json").read_text()), json.loads(cli.read_text())
    assert ours == theirs
    _, core = _core(demo.root, demo.predictions_path, demo.annotation_dir)
    with open(out / "categories.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["id"]) for r in rows] == core.category_ids.tolist()
    for r in rows:
        cid = int(r["id"])
        for key, value in (("ap", core.scores.ap(cid)), ("ap50", core.scores.ap(cid, iou=0.5))):
            assert (r[key] == "") if value is None else float(r[key]) == value
    for name, widget in (("pr.png", view.plots.pr_widget), ("ap-iou.png", view.plots.iou_widget)):
        image = QImage(str(out / name))  # the plot's shape, at export width
        ratio = widget.width() / widget.height()
        assert not image.isNull() and abs(image.width() / image.height() - ratio) < 0.05 * ratio
    errors = []
    window.errorShown.connect(lambda t, m: errors.append(m))
    (out / "a-file").write_text("")
    assert not view.export(out / "a-file" / "x.csv", "csv")
    assert errors and window.last_error == errors[-1]
    assert sorted(p.name for p in out.iterdir()) == ["a-file", "ap-iou.png", "categories.csv", "cli.json",
                                                     "pr.png", "results.json"]


def test_predictions_outside_the_ground_truth_are_an_error_dialog(qtbot, window, tiny_set):
    catalog = json.loads((tiny_set.root / "imgCatIds.json").read_text())
    catalog["images"].append({"id": 20212, "file_name": "ADE_val_00000003.jpg", "width": 60, "height": 40})
    (tiny_set.root / "imgCatIds.json").write_text(json.dumps(catalog))
    items = json.loads(tiny_set.predictions.read_text())
    items.append(dict(items[0], image_id=20212))
    tiny_set.predictions.write_text(json.dumps(items))
    open_tiny(qtbot, window, tiny_set)
    with qtbot.waitSignal(window.errorShown, timeout=WAIT_MS) as blocker:
        window.actions_by_name["evaluate"].trigger()
    assert blocker.args[0] == "Cannot evaluate" and "20212" in blocker.args[1]
    assert window.message_box is not None and window.message_box.isVisible()
    assert window.session.evaluation is None
