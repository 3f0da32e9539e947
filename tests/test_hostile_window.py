"""The hostile-input corpus against the review window, by failure class.

Opening a hostile input (with the controller's own open functions, as the other window tests
do) must show an error dialog -- or, for a per-image integrity problem, a finding of the image
on screen -- naming the file and, for an item-level fault, the item and the field; the window
keeps working (it opens the good demo set afterwards). No hang: a worker blocked opening a FIFO
fails the case at once (see ``blocked_on_fifo``).

Cases that could crash the process (NaN polygons, device files, decompression bombs, absurd
image sizes) run in a subprocess window (``hostile_corpus.py window-probe``), in the background.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import (
    CATALOG_NUMBER_CASES,
    GT_ANNOTATION_CASES,
    GT_IMAGE_CASES,
    PNG_CASES,
    POLYGON_CASES,
    PRED_NUMBER_CASES,
    TEXT_CASES,
    TRUNCATED,
    BatchRunner,
    Demo,
    FieldCase,
    PngCase,
    SubCase,
    TextCase,
    assert_window_reported,
    blocked_on_fifo,
    build_demo_set,
    copy_demo,
    make_special,
    probe_result,
    selected_subcases,
    snapshot,
    subprocess_env,
    unjam_fifo,
    whole_sentence_problem,
    window_findings_text,
    window_probe_case,
    window_settled,
    window_validation_text,
    write_big_predictions,
    write_png_case,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

TIMEOUT_MS = 60000


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    return build_demo_set(tmp_path_factory.mktemp("hostile-window") / "demo")


@pytest.fixture(scope="module", autouse=True)
def batch(request, tmp_path_factory, demo):
    runner = BatchRunner(tmp_path_factory.mktemp("hostile-window-batch"), demo, selected_subcases(request))
    yield runner
    runner.close()


@pytest.fixture
def fifos():
    """FIFOs a test made; afterwards any thread stuck opening one is let go (before the window
    fixture shuts its workers down)."""
    made: list[Path] = []
    yield made
    for path in made:
        unjam_fifo(path)


# ----------------------------------------------------------------------------- helpers


def open_and_wait(qtbot, window, action, good: Demo) -> dict[str, Any]:
    """Run ``action`` (an open), wait for an error or for the window to settle, then open the
    good set; what happened, in the shape of the window probe's report."""
    errors: list[list[str]] = []
    window.errorShown.connect(lambda title, message: errors.append([title, message]))
    fifo_hang = []

    def done() -> bool:
        if blocked_on_fifo():
            fifo_hang.append(True)
            return True
        return bool(errors) or window_settled(window)

    action()
    try:
        qtbot.waitUntil(done, timeout=TIMEOUT_MS)
    except Exception:  # noqa: BLE001 - pytest-qt's TimeoutError: said plainly
        pytest.fail(f"no error and the window never settled in {TIMEOUT_MS // 1000} s: a hang")
    assert not fifo_hang, "a worker is blocked opening the FIFO: the window would wait forever"
    if not errors:  # settled: anything still to come (validation) has come
        qtbot.waitUntil(lambda: window_settled(window), timeout=TIMEOUT_MS)
    box = window.message_box
    result = {"timeout": False, "errors": list(errors), "findings": window_findings_text(window),
              "validation": window_validation_text(window),
              "dialog": bool(box is not None and box.isVisible() and box.text() == window.last_error)}
    if box is not None and box.isVisible():
        box.close()
    n = len(errors)
    window.controller.open_dataset(good.root)
    try:
        qtbot.waitUntil(lambda: window_settled(window) and window.session.dataset.source == good.root
                        and window.session.predictions is not None, timeout=TIMEOUT_MS)
        result["good_opened"] = True
    except Exception:  # noqa: BLE001
        result["good_opened"] = False
    result["errors_after_good"] = errors[n:]
    return result


def open_predictions_action(window, qtbot, good: Demo, path: Path):
    """Open the good set first (the predictions need its ids), then the hostile predictions."""
    window.controller.open_dataset(good.root)
    qtbot.waitUntil(lambda: window_settled(window) and window.session.predictions is not None, timeout=TIMEOUT_MS)
    return lambda: window.controller.open_predictions(path)


def check_unchanged(before: dict, paths: list[Path]) -> None:
    after = snapshot(paths)
    assert [k for k in before if after.get(k) != before[k]] == [], "an input was changed"


