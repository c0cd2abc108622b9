"""Importing every module of analysis, core, io and cli loads no Qt (and no pyqtgraph)."""

import json
import os
import subprocess
import sys

PACKAGES = ("measurer.analysis", "measurer.core", "measurer.io", "measurer.cli")
QT_PREFIXES = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "pyqtgraph")

# Runs in a fresh interpreter: imports the extra modules given as arguments (not walked), then
# every module of the packages, builds the CLI parser (which registers every subcommand), and
# prints JSON with the modules it imported, the Qt modules loaded and the import errors.
CHECK = """
import importlib, json, pkgutil, sys
imported, errors = [], {}
for name in sys.argv[1:]:
    importlib.import_module(name)
for name in PACKAGES:
    try:
        package = importlib.import_module(name)
    except Exception as exc:
        errors[name] = repr(exc)
        continue
    imported.append(name)
    for info in pkgutil.walk_packages(package.__path__, name + "."):
        try:
            importlib.import_module(info.name)
            imported.append(info.name)
        except Exception as exc:
            errors[info.name] = repr(exc)
from measurer.cli.main import build_parser
build_parser()
qt = sorted(m for m in sys.modules if m.split(".")[0] in QT_PREFIXES)
print(json.dumps({"imported": imported, "qt": qt, "errors": errors}))
"""


def run_check(*extra: str) -> dict:
    script = f"PACKAGES = {PACKAGES!r}\nQT_PREFIXES = {QT_PREFIXES!r}\n{CHECK}"
    result = subprocess.run(
        [sys.executable, "-c", script, *extra],
        capture_output=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_no_qt_below_the_gui():
    report = run_check()
    assert report["errors"] == {}
    imported = set(report["imported"])
    assert {"measurer.core.document", "measurer.io.session", "measurer.cli.main"} <= imported
    assert report["qt"] == [], f"Qt loaded by the layers under the GUI: {report['qt'][:5]}"


def test_the_check_sees_qt_when_it_is_loaded():
    report = run_check("PySide6.QtCore")
    assert "PySide6.QtCore" in report["qt"]
