"""The core must stay free of GUI code (napari's rule, enforced here and by import-linter)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import placeseg_core

CORE = Path(placeseg_core.__file__).parent
FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "placeseg_review")


def test_no_core_module_imports_gui_packages():
    offenders = []
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            offenders += [f"{path}: {n}" for n in names if n.split(".")[0] in FORBIDDEN]
    assert offenders == []


def test_importing_every_core_module_loads_no_qt():
    code = (
        "import importlib, pkgutil, sys, placeseg_core\n"
        "for m in pkgutil.walk_packages(placeseg_core.__path__, 'placeseg_core.'):\n"
        "    importlib.import_module(m.name)\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_import_linter_contract_holds():
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a test dependency (pip install '.[test]')"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([exe], cwd=root, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "KEPT" in proc.stdout


def test_ruff_is_clean():
    exe = shutil.which("ruff", path=str(Path(sys.executable).parent))
    assert exe, "ruff is a test dependency (pip install '.[test]')"
    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([exe, "check", "--output-format", "concise", "."], cwd=root,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_app_never_makes_qstandarditems_in_python():
    """Cells go through QStandardItemModel.setData: a QStandardItem made in Python has a PySide
    wrapper that the model's deletion of the item tears down a second time (a segfault seen
    after a few re-evaluations; docs/adr/0002)."""
    app = Path(__file__).resolve().parents[1] / "app" / "placeseg_review"
    offenders = []
    for path in sorted(app.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("QStandardItem", "setItem", "appendRow", "insertRow") and (
                        name == "QStandardItem" or any(isinstance(a, ast.Call) for a in node.args)):
                    offenders.append(f"{path.name}:{node.lineno}")
    assert not offenders, offenders