def _probe_sub(name: str, make) -> SubCase:
    """A window-probe subprocess case: ``make(case_dir, demo)`` -> (open spec, watched inputs)."""
    def build(d: Path, demo: Demo):
        open_spec, watch = make(d, demo)
        (d / "bad-path").write_text(open_spec["bad"])
        return window_probe_case(d, demo, open_spec, watch)

    return SubCase(name, build)


def bad_path(batch: BatchRunner, sub: SubCase) -> Path:
    return Path((batch.case_dir(sub) / "bad-path").read_text())


# ============================================================ class 2: not regular files


# skipped before the window is built: as root, chmod 000 does not stop reading the file
UNREADABLE = pytest.param("unreadable", marks=pytest.mark.skipif(
    os.geteuid() == 0, reason="running as root: chmod 000 does not stop root from reading the file"))
PRED_KINDS = ["fifo", "directory", "symlink-loop", "dangling-symlink", UNREADABLE]
GT_KINDS = ["fifo", "symlink-loop", "dangling-symlink", UNREADABLE]
ROOT_KINDS = ["fifo", "directory", "symlink-loop", "dangling-symlink", UNREADABLE]


@pytest.mark.parametrize("kind", PRED_KINDS)
def test_class2_predictions_not_a_file(qtbot, window, fifos, demo, tmp_path, kind):
    path = make_special(kind, tmp_path / "preds.json")
    fifos.append(path)
    action = open_predictions_action(window, qtbot, demo, path)
    result = open_and_wait(qtbot, window, action, demo)
    assert_window_reported(result, path)
    assert window.session.predictions.path == demo.preds  # the good ones, reopened


@pytest.mark.parametrize("kind", GT_KINDS)
def test_class2_ground_truth_not_a_file(qtbot, window, fifos, demo, tmp_path, kind):
    path = make_special(kind, tmp_path / "gt.json")
    fifos.append(path)
    result = open_and_wait(qtbot, window, lambda: window.controller.open_dataset(
        path, images=str(demo.images), predictions=demo.preds), demo)
    assert_window_reported(result, path)


@pytest.mark.parametrize("role", ["imgCatIds", "annotation-png"])
@pytest.mark.parametrize("kind", ROOT_KINDS)
def test_class2_data_root_with_a_non_file(qtbot, window, fifos, demo, tmp_path, kind, role):
    mine = copy_demo(demo, tmp_path / "root")
    path = make_special(kind, mine.catalog if role == "imgCatIds" else mine.bad_png)
    fifos.append(path)
    result = open_and_wait(qtbot, window, lambda: window.controller.open_dataset(mine.root), demo)
    assert_window_reported(result, path, allow_findings=role == "annotation-png")


def _device_sub(role: str, device: str) -> SubCase:
    def make(d: Path, demo: Demo):
        path = make_special(device, d / ("preds.json" if role == "predictions" else "gt.json"))
        if role == "predictions":
            spec = {"kind": "predictions", "dataset": str(demo.root), "path": str(path)}
        else:
            spec = {"kind": "dataset", "path": str(path), "images": str(demo.images), "predictions": str(demo.preds)}
        return dict(spec, bad=str(path)), [path, demo.root]

    return _probe_sub(f"window-{role}-{device}", make)


@pytest.mark.parametrize("sub", [pytest.param(_device_sub(r, k), id=f"{r}-{k}")
                                 for r in ("predictions", "ground-truth") for k in ("dev-zero", "dev-urandom")])
def test_class2_devices_in_the_window(batch, sub: SubCase):
    o = batch.result(sub)
    assert_window_reported(probe_result(o), bad_path(batch, sub))
    assert not o.changed, f"inputs changed: {o.changed}"


# ============================================================ class 3: absurd numbers


PRED_WINDOW = [c for c in PRED_NUMBER_CASES if c.name in (
    "image_id-400-digits", "category_id-400-digits", "score-400-digits", "score-nan", "size-400-digits",
    "size-negative", "bbox-nan")]
GT_ANN_WINDOW = [c for c in GT_ANNOTATION_CASES if c.name in (
    "ann-id-400-digits", "ann-category_id-400-digits", "ann-area-nan", "ann-iscrowd-400-digits", "ann-iscrowd-nan")]


@pytest.mark.parametrize("case", PRED_WINDOW, ids=lambda c: c.name)
def test_class3_prediction_numbers_in_the_window(qtbot, window, demo, tmp_path, case: FieldCase):
    path = case.write(demo, tmp_path / "preds.json")
    before = snapshot([path])
    action = open_predictions_action(window, qtbot, demo, path)
    result = open_and_wait(qtbot, window, action, demo)
    assert_window_reported(result, path, case.where, case.field, allow_validation=True)
    check_unchanged(before, [path])


