"""The Compare view equals `placeseg compare --json` (one computation), runs its bootstrap in a
worker, and every row jumps to its image. Real widgets on the tiny two-image set."""

from __future__ import annotations

import json

from gui_fixtures import WAIT_MS, open_tiny

from placeseg_core.cli.main import main as placeseg_main
from placeseg_review.panels.compare_view import IMAGE_ROLE, fmt


def _write_b(tiny_set):
    """B: A without its low-score false positive, and a second, better chair."""
    items = json.loads(tiny_set.predictions.read_text())
    b = [it for it in items if it["score"] != 0.2]
    path = tiny_set.root / "b.json"
    path.write_text(json.dumps(b))
    return path


def _cli(tiny_set, b, tmp_path, *extra: str) -> dict:
    out = tmp_path / "cmp.json"
    assert placeseg_main(["compare", "--ann-dir", str(tiny_set.root / "annotations_instance" / "validation"),
                          "--img-cat-ids", str(tiny_set.root / "imgCatIds.json"),
                          "--preds", str(tiny_set.predictions), str(b), "--json", str(out), *extra]) == 0
    return json.loads(out.read_text())


def _compare(qtbot, window, b) -> None:
    with qtbot.waitSignal(window.session.comparisonChanged, timeout=WAIT_MS, check_params_cb=lambda s: s is not None):
        window.compare.request(b)
    qtbot.waitUntil(lambda: not window.compare.running(), timeout=WAIT_MS)


def _column(table, col: int) -> list[str]:
    return [table.item(r, col).text() for r in range(table.rowCount())]


def test_the_tables_equal_the_cli_json(qtbot, window, tiny_set, tmp_path):
    b = _write_b(tiny_set)
    open_tiny(qtbot, window, tiny_set)
    _compare(qtbot, window, b)
    doc = _cli(tiny_set, b, tmp_path)
    view = window.compare_view
    keys = list(doc["a"]["summary"])
    assert view.summary.rowCount() == len(keys) == 12
    assert _column(view.summary, 1) == [fmt(doc["a"]["summary"][k]) for k in keys]
    assert _column(view.summary, 2) == [fmt(doc["b"]["summary"][k]) for k in keys]
    assert _column(view.summary, 3) == [fmt(doc["delta"]["summary"][k], True) for k in keys]
    cats = {c["name"]: c for c in doc["delta"]["per_category"]}
    assert view.categories.rowCount() == len(cats)
    for r in range(view.categories.rowCount()):
        c = cats[view.categories.item(r, 0).text()]
        assert [view.categories.item(r, k).text() for k in (1, 2, 3)] == [fmt(c["a"]), fmt(c["b"]), fmt(c["delta"], True)]
    changed = {i["image_id"]: i for i in doc["matches"]["images"]
               if (i["tp_a"], i["fp_a"], i["fn_a"]) != (i["tp_b"], i["fp_b"], i["fn_b"])}
    shown = {int(view.images.item(r, 0).text()): [int(view.images.item(r, k).text()) for k in range(1, 7)]
             for r in range(view.images.rowCount())}
    assert shown == {i: [c["tp_a"], c["fp_a"], c["fn_a"], c["tp_b"], c["fp_b"], c["fn_b"]] for i, c in changed.items()}
    assert f"A {fmt(doc['a']['mean_ap'])} → B {fmt(doc['b']['mean_ap'])}" in view.headline.text()
    assert window.workspaces.bar.tabText(window.workspaces.names.index("compare")) == "Compare"


def test_bootstrap_runs_in_a_worker_and_equals_the_cli(qtbot, window, tiny_set, tmp_path):
    b = _write_b(tiny_set)
    open_tiny(qtbot, window, tiny_set)
    _compare(qtbot, window, b)
    view = window.compare_view
    view.resamples.setValue(300)
    running = []
    window.compare.runningChanged.connect(running.append)
    with qtbot.waitSignal(window.session.comparisonChanged, timeout=WAIT_MS,
                          check_params_cb=lambda s: s is not None and s.comparison.bootstrap is not None):
        view.bootstrap_button.click()
    qtbot.waitUntil(lambda: running and running[-1] is False, timeout=WAIT_MS)
    assert running[0] is True
    doc = _cli(tiny_set, b, tmp_path, "--bootstrap", "300", "--seed", "0")
    boot = window.session.comparison.comparison.bootstrap.to_json()
    assert boot == doc["bootstrap"]
    lo, hi = doc["bootstrap"]["ci95"]["delta"]
    assert f"Δ [{lo:.3f}, {hi:.3f}]" in view.headline.text()
    assert f"B better in {doc['bootstrap']['b_better']:.0%}" in view.headline.text()


