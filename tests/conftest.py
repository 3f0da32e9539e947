"""Shared test set-up: Qt runs offscreen; helpers to find the challenge kit beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# The GUI fixtures (tiny data sets, windows isolated from the user's settings and cache) are
# registered for every test file here, instead of being imported name by name in each.
from gui_fixtures import isolated_user_state, settings_path, tiny_set, window  # noqa: E402, F401

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` (the challenge kit and COCO reference files), or skip with the reason."""
    if not SHARED.is_dir():
        pytest.skip(f"reference files not present: {SHARED} is absent (CI provides it)")
    return SHARED
