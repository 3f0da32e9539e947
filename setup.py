"""Package layout that pyproject.toml cannot express on its own.

The GUI package lives in ``app/placeseg_review`` (import name chosen so that it cannot collide
with other distributions' generic ``app`` packages) and its icons, style sheet and desktop file
in the top-level ``resources/`` folder, installed as ``placeseg_review.resources``.
"""

from setuptools import find_packages, setup

core = find_packages(where=".", include=["placeseg_core", "placeseg_core.*"])
gui = find_packages(where="app", include=["placeseg_review", "placeseg_review.*"])

setup(
    packages=[*core, *gui, "placeseg_review.resources"],
    package_dir={
        "placeseg_review": "app/placeseg_review",
        "placeseg_review.resources": "resources",
    },
    package_data={"placeseg_review.resources": ["*.svg", "*.png", "*.qss", "*.desktop", "*.xml"]},
)
