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
    for path in sorted(app.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in ("QStandardItem", "setItem", "appendRow", "insertRow") and (
                        name == "QStandardItem" or any(isinstance(a, ast.Call) for a in node.args)):
                    offenders.append(f"{path.relative_to(app)}:{node.lineno}")
    assert not offenders, offenders


APP = Path(__file__).resolve().parents[1] / "app" / "placeseg_review"


def _imported_modules(path: Path) -> list[str]:
    """Absolute names of the modules a file imports (relative imports resolved), any depth."""
    package = "placeseg_review." + ".".join(path.relative_to(APP).parent.parts) if path.parent != APP else "placeseg_review"
    names = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package.rstrip(".").split(".")
            if node.level:
                base = base[: len(base) - node.level + 1]
                names.append(".".join(base + ([node.module] if node.module else [])))
            elif node.module:
                names.append(node.module)
    return names


def test_services_never_import_widgets():
    """Services hold state and run jobs; QtWidgets belongs to the widgets, panels and window
    (the import-linter contract covers pyqtgraph and our own upper layers, but cannot name a
    subpackage of PySide6)."""
    offenders = [f"{p.relative_to(APP)}: {m}" for p in sorted((APP / "services").rglob("*.py"))
                 for m in _imported_modules(p) if m.startswith("PySide6.QtWidgets")]
    assert offenders == []


def test_no_import_cycles_type_only_imports_included():
    import grimp

    graph = grimp.build_graph("placeseg_core", "placeseg_review")
    ours = {m for m in graph.modules if m.split(".")[0] in ("placeseg_core", "placeseg_review")}
    cycles = []
    for module in sorted(ours):
        for other in graph.find_modules_directly_imported_by(module) & ours:
            if other != module and graph.chain_exists(importer=other, imported=module):
                cycles.append(f"{module} <-> {other}")
    assert cycles == []


def test_no_source_file_over_400_lines():
    roots = [CORE, APP]
    long = [f"{p}: {n}" for root in roots for p in sorted(root.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > 400]
    assert long == []


def test_the_application_top_folder_holds_only_its_entry_points():
    top = sorted(p.name for p in APP.glob("*.py"))
    assert top == ["__init__.py", "__main__.py", "main.py"] or top == ["__init__.py", "main.py"], top
