"""The house's rules (STYLE.md): the layers and contracts in pyproject.toml, matching/ and
sms/ knowing nothing of the app, and one place that commits."""

from __future__ import annotations

import ast
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


def _calls(path: Path, names: set[str]) -> list[str]:
    """``file:line name`` for each call of a method named in ``names`` in ``path``."""
    tree = ast.parse(path.read_text())
    return [
        f"{path.relative_to(ROOT)}:{node.lineno} {node.func.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in names
    ]


def test_only_the_unit_of_work_commits() -> None:
    """Services flush, boundaries commit — through mutualaid.unit_of_work, never by hand:
    no view, command, job or service calls commit() or rollback(). The one rollback left
    is a matching run ending its read-only snapshot before the solve."""
    found = [
        call
        for path in sorted((ROOT / "mutualaid").rglob("*.py"))
        if "migrations" not in path.parts and path.name != "unit_of_work.py"
        for call in _calls(path, {"commit", "rollback"})
    ]
    assert [c.split(":")[0] + " " + c.split()[-1] for c in found] == [
        "mutualaid/services/matching_runs.py rollback"
    ], found


def test_the_unit_of_work_is_what_commits() -> None:
    calls = _calls(ROOT / "mutualaid" / "unit_of_work.py", {"commit", "rollback"})
    assert len(calls) >= 2  # the checker above would pass on a file it cannot read


def _service_modules_imported_by(tests: Path) -> set[str]:
    used: set[str] = set()
    for path in tests.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("mutualaid.services."):
                    used.add(node.module.split(".")[2])
                elif node.module == "mutualaid.services":
                    used.update(alias.name for alias in node.names)
    return used


def test_every_service_module_is_tested_directly() -> None:
    """Each module of mutualaid/services is imported by a test of its own behaviour, not
    only reached through a page or the worker."""
    modules = {
        p.stem for p in (ROOT / "mutualaid" / "services").glob("*.py") if p.stem != "__init__"
    }
    assert len(modules) > 20
    assert sorted(modules - _service_modules_imported_by(ROOT / "tests")) == []
