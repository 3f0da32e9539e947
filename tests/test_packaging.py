"""packaging/build: the one-folder bundle and the .deb, checked from the outside.

Opt-in (the build takes minutes: a venv, PyInstaller, dpkg-deb): ``PLACESEG_TEST_PACKAGING=1``.
It writes dist/ and build/ of the checkout like packaging/build itself, never installs the .deb:
it unpacks it into a temporary folder and runs the bundle from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pytest
from PIL import Image
from test_real_window import xvfb  # noqa: F401 (a fixture)

pytestmark = pytest.mark.skipif(
    os.environ.get("PLACESEG_TEST_PACKAGING") != "1",
    reason="the bundle build takes minutes (PyInstaller + dpkg-deb): set PLACESEG_TEST_PACKAGING=1 to run it")

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "org.placeseg.PlaceSegReview"
VERSION = metadata.version("placeseg-review")


@pytest.fixture(scope="module")
def built() -> Path:
    """Runs packaging/build; the .deb it made."""
    proc = subprocess.run([str(ROOT / "packaging" / "build")], cwd=ROOT, capture_output=True, text=True,
                          timeout=3600, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    debs = sorted((ROOT / "dist").glob("placeseg-review_*.deb"))
    assert len(debs) == 1, debs
    assert str(debs[0].relative_to(ROOT)) in proc.stdout and "dist/placeseg-review/" in proc.stdout
    return debs[0]


@pytest.fixture(scope="module")
def unpacked(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("deb")
    subprocess.run(["dpkg-deb", "-x", str(built), str(root)], check=True)
    return root


def _field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "--field", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_deb_declares_what_qt_needs_at_run_time(built: Path):
    assert _field(built, "Package") == "placeseg-review"
    assert _field(built, "Version") == VERSION
    depends = {d.strip() for d in _field(built, "Depends").split(",")}
    assert {"libxcb-icccm4", "libxcb-keysyms1", "libxcb-cursor0", "libxkbcommon-x11-0", "libgl1", "libegl1",
            "libfontconfig1", "fonts-dejavu-core", "libdbus-1-3", "libglib2.0-0"} <= depends


def test_the_deb_installs_bundle_launcher_menu_entry_icons_and_metainfo(built: Path, unpacked: Path):
    assert os.access(unpacked / "opt/placeseg-review/placeseg-review", os.X_OK)
    assert os.readlink(unpacked / "usr/bin/placeseg-review") == "/opt/placeseg-review/placeseg-review"
    share = unpacked / "usr/share"
    assert (share / "applications" / f"{APP_ID}.desktop").is_file()
    assert (share / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    assert (share / "mime/packages/placeseg-review.xml").is_file()
    assert (share / "icons/hicolor/scalable/apps/placeseg-review.svg").is_file()
    for size in (16, 32, 48, 64, 128, 256):
        with Image.open(share / f"icons/hicolor/{size}x{size}/apps/placeseg-review.png") as img:
            assert img.size == (size, size)
    listing = subprocess.run(["dpkg-deb", "--contents", str(built)], capture_output=True, text=True, check=True).stdout
    assert all(line.split()[1] == "root/root" for line in listing.splitlines())


def test_the_metadata_validates(unpacked: Path):
    tools = [("desktop-file-validate", "usr/share/applications", f"{APP_ID}.desktop"),
             ("appstreamcli", "usr/share/metainfo", f"{APP_ID}.metainfo.xml")]
    ran = 0
    for tool, folder, name in tools:
        exe = shutil.which(tool)
        if exe is None:
            continue
        args = [exe, "validate", "--no-net"] if tool == "appstreamcli" else [exe]
        proc = subprocess.run([*args, str(unpacked / folder / name)], capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        ran += 1
    if not ran:
        pytest.skip("desktop-file-validate and appstreamcli are absent (Debian: desktop-file-utils, appstream)")


def test_the_bundle_knows_its_version_and_renders_the_demo(unpacked: Path, tmp_path: Path):
    exe = unpacked / "opt/placeseg-review/placeseg-review"
    version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=120, check=True)
    assert version.stdout.strip() == f"placeseg-review {VERSION}"
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PLACESEG_REVIEW_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([str(exe), "--demo", "--view", "evaluation", "--screenshot", str(out)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with Image.open(out) as img:
        assert len(img.convert("RGB").getcolors(1 << 22) or []) > 1000


def test_the_bundle_starts_in_a_real_x_window(unpacked: Path, xvfb: str, tmp_path: Path):  # noqa: F811
    exe = unpacked / "opt/placeseg-review/placeseg-review"
    env = {k: v for k, v in os.environ.items() if k != "WAYLAND_DISPLAY"}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", PLACESEG_REVIEW_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([str(exe), "--demo", "--settings", str(tmp_path / "s.ini"), "--quit-after-first-image"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "first image after" in proc.stdout


def test_the_bundle_validates_in_its_worker_process(unpacked: Path, tmp_path: Path):
    """The window validates in a spawned process, which in the bundle is the bundle's own
    executable again: it must do the work (multiprocessing.freeze_support in entry.py), not
    parse the window's command line and fail."""
    exe = unpacked / "opt/placeseg-review/placeseg-review"
    out = tmp_path / "shot.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PLACESEG_REVIEW_CACHE=str(tmp_path / "cache"))
    proc = subprocess.run([str(exe), "--demo", "--view", "validation", "--screenshot", str(out)], env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "worker process" not in proc.stderr and "unrecognized arguments" not in proc.stderr
