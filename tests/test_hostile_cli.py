"""The hostile-input corpus against the command line, by failure class.

Each (class, instance, command) is its own test. Cases that could hang or kill the process run
in subprocesses (started in the background as the module begins: see ``BatchRunner``); the rest
call ``placeseg_core.cli.main.main`` in process. The contract each case meets:

* exit 2 for an unusable input, 1 for a submission with errors (evaluate / matches refuse to
  score it and print the validator's located problems; validate reports it);
* stderr's first line ``placeseg CMD: error: ...`` names the file and, for an item-level fault,
  the item and the field; no traceback; no ``internal-error`` from validate;
* no hang, no death by a signal, no input changed (hashes; FIFOs and devices by inode/mtime).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hostile_corpus import (
    BAD_ITEM,
    BAD_PNG,
    CATALOG_NUMBER_CASES,
    GT_ANNOTATION_CASES,
    GT_IMAGE_CASES,
    PNG_CASES,
    POLYGON_CASES,
    PRED_NUMBER_CASES,
    RLE_CASES,
    TEXT_CASES,
    TRUNCATED,
    BatchRunner,
    Demo,
    FieldCase,
    Outcome,
    PngCase,
    RleCase,
    SubCase,
    TextCase,
    assert_invalid_report,
    assert_ran_cleanly,
    assert_unscorable,
    assert_unusable,
    build_demo_set,
    children_of,
    copy_demo,
    make_special,
    pids_with_argument,
    placeseg,
    process_state,
    run_main_inprocess,
    selected_subcases,
    subprocess_env,
    whole_sentence_problem,
    write_big_predictions,
    write_png_case,
    write_rle_case,
)

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

IMAGE_OF_BAD_ITEM = 20210  # predictions item 3 and ground-truth annotations[3] are on it
OTHER_IMAGE = 20211


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Demo:
    return build_demo_set(tmp_path_factory.mktemp("hostile-cli") / "demo")


@pytest.fixture(scope="module", autouse=True)
def batch(request, tmp_path_factory, demo):
    runner = BatchRunner(tmp_path_factory.mktemp("hostile-batch"), demo, selected_subcases(request))
    yield runner
    runner.close()


def arg_after(o: Outcome, flag: str) -> str:
    return o.argv[o.argv.index(flag) + 1]


def sub_param(sub: SubCase, *values: object) -> pytest.param:
    return pytest.param(sub, *values, id=sub.id)


def truth_args(cmd: str, gt: Path, image_id: int = IMAGE_OF_BAD_ITEM) -> list[object]:
    return ["--gt", gt] + (["--image-id", image_id] if cmd == "matches" else [])


def skip_if_root_for_unreadable(kind: str) -> None:
    if kind == "unreadable" and os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading the file")


# ============================================================ class 1: RLE counts (masks)


def _rle_sub(case: RleCase, cmd: str) -> SubCase:
    def build(d: Path, demo: Demo):
        preds = write_rle_case(demo, case, d / "preds.json")
        return placeseg(cmd, "--preds", preds, *truth_args(cmd, demo.gt)), [preds, demo.gt], {}

    return SubCase(f"rle-{case.name}-{cmd}", build)


@pytest.mark.parametrize("case", RLE_CASES, ids=lambda c: f"{c.name}-validate")
def test_class1_rle_validate_reports_it(demo, tmp_path, capsys, case: RleCase):
    preds = write_rle_case(demo, case, tmp_path / "preds.json")
    o = run_main_inprocess(["validate", preds, "--img-cat-ids", demo.catalog, "--gt", demo.gt], capsys,
                           [preds, demo.gt, demo.catalog])
    assert_invalid_report(o, f"item {BAD_ITEM}", case.fields)


@pytest.mark.parametrize(("sub", "case"), [sub_param(_rle_sub(c, cmd), c) for c in RLE_CASES
                                           for cmd in ("evaluate", "matches")])
def test_class1_rle_is_not_scored(batch, sub: SubCase, case: RleCase):
    o = batch.result(sub)
    cmd = o.argv[3]
    if case.tolerant and o.returncode == 0:
        # a well-formed RLE of the wrong size: pycocotools scores it; the size warning says where
        assert_ran_cleanly(o)
        if cmd == "evaluate":
            assert f"item {BAD_ITEM}" in o.stdout + o.stderr, "scored without a warning naming the item"
        return
    assert_unscorable(o, cmd, Path(arg_after(o, "--preds")), f"item {BAD_ITEM}", case.fields)


# ============================================================ class 2: inputs that are not files


SPECIAL_KINDS = ("fifo", "dev-zero", "dev-urandom", "directory", "symlink-loop", "dangling-symlink", "unreadable")
HANGABLE = {"fifo", "dev-zero", "dev-urandom"}
ROLES = {
    "predictions": (SPECIAL_KINDS, ("validate", "evaluate", "matches")),
    "ground-truth": (SPECIAL_KINDS, ("validate", "evaluate", "matches")),
    "imgCatIds": (("fifo", "dev-zero", "directory", "symlink-loop", "dangling-symlink", "unreadable"),
                  ("validate", "convert", "evaluate")),
    "annotation-png": (("fifo", "dev-zero", "directory", "symlink-loop", "dangling-symlink", "unreadable"),
                       ("convert", "evaluate")),
}


def special_command(role: str, kind: str, cmd: str, d: Path, demo: Demo) -> tuple[list[object], Path, list[Path]]:
    """(arguments, the special path, inputs to watch) for a role played by a non-file."""
    watch = [demo.preds, demo.gt, demo.catalog, demo.ann_dir]
    ann_dir = demo.ann_dir
    if role == "predictions":
        path = make_special(kind, d / "preds.json")
        args = (["validate", path, "--img-cat-ids", demo.catalog, "--gt", demo.gt] if cmd == "validate"
                else [cmd, "--preds", path, *truth_args(cmd, demo.gt)])
    elif role == "ground-truth":
        path = make_special(kind, d / "gt.json")
        args = (["validate", demo.preds, "--gt", path] if cmd == "validate"
                else [cmd, "--preds", demo.preds, *truth_args(cmd, path)])
    elif role == "imgCatIds":
        path = make_special(kind, d / "imgCatIds.json")
        args = {"validate": ["validate", demo.preds, "--img-cat-ids", path],
                "convert": ["convert", ann_dir, "--img-cat-ids", path, "-o", d / "out.json"],
                "evaluate": ["evaluate", "--preds", demo.preds, "--ann-dir", ann_dir, "--img-cat-ids", path]}[cmd]
    else:
        ann_dir = d / "ann"
        shutil.copytree(demo.ann_dir, ann_dir)
        path = make_special(kind, ann_dir / BAD_PNG)
        watch.append(ann_dir)
        args = {"convert": ["convert", ann_dir, "--img-cat-ids", demo.catalog, "-o", d / "out.json"],
                "evaluate": ["evaluate", "--preds", demo.preds, "--ann-dir", ann_dir,
                             "--img-cat-ids", demo.catalog]}[cmd]
    return args, path, watch + [path]


def _special_sub(role: str, kind: str, cmd: str) -> SubCase:
    def build(d: Path, demo: Demo):
        args, path, watch = special_command(role, kind, cmd, d, demo)
        (d / "special-path").write_text(str(path))
        return placeseg(*args), watch, {}

    return SubCase(f"{role}-{kind}-{cmd}", build)


SPECIAL_SUB = [sub_param(_special_sub(r, k, c), r, k) for r, (kinds, cmds) in ROLES.items()
               for k in kinds if k in HANGABLE for c in cmds]
SPECIAL_INPROC = [pytest.param(r, k, c, id=f"{r}-{k}-{c}") for r, (kinds, cmds) in ROLES.items()
                  for k in kinds if k not in HANGABLE for c in cmds]


@pytest.mark.parametrize(("sub", "role", "kind"), SPECIAL_SUB)
def test_class2_fifo_and_devices_are_refused_at_once(batch, sub: SubCase, role: str, kind: str):
    o = batch.result(sub)
    path = Path((batch.case_dir(sub) / "special-path").read_text())
    assert_unusable(o, o.argv[3], path)


@pytest.mark.parametrize(("role", "kind", "cmd"), SPECIAL_INPROC)
def test_class2_folders_links_and_unreadable_files_are_refused(demo, tmp_path, capsys, role, kind, cmd):
    skip_if_root_for_unreadable(kind)
    args, path, watch = special_command(role, kind, cmd, tmp_path, demo)
    o = run_main_inprocess(args, capsys, watch)
    assert_unusable(o, cmd, path)


# ============================================================ class 3: absurd numbers


def _field_sub(prefix: str, case: FieldCase, cmd: str, argv_fn) -> SubCase:
    def build(d: Path, demo: Demo):
        path = case.write(demo, d / ("preds.json" if prefix == "pred" else
                                     "imgCatIds.json" if prefix == "catalog" else "gt.json"))
        argv, watch = argv_fn(cmd, path, demo)
        return placeseg(*argv), watch, {}

    return SubCase(f"{prefix}-{case.name}-{cmd}", build)


def _pred_argv(cmd: str, path: Path, demo: Demo):
    return [cmd, "--preds", path, *truth_args(cmd, demo.gt)], [path, demo.gt]


def _gt_argv(cmd: str, path: Path, demo: Demo):
    return [cmd, "--preds", demo.preds, *truth_args(cmd, path, OTHER_IMAGE)], [path, demo.preds]


def _catalog_argv(cmd: str, path: Path, demo: Demo):
    return (["evaluate", "--preds", demo.preds, "--ann-dir", demo.ann_dir, "--img-cat-ids", path],
            [path, demo.preds, demo.ann_dir])


@pytest.mark.parametrize("case", PRED_NUMBER_CASES, ids=lambda c: f"{c.name}-validate")
def test_class3_prediction_numbers_validate(demo, tmp_path, capsys, case: FieldCase):
    preds = case.write(demo, tmp_path / "preds.json")
    o = run_main_inprocess(["validate", preds, "--img-cat-ids", demo.catalog, "--gt", demo.gt], capsys,
                           [preds, demo.gt, demo.catalog])
    assert_invalid_report(o, case.where, case.field)


@pytest.mark.parametrize(("sub", "case"), [sub_param(_field_sub("pred", c, cmd, _pred_argv), c)
                                           for c in PRED_NUMBER_CASES for cmd in ("evaluate", "matches")])
def test_class3_prediction_numbers_are_not_scored(batch, sub: SubCase, case: FieldCase):
    o = batch.result(sub)
    assert_unscorable(o, o.argv[3], Path(arg_after(o, "--preds")), case.where, case.field)


@pytest.mark.parametrize(("sub", "case"), [sub_param(_field_sub("gt", c, cmd, _gt_argv), c)
                                           for c in GT_ANNOTATION_CASES + GT_IMAGE_CASES
                                           for cmd in ("evaluate", "matches")])
def test_class3_ground_truth_numbers_are_refused(batch, sub: SubCase, case: FieldCase):
    o = batch.result(sub)
    assert_unusable(o, o.argv[3], Path(arg_after(o, "--gt")), case.where, case.field)


@pytest.mark.parametrize("case", GT_IMAGE_CASES, ids=lambda c: f"{c.name}-validate")
def test_class3_ground_truth_image_numbers_validate(demo, tmp_path, capsys, case: FieldCase):
    gt = case.write(demo, tmp_path / "gt.json")
    o = run_main_inprocess(["validate", demo.preds, "--gt", gt], capsys, [gt, demo.preds])
    assert_unusable(o, "validate", gt, case.where, case.field)


@pytest.mark.parametrize("cmd", ["validate", "convert"])
@pytest.mark.parametrize("case", CATALOG_NUMBER_CASES, ids=lambda c: c.name)
def test_class3_imgcatids_numbers_are_refused(demo, tmp_path, capsys, case: FieldCase, cmd: str):
    catalog = case.write(demo, tmp_path / "imgCatIds.json")
    args = (["validate", demo.preds, "--img-cat-ids", catalog] if cmd == "validate"
            else ["convert", demo.ann_dir, "--img-cat-ids", catalog, "-o", tmp_path / "out.json"])
    o = run_main_inprocess(args, capsys, [catalog, demo.preds, demo.ann_dir])
    assert_unusable(o, cmd, catalog, case.where, case.field)


@pytest.mark.parametrize(("sub", "case"), [sub_param(_field_sub("catalog", c, "evaluate", _catalog_argv), c)
                                           for c in CATALOG_NUMBER_CASES])
def test_class3_imgcatids_numbers_evaluate_ann_dir(batch, sub: SubCase, case: FieldCase):
    o = batch.result(sub)
    assert_unusable(o, "evaluate", Path(arg_after(o, "--img-cat-ids")), case.where, case.field)


# ============================================================ class 4: ground-truth polygons


@pytest.mark.parametrize(("sub", "case"), [sub_param(_field_sub("polygon", c, cmd, _gt_argv), c)
                                           for c in POLYGON_CASES for cmd in ("evaluate", "matches")])
def test_class4_polygons(batch, sub: SubCase, case: FieldCase):
    o = batch.result(sub)
    if case.tolerant and o.returncode == 0:
        assert_ran_cleanly(o)  # pycocotools' own reading of it, scored without a crash
        return
    assert_unusable(o, o.argv[3], Path(arg_after(o, "--gt")), case.where, case.field)


# ============================================================ class 5: annotation PNGs


def png_command(cmd: str, demo: Demo, out_dir: Path) -> list[object]:
    if cmd == "convert":
        return ["convert", demo.ann_dir, "--img-cat-ids", demo.catalog, "-o", out_dir / "out.json"]
    return ["evaluate", "--preds", demo.preds, "--ann-dir", demo.ann_dir, "--img-cat-ids", demo.catalog]


def check_png_outcome(o: Outcome, cmd: str, png: Path, case: PngCase) -> None:
    assert_ran_cleanly(o)
    if case.kind == "mode" and o.returncode == 0:
        # converted with a located warning naming the file (never silently)
        warned = [ln for ln in o.stderr.splitlines() if str(png) in ln and case.needle in ln]
        assert warned, f"a {case.name} PNG was used without a warning naming it{' and ' + repr(case.needle) if case.needle else ''}:\n{o.stderr[:2000]}"
        return
    assert_unusable(o, cmd, png)


def _png_sub(case: PngCase, cmd: str) -> SubCase:
    def build(d: Path, demo: Demo):
        mine = copy_demo(demo, d / "demo")
        png = write_png_case(mine, case)
        (d / "png-path").write_text(str(png))
        return placeseg(*png_command(cmd, mine, d)), [mine.root], {}

    return SubCase(f"png-{case.name}-{cmd}", build)


PNG_SUB = [sub_param(_png_sub(c, cmd), c) for c in PNG_CASES if c.heavy for cmd in ("convert", "evaluate")]
PNG_INPROC = [pytest.param(c, cmd, id=f"{c.name}-{cmd}") for c in PNG_CASES if not c.heavy
              for cmd in ("convert", "evaluate")]


@pytest.mark.parametrize(("sub", "case"), PNG_SUB)
def test_class5_png_bombs(batch, sub: SubCase, case: PngCase):
    o = batch.result(sub)
    png = Path((batch.case_dir(sub) / "png-path").read_text())
    check_png_outcome(o, o.argv[3], png, case)


@pytest.mark.parametrize(("case", "cmd"), PNG_INPROC)
def test_class5_png_modes_and_broken_files(demo, tmp_path, capsys, case: PngCase, cmd: str):
    mine = copy_demo(demo, tmp_path / "demo")
    png = write_png_case(mine, case)
    o = run_main_inprocess(png_command(cmd, mine, tmp_path), capsys, [mine.root])
    check_png_outcome(o, cmd, png, case)


# ============================================================ class 6: JSON text


TEXT_ROLES = {
    "predictions": ("validate", "evaluate", "matches"),
    "ground-truth": ("validate", "evaluate", "matches"),
    "imgCatIds": ("validate", "convert", "evaluate"),
}


def text_command(role: str, cmd: str, path: Path, demo: Demo, out_dir: Path) -> list[object]:
    if role == "predictions":
        return (["validate", path, "--img-cat-ids", demo.catalog, "--gt", demo.gt] if cmd == "validate"
                else [cmd, "--preds", path, *truth_args(cmd, demo.gt)])
    if role == "ground-truth":
        return (["validate", demo.preds, "--gt", path] if cmd == "validate"
                else [cmd, "--preds", demo.preds, *truth_args(cmd, path)])
    return {"validate": ["validate", demo.preds, "--img-cat-ids", path],
            "convert": ["convert", demo.ann_dir, "--img-cat-ids", path, "-o", out_dir / "out.json"],
            "evaluate": ["evaluate", "--preds", demo.preds, "--ann-dir", demo.ann_dir, "--img-cat-ids", path]}[cmd]


def role_source(role: str, demo: Demo) -> Path:
    return {"predictions": demo.preds, "ground-truth": demo.gt, "imgCatIds": demo.catalog}[role]


def check_text_outcome(o: Outcome, cmd: str, path: Path, case: TextCase) -> None:
    assert_unusable(o, cmd, path)
    first = o.first_err
    if case.needle:
        assert case.needle.lower() in first.lower(), f"the message does not say {case.needle!r}: {first!r}"
    if case.name in TRUNCATED:
        why = whole_sentence_problem(first)
        assert why is None, f"the message is not a whole sentence ({why}): {first!r}"


@pytest.mark.parametrize(("role", "cmd", "case"), [
    pytest.param(r, c, t, id=f"{r}-{t.name}-{c}") for r, cmds in TEXT_ROLES.items() for t in TEXT_CASES for c in cmds])
def test_class6_json_text(demo, tmp_path, capsys, role: str, cmd: str, case: TextCase):
    name = {"predictions": "preds.json", "ground-truth": "gt.json", "imgCatIds": "imgCatIds.json"}[role]
    path = tmp_path / name
    path.write_bytes(case.make(role_source(role, demo).read_bytes()))
    o = run_main_inprocess(text_command(role, cmd, path, demo, tmp_path), capsys,
                           [path, demo.preds, demo.gt, demo.catalog, demo.ann_dir])
    check_text_outcome(o, cmd, path, case)


def _big_bom_sub(cmd: str) -> SubCase:
    def build(d: Path, demo: Demo):
        preds = write_big_predictions(demo, d / "big-bom.json", bom=True)
        return placeseg(cmd, "--preds", preds, *truth_args(cmd, demo.gt)), [preds, demo.gt], {}

    return SubCase(f"predictions-bom-5MB-{cmd}", build)


@pytest.mark.parametrize("sub", [sub_param(_big_bom_sub(c)) for c in ("evaluate", "matches")])
def test_class6_bom_on_a_large_submission(batch, sub: SubCase):
    o = batch.result(sub)
    check_text_outcome(o, o.argv[3], Path(arg_after(o, "--preds")), TEXT_CASES[0])


def test_class6_bom_on_a_large_submission_validate(demo, tmp_path, capsys):
    preds = write_big_predictions(demo, tmp_path / "big-bom.json", bom=True)
    o = run_main_inprocess(["validate", preds, "--img-cat-ids", demo.catalog], capsys, [preds])
    check_text_outcome(o, "validate", preds, TEXT_CASES[0])


# ============================================================ class 7: outputs that would destroy inputs


def _link(kind: str, target: Path, at: Path) -> Path:
    if kind == "hardlink":
        os.link(target, at)
    else:
        os.symlink(target, at)
    return at


OUTPUT_ON_INPUT = ["png", "png-hardlink", "png-symlink", "imgCatIds-hardlink", "imgCatIds-symlink"]
EVAL_ON_INPUT = ["preds-hardlink", "preds-symlink", "gt-symlink", "gt-hardlink",
                 "ann-dir-png", "ann-dir-png-hardlink", "ann-dir-imgCatIds"]
REPORT_ON_INPUT = ["preds-hardlink", "imgCatIds-symlink", "gt", "gt-symlink", "ann-dir-png"]


def _target(mine: Demo, tmp: Path, spec: str) -> Path:
    """The output path for a spec like 'png-hardlink' (a link made in another folder)."""
    base = spec.replace("ann-dir-", "")
    what, _, link = base.partition("-")
    source = {"png": mine.bad_png, "imgCatIds": mine.catalog, "preds": mine.preds, "gt": mine.gt}[what]
    if not link:
        return source
    (tmp / "elsewhere").mkdir(exist_ok=True)
    return _link(link, source, tmp / "elsewhere" / f"out-{spec}{source.suffix}")


def check_refused_output(o: Outcome, cmd: str, out: Path) -> None:
    assert_unusable(o, cmd, out)


@pytest.mark.parametrize("spec", OUTPUT_ON_INPUT)
def test_class7_convert_output_on_an_input(demo, tmp_path, capsys, spec: str):
    mine = copy_demo(demo, tmp_path / "demo")
    out = _target(mine, tmp_path, spec)
    o = run_main_inprocess(["convert", mine.ann_dir, "--img-cat-ids", mine.catalog, "-o", out], capsys,
                           [mine.root, out])
    check_refused_output(o, "convert", out)


@pytest.mark.parametrize("spec", EVAL_ON_INPUT)
def test_class7_evaluate_json_on_an_input(demo, tmp_path, capsys, spec: str):
    mine = copy_demo(demo, tmp_path / "demo")
    out = _target(mine, tmp_path, spec)
    truth = (["--ann-dir", mine.ann_dir, "--img-cat-ids", mine.catalog] if spec.startswith("ann-dir")
             else ["--gt", mine.gt])
    o = run_main_inprocess(["evaluate", "--preds", mine.preds, *truth, "--json", out], capsys, [mine.root, out])
    check_refused_output(o, "evaluate", out)


@pytest.mark.parametrize("spec", REPORT_ON_INPUT)
def test_class7_validate_report_on_an_input(demo, tmp_path, capsys, spec: str):
    mine = copy_demo(demo, tmp_path / "demo")
    out = _target(mine, tmp_path, spec)
    truth = (["--ann-dir", mine.ann_dir] if spec.startswith("ann-dir")
             else ["--gt", mine.gt] if spec.startswith("gt") else [])
    o = run_main_inprocess(["validate", mine.preds, "--img-cat-ids", mine.catalog, *truth, "--report", out],
                           capsys, [mine.root, out])
    check_refused_output(o, "validate", out)


def output_command(cmd: str, demo: Demo, out: Path) -> list[object]:
    return {"convert": ["convert", demo.ann_dir, "--img-cat-ids", demo.catalog, "-o", out],
            "evaluate": ["evaluate", "--preds", demo.preds, "--gt", demo.gt, "--json", out],
            "validate": ["validate", demo.preds, "--img-cat-ids", demo.catalog, "--report", out]}[cmd]


def _fifo_out_sub(cmd: str) -> SubCase:
    def build(d: Path, demo: Demo):
        out = d / "out.json"
        os.mkfifo(out)
        return placeseg(*output_command(cmd, demo, out)), [out, demo.root], {}

    return SubCase(f"output-fifo-{cmd}", build)


@pytest.mark.parametrize("sub", [sub_param(_fifo_out_sub(c)) for c in ("convert", "evaluate", "validate")])
def test_class7_output_that_is_a_fifo_is_refused_not_replaced(batch, sub: SubCase):
    o = batch.result(sub)
    out = Path(o.argv[-1])
    assert stat.S_ISFIFO(os.lstat(out).st_mode), "the FIFO was replaced by another kind of file"
    assert_unusable(o, o.argv[3], out)


@pytest.fixture
def char_null(tmp_path) -> Path:
    """A private null device (never the system's /dev/null, which an atomic rename would replace)."""
    path = tmp_path / "null-device"
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a character device here ({exc.strerror}); /dev/null itself is not used "
                    "because a failing command could replace it for the whole machine")
    return path