@pytest.mark.parametrize("case", GT_ANN_WINDOW, ids=lambda c: c.name)
def test_class3_ground_truth_annotation_numbers_in_the_window(qtbot, window, demo, tmp_path, case: FieldCase):
    path = case.write(demo, tmp_path / "gt.json")
    result = open_and_wait(qtbot, window, lambda: window.controller.open_dataset(
        path, images=str(demo.images), predictions=demo.preds), demo)
    assert_window_reported(result, path, case.where, case.field, allow_findings=True)


def _gt_probe(prefix: str, case: FieldCase) -> SubCase:
    def make(d: Path, demo: Demo):
        path = case.write(demo, d / "gt.json")
        return ({"kind": "dataset", "path": str(path), "images": str(demo.images), "predictions": str(demo.preds),
                 "bad": str(path)}, [path, demo.root])

    return _probe_sub(f"window-{prefix}-{case.name}", make)


def _catalog_probe(case: FieldCase) -> SubCase:
    def make(d: Path, demo: Demo):
        mine = copy_demo(demo, d / "root")
        case.write(mine, mine.catalog)
        return {"kind": "dataset", "path": str(mine.root), "bad": str(mine.catalog)}, [mine.root]

    return _probe_sub(f"window-imgCatIds-{case.name}", make)


@pytest.mark.parametrize(("sub", "case"), [pytest.param(_gt_probe("gt", c), c, id=f"gt-{c.name}")
                                           for c in GT_IMAGE_CASES] +
                         [pytest.param(_catalog_probe(c), c, id=f"imgCatIds-{c.name}") for c in CATALOG_NUMBER_CASES])
def test_class3_image_sizes_and_ids_in_the_window(batch, sub: SubCase, case: FieldCase):
    o = batch.result(sub)
    assert_window_reported(probe_result(o), bad_path(batch, sub), case.where, case.field)
    assert not o.changed, f"inputs changed: {o.changed}"


# ============================================================ class 4: ground-truth polygons


POLYGON_WINDOW = [c for c in POLYGON_CASES if c.name in (
    "nan", "infinity", "far-outside-1e12", "far-outside-minus-1e12", "one-point", "odd-coordinates",
    "empty-list", "nested-too-deep")]


@pytest.mark.parametrize(("sub", "case"), [pytest.param(_gt_probe("polygon", c), c, id=c.name) for c in POLYGON_WINDOW])
def test_class4_polygons_in_the_window(batch, sub: SubCase, case: FieldCase):
    o = batch.result(sub)
    result = probe_result(o)
    assert not o.changed, f"inputs changed: {o.changed}"
    if case.tolerant and not result["errors"] and not result["timeout"]:
        assert result["good_opened"], "the window did not open the good data set afterwards"
        return  # drawn as pycocotools reads it, without a crash
    assert_window_reported(result, bad_path(batch, sub), case.where, case.field, allow_findings=True)


# ============================================================ class 5: annotation PNGs


def _png_probe(case: PngCase) -> SubCase:
    def make(d: Path, demo: Demo):
        mine = copy_demo(demo, d / "root")
        png = write_png_case(mine, case)
        return {"kind": "dataset", "path": str(mine.root), "bad": str(png)}, [mine.root]

    return _probe_sub(f"window-png-{case.name}", make)


def check_png_result(result: dict[str, Any], png: Path, case: PngCase) -> None:
    needle = case.needle if case.kind == "mode" else ""
    assert_window_reported(result, png, allow_findings=True, needle=needle)


@pytest.mark.parametrize(("sub", "case"), [pytest.param(_png_probe(c), c, id=c.name) for c in PNG_CASES if c.heavy])
def test_class5_png_bombs_in_the_window(batch, sub: SubCase, case: PngCase):
    o = batch.result(sub)
    check_png_result(probe_result(o), bad_path(batch, sub), case)
    assert not o.changed, f"inputs changed: {o.changed}"


@pytest.mark.parametrize("case", [c for c in PNG_CASES if not c.heavy], ids=lambda c: c.name)
def test_class5_pngs_in_the_window(qtbot, window, demo, tmp_path, case: PngCase):
    mine = copy_demo(demo, tmp_path / "root")
    png = write_png_case(mine, case)
    before = snapshot([mine.root])
    result = open_and_wait(qtbot, window, lambda: window.controller.open_dataset(mine.root), demo)
    check_png_result(result, png, case)
    check_unchanged(before, [mine.root])


# ============================================================ class 6: JSON text


