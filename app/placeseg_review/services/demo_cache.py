"""The demo data set, built once into a cache folder and reused.

The folder is ``$PLACESEG_REVIEW_CACHE/demo`` when that variable is set (tests use it), else
the platform's cache location for this application (``~/.cache/placeseg-review/demo`` on
Linux). The set is built in a temporary sibling folder and renamed into place, so an
interrupted build never leaves a half-made demo behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from placeseg_core.demo import DEFAULT_IMAGES, MARKER, build_demo

CACHE_ENV = "PLACESEG_REVIEW_CACHE"


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env)
    try:
        from PySide6.QtCore import QStandardPaths

        location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.GenericCacheLocation)
        if location:
            return Path(location) / "placeseg-review"
    except ImportError:  # pragma: no cover - PySide6 is a dependency of the app
        pass
    return Path.home() / ".cache" / "placeseg-review"


def demo_dir() -> Path:
    return cache_root() / "demo"


def demo_is_complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in (MARKER, "imgCatIds.json", "predictions.json", "predictions-b.json"))


def ensure_demo(progress: Callable[[int, int], None] | None = None, n_images: int = DEFAULT_IMAGES,
                folder: Path | None = None) -> Path:
    """The demo folder, building it first if it is not there (or is incomplete)."""
    target = folder or demo_dir()
    if demo_is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".demo-building-", dir=target.parent))
    try:
        build_demo(tmp, n_images=n_images, progress=progress)
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
