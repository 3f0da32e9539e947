"""Desktop integration: the desktop entry and the file types it claims, --install-desktop,
--version, the About box, opening any mix of paths (a desktop's ``%F``), and the advice given
when Qt's X11 plugin lacks a system library."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from importlib import metadata
from pathlib import Path

import pytest
from gui_fixtures import WAIT_MS, TinySet, wait_settled

from placeseg_review.services import desktop, platform_check

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
ENTRY = RESOURCES / desktop.DESKTOP_FILE
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
VERSION = metadata.version("placeseg-review")


def _keys(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))


def _validate(path: Path) -> None:
    exe = shutil.which("desktop-file-validate")
    if exe is None:
        pytest.skip("desktop-file-validate is absent (Debian: apt install desktop-file-utils)")
    proc = subprocess.run([exe, str(path)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


# ------------------------------------------------------------------ the entry and its file types


def test_the_desktop_entry_is_valid_and_claims_only_what_the_app_opens():
    keys = _keys(ENTRY.read_text())
    assert keys["Exec"] == "placeseg-review %F" and keys["Icon"] == desktop.ICON_NAME
    claimed = set(filter(None, keys["MimeType"].split(";")))
    defined = {t.get("type") for t in ET.parse(RESOURCES / desktop.MIME_FILE).getroot()}
    assert claimed == defined == {"application/x-placeseg-predictions", "application/x-placeseg-ground-truth",
                                  "application/x-placeseg-catalog"}
    main = {"AudioVideo", "Audio", "Video", "Development", "Education", "Game", "Graphics", "Network",
            "Office", "Science", "Settings", "System", "Utility"}
    assert len(main & set(keys["Categories"].split(";"))) == 1
    _validate(ENTRY)


def _magic_matches(match: ET.Element, data: bytes) -> bool:
    """shared-mime-info's string match at an offset range; nested matches must all hold (one of
    the siblings)."""
    start, _, end = match.get("offset", "0").partition(":")
    value = match.get("value", "").encode()
    window = data[int(start): int(end or start) + len(value)]
    if value not in window:
        return False
    children = match.findall(f"{MIME_NS}match")
    return not children or any(_magic_matches(c, data) for c in children)


def _sniffed_type(path: Path) -> str | None:
    root = ET.parse(RESOURCES / desktop.MIME_FILE).getroot()
    data = path.read_bytes()[:8192]
    best: tuple[int, str] | None = None
    for mime in root:
        for glob in mime.findall(f"{MIME_NS}glob"):
            if glob.get("pattern") == path.name:
                return mime.get("type")
        for magic in mime.findall(f"{MIME_NS}magic"):
            if any(_magic_matches(m, data) for m in magic.findall(f"{MIME_NS}match")):
                candidate = (int(magic.get("priority", "50")), mime.get("type"))
                best = max(best, candidate) if best else candidate
    return best[1] if best else None


def test_the_file_types_recognise_predictions_ground_truth_and_the_catalogue(tiny_set: TinySet, tmp_path: Path):
    from placeseg_core.cli.main import main as cli

    gt = tmp_path / "gt.json"
    assert cli(["convert", str(tiny_set.root / "annotations_instance" / "validation"),
                "--img-cat-ids", str(tiny_set.root / "imgCatIds.json"), "-o", str(gt)]) == 0
    coco = tmp_path / "instances.json"
    coco.write_text(json.dumps({"info": {"description": "x"}, "licenses": [], "images": [], "annotations": []}))
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(tiny_set.predictions.read_text()), indent=2))
    other = tmp_path / "package.json"
    other.write_text(json.dumps({"name": "x", "version": "1"}))
    listing = tmp_path / "list.json"
    listing.write_text(json.dumps([1, 2, 3]))
    assert _sniffed_type(tiny_set.predictions) == _sniffed_type(pretty) == "application/x-placeseg-predictions"
    assert _sniffed_type(gt) == _sniffed_type(coco) == "application/x-placeseg-ground-truth"
    assert _sniffed_type(tiny_set.root / "imgCatIds.json") == "application/x-placeseg-catalog"
    assert _sniffed_type(other) is None and _sniffed_type(listing) is None


def test_a_json_name_alone_never_decides():
    """The types' *.json glob weighs less than application/json's (50): with two candidates for
    the name, GIO and Qt read the content (as for *.ts); a plain JSON file stays JSON."""
    for mime in ET.parse(RESOURCES / desktop.MIME_FILE).getroot():
        for glob in mime.findall(f"{MIME_NS}glob"):
            if glob.get("pattern") == "*.json":
                assert int(glob.get("weight", "50")) < 50


QT_MIME = """
import sys
from PySide6.QtCore import QMimeDatabase
db = QMimeDatabase()
print("\\n".join(db.mimeTypeForFile(p).name() for p in sys.argv[1:]))
"""


def test_qt_and_gio_tell_the_types_by_content(tiny_set: TinySet, tmp_path: Path):
    """The real resolvers (Qt's QMimeDatabase, GIO's gio info) on a user data folder holding the
    compiled types."""
    exe = shutil.which("update-mime-database")
    if exe is None or not Path("/usr/share/mime/packages/freedesktop.org.xml").is_file():
        pytest.skip("shared-mime-info is absent (Debian: apt install shared-mime-info; .ci/run installs it)")
    mime = tmp_path / "xdg" / "mime"
    (mime / "packages").mkdir(parents=True)
    shutil.copy(RESOURCES / desktop.MIME_FILE, mime / "packages" / "placeseg-review.xml")
    env = dict(os.environ, XDG_DATA_HOME=str(mime.parent), XDG_DATA_DIRS="/usr/local/share:/usr/share")
    proc = subprocess.run([exe, str(mime)], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr
    assert sorted(p.name for p in (mime / "application").iterdir()) == [
        "x-placeseg-catalog.xml", "x-placeseg-ground-truth.xml", "x-placeseg-predictions.xml"]

    gt = tmp_path / "results.json"  # a ground truth whatever its name says
    gt.write_text(json.dumps({"images": [], "annotations": [], "categories": []}))
    renamed = tmp_path / "gt.json"  # predictions whatever the name says
    shutil.copy(tiny_set.predictions, renamed)
    other = tmp_path / "package.json"
    other.write_text(json.dumps({"name": "x", "version": "1"}))
    files = [tiny_set.predictions, renamed, gt, tiny_set.root / "imgCatIds.json", other]
    expected = ["application/x-placeseg-predictions", "application/x-placeseg-predictions",
                "application/x-placeseg-ground-truth", "application/x-placeseg-catalog", "application/json"]
    qt = subprocess.run([sys.executable, "-c", QT_MIME, *map(str, files)], env=env, capture_output=True,
                        text=True, timeout=120, check=False)
    assert qt.stdout.split() == expected, qt.stderr
    gio = shutil.which("gio")
    if gio:
        found = [subprocess.run([gio, "info", "-a", "standard::content-type", str(f)], env=env, capture_output=True,
                                text=True, check=True).stdout.split()[-1] for f in files]
        assert found == expected


# ------------------------------------------------------------------------- --install-desktop


@pytest.mark.parametrize(("path", "expected"), [
    ("/opt/app/placeseg-review", "/opt/app/placeseg-review"),
    ("/home/a b/.venv/bin/placeseg-review", '"/home/a b/.venv/bin/placeseg-review"'),
    ('/x/"q"$`\\/p', '"/x/\\\\"q\\\\"\\\\$\\\\`\\\\\\\\/p"'),
    ("/x/100%/p", '"/x/100%%/p"'),
])
def test_exec_arguments_are_quoted_as_the_specification_says(path, expected):
    assert desktop.exec_quote(Path(path)) == expected


def test_install_desktop_writes_a_valid_entry_for_this_program_and_uninstall_removes_it(tmp_path: Path):
    exe = Path(sys.executable).parent / "placeseg-review"
    if not exe.is_file():
        pytest.skip(f"{exe} is absent: the project is not installed in this environment")
    data = tmp_path / "my data"  # a space in the path: quoted in Exec
    env = dict(os.environ, XDG_DATA_HOME=str(data))
    proc = subprocess.run([str(exe), "--install-desktop"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    entry = data / "applications" / desktop.DESKTOP_FILE
    icon = data / "icons" / "hicolor" / "scalable" / "apps" / "placeseg-review.svg"
    mime = data / "mime" / "packages" / "placeseg-review.xml"
    assert [line for line in proc.stdout.splitlines() if line.startswith("wrote ")] == [
        f"wrote {entry}", f"wrote {icon}", f"wrote {mime}"]
    keys = _keys(entry.read_text())
    assert keys["Exec"] == f"{desktop.exec_quote(exe.absolute())} %F"
    assert keys["TryExec"] == str(exe.absolute())
    assert icon.read_bytes() == (RESOURCES / "placeseg-review.svg").read_bytes()
    _validate(entry)
    if shutil.which("update-mime-database"):
        assert (data / "mime" / "application" / "x-placeseg-predictions.xml").is_file()

    proc = subprocess.run([str(exe), "--uninstall-desktop"], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert not entry.exists() and not icon.exists() and not mime.exists()
    assert not (data / "mime" / "application" / "x-placeseg-predictions.xml").exists()
    again = subprocess.run([str(exe), "--uninstall-desktop"], env=env, capture_output=True, text=True,
                           timeout=120, check=False)
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_the_data_folder_follows_xdg_rules(tmp_path: Path):
    assert desktop.data_home({"XDG_DATA_HOME": str(tmp_path), "HOME": "/h"}) == tmp_path
    assert desktop.data_home({"XDG_DATA_HOME": "relative/dir", "HOME": "/h"}) == Path("/h/.local/share")
    assert desktop.data_home({"HOME": "/h"}) == Path("/h/.local/share")


# ------------------------------------------------------------------------- version and About


def test_both_commands_print_the_version_of_the_package():
    bin_dir = Path(sys.executable).parent
    for name in ("placeseg", "placeseg-review"):
        exe = bin_dir / name
        argv = [str(exe)] if exe.is_file() else [sys.executable, "-m",
                                                 "placeseg_core.cli.main" if name == "placeseg" else "placeseg_review.main"]
        proc = subprocess.run([*argv, "--version"], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"{name} {VERSION}"


def test_the_about_box_shows_the_version(qtbot, window):
    window._about()
    assert f"PlaceSeg Review {VERSION}" in window.message_box.text()
    window.message_box.close()


# --------------------------------------------------------------------- opening any mix of paths


def _shown(window: object) -> tuple[str, Path | None]:
    ds, preds = window.session.dataset, window.session.predictions
    return str(ds.source), (preds.path if preds is not None else None)


def test_paths_in_any_order_are_sniffed(qtbot, window, tiny_set: TinySet, tmp_path: Path):
    other = tmp_path / "other.json"
    shutil.copy(tiny_set.predictions, other)
    window.controller.open_paths([str(other), str(tiny_set.root)])
    wait_settled(qtbot, window)
    qtbot.waitUntil(lambda: window.session.predictions is not None, timeout=WAIT_MS)
    assert _shown(window) == (str(tiny_set.root), other)
    assert window.compare.b_path is None and window.session.comparison is None


def test_a_predictions_file_alone_opens_the_data_set_it_sits_in(qtbot, window, tiny_set: TinySet):
    errors: list[str] = []
    window.errorShown.connect(lambda _title, message: errors.append(message))
    window.controller.open_paths([str(tiny_set.predictions)])
    wait_settled(qtbot, window)
    qtbot.waitUntil(lambda: window.session.predictions is not None, timeout=WAIT_MS)
    assert _shown(window) == (str(tiny_set.root), tiny_set.predictions)
    assert errors == []


def test_a_second_predictions_file_is_compared_with_the_first(qtbot, window, tiny_set: TinySet, tmp_path: Path):
    second = tmp_path / "second.json"
    shutil.copy(tiny_set.predictions, second)
    with qtbot.waitSignal(window.session.comparisonChanged, timeout=WAIT_MS, check_params_cb=lambda s: s is not None):
        window.controller.open_paths([str(tiny_set.predictions), str(second), str(tiny_set.root)])
    wait_settled(qtbot, window)
    assert _shown(window) == (str(tiny_set.root), tiny_set.predictions)
    assert window.compare.b_path == second
    state = window.session.comparison
    assert (state.name_a, state.name_b) == (tiny_set.predictions.name, "second.json")
    assert state.comparison.mean_ap_delta == 0.0  # the same file twice


def test_the_command_line_takes_a_predictions_file_and_its_data_root_in_any_order(tiny_set: TinySet, tmp_path: Path):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = tmp_path / "shot.png"
    proc = subprocess.run([sys.executable, "-m", "placeseg_review.main", str(tiny_set.predictions),
                           str(tiny_set.root), "--screenshot", str(out), "--size", "1280x800"],
                          env=env, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 10_000


# --------------------------------------------------------------- Qt's X11 plugin cannot load


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"), ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-cursor.so.0", "libxcb-cursor0"), ("libX11-xcb.so.1", "libx11-xcb1"), ("libX11.so.6", "libx11-6"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"), ("libEGL.so.1", "libegl1"), ("libGL.so.1", "libgl1"),
    ("libfontconfig.so.1", "libfontconfig1"), ("libdbus-1.so.3", "libdbus-1-3"),
    ("libglib-2.0.so.0", "libglib2.0-0"), ("libxcb-render-util.so.0", "libxcb-render-util0"),
])
def test_debian_package_names_follow_the_soname(soname, package):
    assert platform_check.debian_package(soname) == package


def test_xcb_is_expected_only_where_qt_would_use_it():
    assert platform_check.wants_xcb({"DISPLAY": ":1"})
    assert platform_check.wants_xcb({"QT_QPA_PLATFORM": "xcb", "WAYLAND_DISPLAY": "w"})
    assert not platform_check.wants_xcb({"DISPLAY": ":1", "WAYLAND_DISPLAY": "wayland-0"})
    assert not platform_check.wants_xcb({"DISPLAY": ":1", "QT_QPA_PLATFORM": "offscreen"})
    assert not platform_check.wants_xcb({})


def _plugin_needing(tmp_path: Path, *sonames: str) -> Path:
    """A shared library that needs libraries which are not there (made with binutils)."""
    if not (shutil.which("as") and shutil.which("ld")):
        pytest.skip("binutils (as, ld) are absent: cannot make a library with a missing dependency")
    obj = tmp_path / "empty.o"
    subprocess.run(["as", "-o", str(obj), "/dev/null"], check=True)
    stubs = []
    for soname in sonames:
        stub = tmp_path / soname
        subprocess.run(["ld", "-shared", "-soname", soname, "-o", str(stub), str(obj)], check=True)
        stubs.append(stub)
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["ld", "-shared", "--no-as-needed", "-o", str(plugin), str(obj), *map(str, stubs)], check=True)
    for stub in stubs:
        stub.unlink()
    return plugin


def test_a_missing_xcb_library_is_named_with_its_debian_package(tmp_path: Path, monkeypatch, capsys):
    # (names of no real library: this machine's would be found)
    plugin = _plugin_needing(tmp_path, "libxcb-nothere.so.4", "libnothere-x11.so.0")
    problem = platform_check.xcb_problem(plugin, {"DISPLAY": ":1"})
    assert problem is not None
    assert "libxcb-nothere.so.4, libnothere-x11.so.0 missing" in problem
    assert problem.endswith("sudo apt install libxcb-nothere4 libnothere-x11-0")
    assert platform_check.xcb_problem(plugin, {"QT_QPA_PLATFORM": "offscreen", "DISPLAY": ":1"}) is None

    from placeseg_review import main as app_main

    monkeypatch.setattr(platform_check, "xcb_plugin", lambda: plugin)
    monkeypatch.setenv("DISPLAY", ":1")
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("PLACESEG_REVIEW_CACHE", str(tmp_path / "cache"))
    assert app_main.main(["--demo"]) == 2
    err = capsys.readouterr().err
    assert re.search(r"error: Qt's X11 platform plugin cannot load: .*apt install libxcb-nothere4 libnothere-x11-0", err)
    assert not (tmp_path / "cache").exists()  # nothing was started


def test_a_library_qt_cannot_import_without_is_named_with_its_package():
    exc = ImportError("libEGL.so.1: cannot open shared object file: No such file or directory")
    assert platform_check.import_problem(exc) == "Qt cannot start: libEGL.so.1 missing. On Debian or Ubuntu: sudo apt install libegl1"
    assert platform_check.import_problem(ImportError("No module named 'PySide6'")) is None
