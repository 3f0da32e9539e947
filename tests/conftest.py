"""Shared test set-up: Qt runs offscreen; helpers to find the challenge kit beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Property-based tests: the default run is derandomized -- the same examples every run (seeded
# from each test function; no example database), so the suite passes or fails the same way
# every time. ``HYPOTHESIS_PROFILE=fuzz`` explores fresh random examples, ten times as many;
# turn each failure it finds into an ``@example(...)`` of that test. The number of examples
# comes from the profile (tests do not set max_examples). No deadline and no too_slow health
# check: both measure time, and a loaded machine is slow, not wrong.
_COMMON = {"deadline": None, "print_blob": True, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("default", derandomize=True, max_examples=200, **_COMMON)
settings.register_profile("fuzz", derandomize=False, max_examples=2000, **_COMMON)
# Loaded here, before any test module is imported: a test's @settings inherits from it then.
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

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
