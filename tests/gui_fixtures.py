"""Fixtures of the GUI tests: tiny data sets made here, and windows that never touch the
user's settings or cache. conftest.py registers the fixtures; import the helpers."""

from __future__ import annotations

import gc
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from placeseg_core import rle as rle_utils
from placeseg_core.categories import default_categories

W, H = 60, 40
GREY = 128

#: How long a GUI test waits for background work (a worker, a queued signal, a timer) before it
#: fails. Generous on purpose: a wait ends as soon as its condition holds, so this only costs
#: time when a test fails, and a loaded machine (the suite beside other work on two cores) is
#: many times slower than an idle one. Tests wait on the condition itself, never a fixed time.
WAIT_MS = 60_000


@dataclass
class TinySet:
    """A two-image data set in the challenge layout with known masks and predictions."""

    root: Path
    predictions: Path
    ids: tuple[int, int] = (20210, 20211)
    # image 20210: instance 1 = chair (8), instance 2 = person (4), instance 3 = painting/sofa mix
    chair_px: tuple[int, int] = (14, 12)  # (x, y) inside instance 1
    person_px: tuple[int, int] = (45, 28)  # inside instance 2
    background_px: tuple[int, int] = (30, 3)  # no instance, no prediction
    low_pred_px: tuple[int, int] = (7, 34)  # only the low-score (0.2) prediction covers it


def _masks_image1() -> tuple[np.ndarray, np.ndarray]:
    red = np.zeros((H, W), np.uint8)
    green = np.zeros((H, W), np.uint8)
    red[5:20, 5:25], green[5:20, 5:25] = 8, 1  # chair
    red[20:36, 35:55], green[20:36, 35:55] = 4, 2  # person
    red[2:9, 40:45], green[2:9, 40:51] = 10, 3  # instance 3: painting ...
    red[2:9, 45:51] = 11  # ... and sofa: two red values, an integrity finding
    return red, green


def write_tiny_set(root: Path) -> TinySet:
    img_dir = root / "images" / "validation"
    ann_dir = root / "annotations_instance" / "validation"
    img_dir.mkdir(parents=True)
    ann_dir.mkdir(parents=True)
    red1, green1 = _masks_image1()
    red2 = np.zeros((H, W), np.uint8)
    green2 = np.zeros((H, W), np.uint8)
    red2[10:30, 10:30], green2[10:30, 10:30] = 4, 1
    for k, (red, green) in enumerate(((red1, green1), (red2, green2)), start=1):
        rgb = np.zeros((H, W, 3), np.uint8)
        rgb[..., 0], rgb[..., 1] = red, green
        Image.fromarray(rgb).save(ann_dir / f"ADE_val_{k:08d}.png")
        Image.fromarray(np.full((H, W, 3), GREY, np.uint8)).save(img_dir / f"ADE_val_{k:08d}.jpg", quality=95)
    catalog = {
        "images": [{"id": 20210 + k, "file_name": f"ADE_val_{k + 1:08d}.jpg", "width": W, "height": H} for k in range(2)],
        "categories": default_categories(),
    }
    (root / "imgCatIds.json").write_text(json.dumps(catalog))
    low = np.zeros((H, W), np.uint8)
    low[30:39, 2:13] = 1
    preds = [
        {"image_id": 20210, "category_id": 8, "segmentation": rle_utils.encode(green1 == 1), "score": 0.9},
        {"image_id": 20210, "category_id": 4, "segmentation": rle_utils.encode(low), "score": 0.2},
        {"image_id": 20211, "category_id": 4, "segmentation": rle_utils.encode(green2 == 1), "score": 0.6},
    ]
    pred_path = root / "predictions.json"
    pred_path.write_text(json.dumps(preds))
    return TinySet(root, pred_path)


@pytest.fixture
def tiny_set(tmp_path: Path) -> TinySet:
    return write_tiny_set(tmp_path / "tiny")


@pytest.fixture(autouse=True)
def isolated_user_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test reads or writes the user's settings or demo cache."""
    state = tmp_path / "user-state"
    state.mkdir()
    monkeypatch.setenv("PLACESEG_REVIEW_CACHE", str(state / "cache"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(state / "settings"))
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(state / "settings"))
    return state


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "settings.ini"


def make_window(qtbot: object, settings_path: Path) -> object:
    from placeseg_review.services.settings import Settings
    from placeseg_review.window.main_window import MainWindow

    window = MainWindow(Settings(settings_path))
    window.resize(1280, 800)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window, timeout=WAIT_MS)
    return window


@pytest.fixture
def window(qtbot: object, settings_path: Path) -> object:
    win = make_window(qtbot, settings_path)
    yield win
    assert win.shutdown(), "a worker thread was still running at shutdown"
    assert win.controller.io_pool.active_thread_count() == 0
    assert win.controller.job_pool.active_thread_count() == 0
    win.close()
    gc.collect()  # the window's reference cycles go now, on the GUI thread, with no worker running


def wait_settled(qtbot: object, window: object, timeout: int = WAIT_MS) -> None:
    """Until no job runs and the requested image is on screen (with the current predictions)."""
    qtbot.waitUntil(lambda: window.session.image is not None and not window.controller.busy
                    and not window.controller.jobs, timeout=timeout)


def open_tiny(qtbot: object, window: object, tiny: TinySet, with_preds: bool = True) -> None:
    if not with_preds:
        tiny.predictions.rename(tiny.predictions.with_suffix(".held"))
    window.controller.open_dataset(tiny.root)
    wait_settled(qtbot, window)
    if not with_preds:
        tiny.predictions.with_suffix(".held").rename(tiny.predictions)


def canvas_pixel(window: object, x: float, y: float) -> tuple[int, int, int]:
    """Colour the canvas shows at image pixel (x, y) (grabbed from the rendered viewport)."""
    canvas = window.canvas
    pos = canvas.image_to_viewport(x, y)
    colour = canvas.viewport().grab().toImage().pixelColor(pos)
    return colour.red(), colour.green(), colour.blue()


def differs(a: tuple[int, int, int], b: tuple[int, int, int], by: int = 20) -> bool:
    return max(abs(p - q) for p, q in zip(a, b, strict=True)) >= by
