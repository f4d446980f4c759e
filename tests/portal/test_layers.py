"""The direction of dependencies (DESIGN.md, "Apps and the direction of dependencies"), read from
the source: every ``import`` of every module, at any depth (inside functions, under
``TYPE_CHECKING``), with relative imports resolved, migrations left out.

Templates are not imports: the unit page loads the members app's ``unit_members`` tags on
purpose, and nothing here looks at templates.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What each package must never import: the layers above it, and the test and benchmark code.
OUTSIDE_THE_PORTAL = {"tests", "bench"}
FORBIDDEN = {
    "common": {"unions", "members", "welfare", "seed", "portal"} | OUTSIDE_THE_PORTAL,
    "unions": {"members", "welfare", "seed", "portal"} | OUTSIDE_THE_PORTAL,
    "members": {"welfare", "seed", "portal"} | OUTSIDE_THE_PORTAL,
    "welfare": {"seed", "portal"} | OUTSIDE_THE_PORTAL,
    "seed": OUTSIDE_THE_PORTAL,
    "portal": OUTSIDE_THE_PORTAL,
    "bench": {"tests"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import statement in the file."""
    name = module_name(path)
    # The package a relative import starts from: the module's own for an __init__.py.
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            found.append((node.lineno, target))
    return sorted(found)


def python_files(package: str):
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" not in path.relative_to(ROOT).parts:
            yield path


def upward_imports(package: str, forbidden: set[str]) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in python_files(package)
        for line, target in imported_modules(path)
        if target.split(".")[0] in forbidden
    ]


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_package_imports_a_layer_above_it(package):
    offending = upward_imports(package, FORBIDDEN[package])
    assert not offending, f"{package} may not import {sorted(FORBIDDEN[package])}:\n" + "\n".join(
        offending
    )


def test_every_app_is_checked():
    """A new app gets a line in FORBIDDEN, so the check cannot quietly miss it."""
    packages = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert packages, "no app found: is ROOT the project's root?"
    assert packages <= FORBIDDEN.keys(), sorted(packages - FORBIDDEN.keys())


def test_relative_imports_are_resolved_to_the_package_they_name(tmp_path, monkeypatch):
    """The reader itself: relative imports resolve to the package they name, and an upward
    import inside a function is found."""
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    tags = tmp_path / "unions" / "templatetags"
    tags.mkdir(parents=True)
    (tmp_path / "unions" / "__init__.py").write_text("from . import models\n")
    (tags / "__init__.py").write_text("")
    (tags / "sneaky.py").write_text(
        "from ..models import Unit\n"
        "def members_of(unit):\n"
        "    from members.models import Member\n"
        "    import welfare.models as wm\n"
        "    return Member, wm\n"
    )
    migrations = tmp_path / "unions" / "migrations"
    migrations.mkdir()
    (migrations / "0002_x.py").write_text("import welfare\n")

    assert imported_modules(tags / "sneaky.py") == [
        (1, "unions.models"),
        (3, "members.models"),
        (4, "welfare.models"),
    ]
    assert imported_modules(tmp_path / "unions" / "__init__.py") == [(1, "unions")]
    assert upward_imports("unions", FORBIDDEN["unions"]) == [
        "unions/templatetags/sneaky.py:3 imports members.models",
        "unions/templatetags/sneaky.py:4 imports welfare.models",
    ]