@pytest.mark.parametrize("cmd", ["convert", "evaluate", "validate"])
def test_class7_output_that_is_a_char_device_is_written_in_place(demo, capsys, char_null: Path, cmd: str):
    before = os.lstat(char_null)
    o = run_main_inprocess(output_command(cmd, demo, char_null), capsys, [demo.root])
    assert_ran_cleanly(o)
    after = os.lstat(char_null)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino, "the device was replaced by a file"
    assert o.returncode == 0, o.describe()
    assert not [p for p in char_null.parent.iterdir() if p.name.endswith(".tmp")], "a temporary file was left"


@pytest.mark.parametrize("cmd", ["convert", "evaluate", "validate"])
def test_class7_a_250_character_output_name_works(demo, tmp_path, capsys, cmd: str):
    folder = tmp_path / "out"
    folder.mkdir()
    out = folder / ("o" * 245 + ".json")
    assert len(out.name) == 250
    o = run_main_inprocess(output_command(cmd, demo, out), capsys, [demo.root])
    assert_ran_cleanly(o)
    assert o.returncode == 0, o.describe()
    json.loads(out.read_text())
    assert [p.name for p in folder.iterdir()] == [out.name], "something else was left beside the output"


def _wait_for(cond, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    delay = 0.001
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(delay)  # polling with a deadline
        delay = min(delay * 2, 0.02)
    return cond()


def _start(argv: list[object]) -> subprocess.Popen:
    return subprocess.Popen([str(a) for a in argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL, env=subprocess_env(), start_new_session=True)


def _leftover_temporaries(folder: Path, name: str) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(f".{name}.") and p.name.endswith(".tmp")]


SIGTERM_MOMENTS = [pytest.param(seed, id=f"seed-{seed}") for seed in (1, 2, 3)] + [
    pytest.param("temp-file", id="when-the-temporary-appears")]


@pytest.mark.parametrize("moment", SIGTERM_MOMENTS)
def test_class7_sigterm_never_leaves_a_temporary(demo, tmp_path, moment):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "out.json"
    argv = placeseg("evaluate", "--preds", demo.preds, "--gt", demo.gt, "--errors", "--json", out)
    proc = _start(argv)
    try:
        if moment == "temp-file":
            _wait_for(lambda: bool(_leftover_temporaries(out_dir, out.name)) or proc.poll() is not None, 60)
        else:  # a seeded moment within a typical run (about half a second)
            rng = random.Random(moment)
            target = time.monotonic() + rng.uniform(0.05, 0.8)
            _wait_for(lambda: time.monotonic() >= target or proc.poll() is not None, 60)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    left = _leftover_temporaries(out_dir, out.name)
    assert not left, f"SIGTERM left {left} behind"
    if out.exists():
        json.loads(out.read_text())  # whole, or not there at all


def test_class7_sigkill_while_loading_a_large_submission_leaves_no_child(demo, tmp_path):
    preds = write_big_predictions(demo, tmp_path / "big.json")
    argv = placeseg("evaluate", "--preds", preds, "--gt", demo.gt)
    proc = _start(argv)
    seen: set[int] = set()
    try:
        # kill while it loads: as soon as a helper process exists (or early, if none appears)
        _wait_for(lambda: bool(children_of(proc.pid)) or proc.poll() is not None, 60)
        seen.update(children_of(proc.pid))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        if not seen:
            pytest.skip("evaluate started no helper process for this 5 MB submission before it ended: "
                        "nothing could be left behind")
        gone = _wait_for(lambda: all(process_state(c) in (None, "Z") for c in seen)
                         and not pids_with_argument(str(preds)), 10)
        alive = [c for c in seen if process_state(c) not in (None, "Z")] + pids_with_argument(str(preds))
        assert gone and not alive, f"processes still alive 10 s after the SIGKILL: {sorted(set(alive))}"
    finally:
        for pid in seen | set(pids_with_argument(str(preds))):  # only what this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ============================================================ class 8: flags


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e999", "-1", "0"])
def test_class8_max_size_mb_is_a_one_line_usage_error(demo, capsys, value: str):
    o = run_main_inprocess(["validate", demo.preds, "--img-cat-ids", demo.catalog, f"--max-size-mb={value}"],
                           capsys, [demo.preds])
    assert_unusable(o, "validate", "--max-size-mb")
    assert len(o.stderr.strip().splitlines()) == 1, f"not one line:\n{o.stderr}"


def test_subprocess_entry_point_is_this_python(tmp_path):
    """The subprocess cases run the code under test (this interpreter, this checkout)."""
    proc = subprocess.run([sys.executable, "-c", "import placeseg_core, sys; print(placeseg_core.__file__)"],
                          capture_output=True, text=True, timeout=60, env=subprocess_env(), cwd=tmp_path)
    assert proc.returncode == 0 and str(Path(__file__).resolve().parents[1]) in proc.stdout, proc.stdout + proc.stderr