def test_rows_jump_to_their_image(qtbot, window, tiny_set):
    b = _write_b(tiny_set)
    open_tiny(qtbot, window, tiny_set)
    window.controller.go_to(20211)
    qtbot.waitUntil(lambda: window.session.current_id == 20211, timeout=WAIT_MS)
    _compare(qtbot, window, b)
    view = window.compare_view
    assert view.images.rowCount() >= 1
    target = view.images.item(0, 0).data(IMAGE_ROLE)
    assert target == 20210  # the low-score prediction B dropped was there
    view.images.setCurrentCell(0, 3)
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.entry.id == 20210,
                    timeout=WAIT_MS)


def test_a_bad_second_file_is_a_located_message(qtbot, window, tiny_set):
    open_tiny(qtbot, window, tiny_set)
    bad = tiny_set.root / "bad-b.json"
    bad.write_text('[{"image_id": 20210, "category_id": 8, "score": 0.5, "segmentation": {"size": [1, 1]}}]')
    errors: list[str] = []
    window.errorShown.connect(lambda _t, m: errors.append(m))
    window.compare.request(bad)
    qtbot.waitUntil(lambda: bool(errors), timeout=WAIT_MS)
    assert "bad-b.json" in errors[-1] and window.session.comparison is None


def test_the_photo_flips_between_a_and_b_and_colours_objects_by_who_found_them(qtbot, window, tiny_set):
    from gui_fixtures import canvas_pixel, differs

    from placeseg_review.model.comparison import FOUND_BOTH, FOUND_COLOURS, FOUND_NEITHER

    b = _write_b(tiny_set)
    open_tiny(qtbot, window, tiny_set)
    window.controller.go_to(20210)
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.entry.id == 20210,
                    timeout=WAIT_MS)
    _compare(qtbot, window, b)
    state = window.session.comparison
    # who found what (officially): 20211's person by both; 20210's chair by neither, though both
    # files match it exactly (its annotation id is 0: pycocotools counts no match with it)
    assert state.found.codes[(20211, 1)] == FOUND_BOTH and state.found.codes[(20210, 1)] == FOUND_NEITHER
    assert window.session.image.preds is not None and len(window.session.image.preds) == 2  # A: chair + low one
    window.actions_by_name["flip_ab"].trigger()  # X
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.preds is not None
                    and len(window.session.image.preds) == 1, timeout=WAIT_MS)  # B dropped the low one
    assert window.compare_view.show_b.isChecked()
    window.actions_by_name["flip_ab"].trigger()
    qtbot.waitUntil(lambda: window.session.image is not None and window.session.image.preds is not None
                    and len(window.session.image.preds) == 2, timeout=WAIT_MS)
    # the chair's pixels turn red (found by neither) when colouring by who found them
    window.session.update_options(show_preds=False, show_photo=False, outlines=False, gt_opacity=1.0)
    qtbot.waitUntil(lambda: canvas_pixel(window, *tiny_set.chair_px) != (0, 0, 0), timeout=WAIT_MS)
    before = canvas_pixel(window, *tiny_set.chair_px)
    window.compare_view.colour_found.setChecked(True)
    qtbot.waitUntil(lambda: differs(canvas_pixel(window, *tiny_set.chair_px), before), timeout=WAIT_MS)
    r, g, b_ = canvas_pixel(window, *tiny_set.chair_px)
    red = FOUND_COLOURS[FOUND_NEITHER]
    assert abs(r - red[0]) < 40 and abs(g - red[1]) < 40 and abs(b_ - red[2]) < 40, (r, g, b_)
