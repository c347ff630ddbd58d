"""The layers import downwards only: no cycle among bot/, handlers/ and knowledge/, and the
diagnosis core never reaches up to the bot, its listeners or Slack.

Read from the source (ast), not by importing it. Every import counts: at module level,
under `if TYPE_CHECKING:` (a type checker follows it), and inside a function, because an
import moved into a function hides a cycle without removing it (`knowledge.api` and
`knowledge.engine` once did that; so did `bot.slack_app` and the listeners' `Services`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO_ROOT

PACKAGES = ("bot", "handlers", "knowledge")
# What the diagnosis core may never import, at any level.
ABOVE_THE_CORE = ("bot", "handlers", "slack_bolt", "slack_sdk", "slack")


def _module_files() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in sorted((REPO_ROOT / package).rglob("*.py")):
            parts = path.relative_to(REPO_ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _imports(tree: ast.Module, module: str, is_package: bool):
    """(the modules an import may name, most specific first; its line), for each import."""
    package = module if is_package else module.rpartition(".")[0]

    def visit(node: ast.AST):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield (alias.name,), child.lineno
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                for alias in child.names:
                    # `from a import b`: the module a.b where one exists, else a name in a.
                    yield (f"{base}.{alias.name}", base), child.lineno
            else:
                yield from visit(child)

    yield from visit(tree)


def _graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, int]]]]:
    """(edges between our modules, every import of each module by its fullest name)."""
    files = _module_files()
    edges: dict[str, set[str]] = {}
    every: dict[str, list[tuple[str, int]]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found_imports = list(_imports(tree, module, path.name == "__init__.py"))
        every[module] = [(names[0], line) for names, line in found_imports]
        targets = set()
        for names, _line in found_imports:
            found = next((name for name in names if name in files), None)
            if found is not None and found != module:
                targets.add(found)
        edges[module] = targets
    return edges, every


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each strongly connected group of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return sorted(groups)


def test_the_graph_sees_the_imports_it_should():
    """The walk itself: relative, TYPE_CHECKING and package-level imports all show up."""
    edges, every = _graph()
    assert "knowledge.models" in edges["knowledge.api"]
    assert "knowledge.api" in edges["bot.cli"]  # from knowledge import api
    assert "bot.services" in edges["handlers.uploads"]  # under TYPE_CHECKING
    assert "handlers.uploads" in edges["bot.slack_app"]  # inside build_app
    assert any(name == "slack_bolt.App" for name, _line in every["bot.slack_app"])
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_among_bot_handlers_and_knowledge():
    edges, _ = _graph()
    assert _cycles(edges) == []


def test_the_core_never_imports_the_bot_its_listeners_or_slack():
    _, every = _graph()
    upward = [
        f"{module} line {line}: {name}"
        for module, names in every.items()
        if module.split(".")[0] == "knowledge"
        for name, line in names
        if name.split(".")[0] in ABOVE_THE_CORE
    ]
    assert upward == []


# What bot/ and handlers/ may import from the core: its public API and the models it answers
# with (and the one error type it raises).
PUBLIC_CORE = ("knowledge.api", "knowledge.models", "knowledge.errors")
# The fast path's one door: the reading step (issue 11).
FAST_PATH, READING = "knowledge.fastpath", "knowledge.reading"
# A module of knowledge/ should fit in one reading; past this, split it by job.
MAX_CORE_MODULE_LINES = 550


def _names_module(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_the_bot_and_its_listeners_reach_the_core_only_through_its_public_api():
    _, every = _graph()
    private = [
        f"{module} line {line}: {name}"
        for module, names in every.items()
        if module.split(".")[0] in ("bot", "handlers")
        for name, line in names
        if name.split(".")[0] == "knowledge"
        and name != "knowledge.api"  # from knowledge import api
        and not any(_names_module(name, public) for public in PUBLIC_CORE)
    ]
    assert private == []


def test_the_fast_path_is_imported_by_the_reading_step_only():
    _, every = _graph()
    outside = [
        f"{module} line {line}: {name}"
        for module, names in every.items()
        if not _names_module(module, FAST_PATH) and not _names_module(module, READING)
        for name, line in names
        if _names_module(name, FAST_PATH)
    ]
    assert outside == []
    # and the reading step does use it (the test would pass on a renamed package too)
    assert any(
        _names_module(name, FAST_PATH)
        for module, names in every.items()
        if _names_module(module, READING)
        for name, _line in names
    )


def test_no_module_of_the_core_is_too_long_to_read():
    long = {
        str(path.relative_to(REPO_ROOT)): lines
        for path in sorted((REPO_ROOT / "knowledge").rglob("*.py"))
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_CORE_MODULE_LINES
    }
    assert long == {}
