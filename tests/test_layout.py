"""The house rules of the code base, checked on every run: no import cycles (counting imports inside
functions), the core never imports the apps, and no module grows past about 300 lines without a
comment that says why.

Imports are read with `ast` from the source, so nothing here imports the project to judge it.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from courseproject.urls import urlpatterns

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRECTORIES = {".venv", ".git", ".run", "node_modules", "staticfiles", "dynamodb-local", "__pycache__"}
APPS = {"accounts", "semesters", "courses", "enrollments", "audit", "demo"}
OUTSIDE_THE_CORE = APPS | {"benchmarks", "devstack", "locustfiles", "tests"}
MAX_MODULE_LINES = 300
# A module may be longer when its first lines say why, in a comment starting like this.
LONG_MODULE_REASON = re.compile(r"^# Longer than 300 lines: \S", re.MULTILINE)


def python_files() -> Iterator[Path]:
    for path in sorted(ROOT.rglob("*.py")):
        if not SKIPPED_DIRECTORIES & set(path.relative_to(ROOT).parts):
            yield path


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    return {module_name(path): path for path in python_files()}


def _resolve(name: str) -> str | None:
    """The project module `name` refers to (itself, or its nearest enclosing package), or None."""
    modules = project_modules()
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> set[str]:
    """Every project module `module` imports, wherever the import statement is, with the packages
    that importing them runs (their __init__)."""
    path = project_modules()[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            # `from package import module` imports the module; `from module import name` the module.
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            resolved = _resolve(name)
            while resolved:
                imported.add(resolved)
                resolved = _resolve(resolved.rpartition(".")[0])
    imported.discard(module)
    return imported


def import_graph() -> dict[str, set[str]]:
    return {module: imports_of(module) for module in project_modules()}


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm: the groups of nodes that reach each other (cycles), largest first."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = lowlink[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                lowlink[node] = min(lowlink[node], lowlink[successor])
            elif successor in on_stack:
                lowlink[node] = min(lowlink[node], index[successor])
        if lowlink[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(groups, key=len, reverse=True)


def component(module: str) -> str:
    """Where a module belongs: a sub-package of courseproject, a top-level module of it, or an app."""
    parts = module.split(".")
    if parts[0] == "courseproject" and len(parts) > 1:
        return ".".join(parts[:2])
    return parts[0]


def component_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, imported in import_graph().items():
        source = component(module)
        targets = {component(target) for target in imported} - {source}
        graph.setdefault(source, set()).update(targets)
    return graph


def test_the_checker_sees_imports_inside_functions_and_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert "courseproject.api.converters" in imports_of("courseproject.adminsite.urls")
    # courseproject/background/apps.py imports its dispatch module inside ready().
    assert "courseproject.background.dispatch" in imports_of("courseproject.background.apps")


def test_no_module_imports_itself_back_through_others():
    assert strongly_connected(import_graph()) == []


def test_no_two_packages_import_each_other():
    assert strongly_connected(component_graph()) == []


def test_the_core_never_imports_the_apps():
    offending = {
        module: sorted(target for target in imported if target.split(".")[0] in OUTSIDE_THE_CORE)
        for module, imported in import_graph().items()
        if module.split(".")[0] == "courseproject"
    }
    assert {module: targets for module, targets in offending.items() if targets} == {}


def test_no_module_is_over_300_lines_without_saying_why():
    too_long = {
        str(path.relative_to(ROOT)): length
        for path in python_files()
        if (length := len(path.read_text().splitlines())) > MAX_MODULE_LINES
        and not LONG_MODULE_REASON.search("\n".join(path.read_text().splitlines()[:40]))
    }
    assert too_long == {}


def test_every_api_path_resolves_under_one_include():
    # Django lists every pattern an include tried before the next one is asked, and every pattern
    # tried before the match (courseproject/urls.py): on the hottest reads that cost a tenth of
    # their CPU. So one include, the course list's path first.
    api_prefixes = [str(pattern.pattern) for pattern in urlpatterns if str(pattern.pattern).startswith("api")]
    assert api_prefixes == ["api/"]
    assert str(urlpatterns[0].url_patterns[0].pattern) == "courses"
