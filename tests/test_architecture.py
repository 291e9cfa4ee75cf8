"""The dependency rules of STYLE.md: matching/ and sms/ know nothing of the app."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    """import-linter checks every contract in pyproject.toml (matching and sms import
    neither the app, Flask nor SQLAlchemy; services and models never import Flask)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


@pytest.mark.parametrize("package", ["matching", "sms"])
def test_pure_packages_load_without_the_app(package: str) -> None:
    code = (
        f"import sys, {package}, pkgutil, importlib\n"
        f"for m in pkgutil.walk_packages({package}.__path__, '{package}.'):\n"
        "    if not m.name.endswith('__main__'): importlib.import_module(m.name)\n"
        "app = ('flask', 'sqlalchemy', 'flask_sqlalchemy', 'mutualaid', 'werkzeug')\n"
        "bad = sorted(n for n in app if n in sys.modules)\n"
        "print(','.join(bad))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