TEXT_WINDOW = [("predictions", t) for t in TEXT_CASES if t.name in (
    "bom", "truncated-in-string", "truncated-after-comma", "empty-file", "deeply-nested", "invalid-utf8")] + [
    ("ground-truth", t) for t in TEXT_CASES if t.name in ("bom", "truncated-in-string", "empty-file")] + [
    ("imgCatIds", t) for t in TEXT_CASES if t.name in ("truncated-in-string", "bom")]


def check_text_result(result: dict[str, Any], path: Path, case: TextCase) -> None:
    assert_window_reported(result, path, needle="")
    messages = [m for _, m in result["errors"] if str(path) in m]
    if case.needle:
        assert any(case.needle.lower() in m.lower() for m in messages), f"no message says {case.needle!r}: {messages}"
    if case.name in TRUNCATED:
        whys = [whole_sentence_problem(m) for m in messages]
        assert None in whys, f"the message is not a whole sentence ({whys}): {messages}"


@pytest.mark.parametrize(("role", "case"), [pytest.param(r, t, id=f"{r}-{t.name}") for r, t in TEXT_WINDOW])
def test_class6_json_text_in_the_window(qtbot, window, demo, tmp_path, role: str, case: TextCase):
    if role == "predictions":
        path = tmp_path / "preds.json"
        path.write_bytes(case.make(demo.preds.read_bytes()))
        action = open_predictions_action(window, qtbot, demo, path)
    elif role == "ground-truth":
        path = tmp_path / "gt.json"
        path.write_bytes(case.make(demo.gt.read_bytes()))
        action = lambda: window.controller.open_dataset(path, images=str(demo.images), predictions=demo.preds)  # noqa: E731
    else:
        mine = copy_demo(demo, tmp_path / "root")
        path = mine.catalog
        path.write_bytes(case.make(demo.catalog.read_bytes()))
        action = lambda: window.controller.open_dataset(mine.root)  # noqa: E731
    before = snapshot([path])
    result = open_and_wait(qtbot, window, action, demo)
    check_text_result(result, path, case)
    check_unchanged(before, [path])


def test_class6_bom_on_a_large_submission_in_the_window(qtbot, window, demo, tmp_path):
    path = write_big_predictions(demo, tmp_path / "big-bom.json", bom=True)
    action = open_predictions_action(window, qtbot, demo, path)
    result = open_and_wait(qtbot, window, action, demo)
    check_text_result(result, path, TEXT_CASES[0])


# ============================================================ class 7: --screenshot over an input


SCREENSHOT_TARGETS = ["predictions.json", "imgCatIds.json", "annotation-png", "photo-jpg",
                      "symlink-to-predictions", "hardlink-to-imgCatIds"]


def _screenshot_sub(target: str) -> SubCase:
    def build(d: Path, demo: Demo):
        cache = d / "cache"
        shutil.copytree(demo.root, cache / "demo", symlinks=True)  # the demo --demo opens, prebuilt
        mine = Demo(cache / "demo")
        out = {"predictions.json": mine.preds, "imgCatIds.json": mine.catalog, "annotation-png": mine.bad_png,
               "photo-jpg": mine.images / "validation" / "ADE_val_00000001.jpg"}.get(target)
        if target == "symlink-to-predictions":
            out = d / "shot.png"
            os.symlink(mine.preds, out)
        elif target == "hardlink-to-imgCatIds":
            out = d / "shot.png"
            os.link(mine.catalog, out)
        (d / "bad-path").write_text(str(out))
        argv = [sys.executable, "-m", "placeseg_review.main", "--demo", "--screenshot", str(out)]
        env = subprocess_env({"PLACESEG_REVIEW_CACHE": str(cache)})
        return argv, [mine.root, out], {"env": env, "memory": 6 << 30}

    return SubCase(f"screenshot-over-{target}", build)


@pytest.mark.parametrize("sub", [pytest.param(_screenshot_sub(t), id=t) for t in SCREENSHOT_TARGETS])
def test_class7_screenshot_never_overwrites_what_the_app_read(batch, sub: SubCase):
    o = batch.result(sub)
    out = bad_path(batch, sub)
    assert not o.hang, o.describe()
    assert o.returncode is not None and o.returncode >= 0, o.describe()
    assert "Traceback" not in o.stderr, o.stderr[-3000:]
    assert not o.changed, f"the screenshot destroyed an input: {o.changed} ({o.describe()})"
    assert o.returncode == 2, f"expected exit 2, got {o.describe()}"
    first = o.first_err
    assert first.startswith("placeseg-review: error: ") and str(out) in first, f"first stderr line: {first!r}"
