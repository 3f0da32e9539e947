"""The real application in a real X window (Qt's xcb platform, not offscreen), under an Xvfb
server this module starts: it opens the demo and draws it.

Needs Debian's ``xvfb libxcb-icccm4 libxcb-keysyms1`` (and the other libraries of Qt's xcb
plugin, which .ci/run installs); without Xvfb the tests skip and say so. A missing xcb library
fails them with the application's own message naming the packages to install.
"""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

TIMEOUT_S = 300  # a loaded two-core machine builds the demo and starts Qt slowly; success ends it early

#: Grabs the whole X screen (the root window) into a PNG, through Qt's xcb platform.
GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication([sys.argv[0], "-platform", "xcb"])
ok = app.primaryScreen().grabWindow(0).save(sys.argv[1], "PNG")
sys.exit(0 if ok else 1)
"""


@pytest.fixture(scope="module")
def xvfb() -> Iterator[str]:
    """DISPLAY of a fresh Xvfb server (a free display number, chosen by the server)."""
    exe = shutil.which("Xvfb")
    if exe is None:
        pytest.skip("Xvfb is absent: a real window needs Debian's xvfb libxcb-icccm4 libxcb-keysyms1 "
                    "(.ci/run installs them)")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write_fd), "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 60)
        number = os.read(read_fd, 64).decode().strip() if ready else ""
        if not number:
            proc.kill()
            pytest.fail(f"Xvfb did not start: {proc.communicate(timeout=10)[1].decode(errors='replace')[-500:]}")
        yield f":{number}"
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def x_env(xvfb: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The environment of a program on that X server (the demo cache shared by the tests)."""
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb",
               PLACESEG_REVIEW_CACHE=str(tmp_path_factory.mktemp("real-window") / "cache"))
    return env


def _app(*args: str) -> list[str]:
    return [sys.executable, "-X", "faulthandler", "-m", "placeseg_review.main", *args]


def _colours(path: Path) -> int:
    with Image.open(path) as img:
        return len(img.convert("RGB").getcolors(1 << 22) or [])


def test_the_app_draws_the_demo_in_a_real_x_window(x_env: dict[str, str], tmp_path: Path):
    out = tmp_path / "shot.png"
    proc = subprocess.run(_app("--demo", "--image-id", "20212", "--screenshot", str(out)), env=x_env,
                          capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with Image.open(out) as img:
        assert img.size[0] >= 1280 and img.size[1] >= 800
    assert _colours(out) > 1000  # the photo and its overlays, not an empty window


def test_the_window_is_on_the_x_screen(x_env: dict[str, str], tmp_path: Path):
    """A grab of the X server's screen (not of the widget) shows the window with the demo image."""
    settings = tmp_path / "settings.ini"
    app = subprocess.Popen(_app("--demo", "--image-id", "20212", "--settings", str(settings)), env=x_env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    shot = tmp_path / "screen.png"
    colours = 0
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline and app.poll() is None:
            grab = subprocess.run([sys.executable, "-c", GRAB, str(shot)], env=x_env, capture_output=True,
                                  text=True, timeout=120, check=False)
            assert grab.returncode == 0, grab.stderr
            colours = _colours(shot)
            if colours > 1000:
                break
            # another process's window gives no signal to wait on: grabs are paced, bounded by the deadline
            time.sleep(1)
        assert app.poll() is None, f"the app ended ({app.returncode}): {app.communicate()[1][-3000:]}"
    finally:
        if app.poll() is None:
            app.terminate()
        _out, err = app.communicate(timeout=60)
    assert colours > 1000, f"the X screen stayed (nearly) blank; the app said: {err[-3000:]}"
    with Image.open(shot) as img:
        assert img.size == (1600, 1000)
        # the window's dark theme covers most of the screen
        dark = sum(n for n, rgb in img.convert("RGB").getcolors(1 << 22) if max(rgb) < 80)
        assert dark > 0.3 * 1600 * 1000
