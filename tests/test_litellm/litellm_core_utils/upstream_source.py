"""The pristine upstream's source, read without importing it: where a name is defined, the hash of its source, every
place that reads an attribute. The drift tests (``test_upstream_surface.py``, ``test_chunk_log_readers.py``) read
it from ``.cache/upstream-site`` (``make upstream-ref``), or from ``LITELLM_PRISTINE_SITE`` when ``make bump-pin``
points them at a new upstream release."""

from __future__ import annotations

import ast
import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
PRISTINE_SITE_ENV = "LITELLM_PRISTINE_SITE"
IN_FORK_REPOSITORY = (REPO_ROOT / "upstream" / "pin.toml").is_file()
fork_only = pytest.mark.skipif(
    not IN_FORK_REPOSITORY,
    reason="checks the fork's modules against its pinned upstream (upstream/pin.toml), which this tree is not",
)


def pristine_site() -> Path:
    site = Path(os.environ.get(PRISTINE_SITE_ENV) or REPO_ROOT / ".cache" / "upstream-site")
    if not (site / "litellm" / "__init__.py").is_file():
        pytest.fail(f"pristine upstream not found in {site}: run `make upstream-ref` (make test and make test-unit do)")
    return site


def fork_files() -> frozenset[str]:
    """The fork's own modules (``litellm/...``): a site made for ``make bump-pin`` has them next to upstream's."""
    return frozenset(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "litellm").rglob("*.py"))


@cache
def parsed(relative: str) -> tuple[ast.Module, str]:
    """An upstream file (``litellm/...``), parsed."""
    source = (pristine_site() / relative).read_text(encoding="utf-8")
    return ast.parse(source), source


def module_file(module: str) -> str:
    relative = module.replace(".", "/")
    package_init = f"{relative}/__init__.py"
    return package_init if (pristine_site() / package_init).is_file() else f"{relative}.py"


def definition(module: str, qualname: str) -> ast.AST | None:
    """The ``def`` / ``class`` / assignment named ``qualname`` (``Class.method``) in ``module``, or None."""
    tree, _ = parsed(module_file(module))
    scope: list[ast.stmt] = tree.body
    found: ast.AST | None = None
    for part in qualname.split("."):
        found = next((node for node in scope if _defines(node, part)), None)
        if found is None:
            return None
        scope = found.body if isinstance(found, ast.ClassDef) else []
    return found


def _defines(node: ast.stmt, name: str) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return node.name == name
    if isinstance(node, ast.Assign):
        return any(isinstance(target, ast.Name) and target.id == name for target in node.targets)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.target.id == name
    return False


def source_sha256(module: str, qualname: str) -> str | None:
    """sha256 of the definition's source text (decorators included), or None when it is gone."""
    node = definition(module, qualname)
    if node is None:
        return None
    _, source = parsed(module_file(module))
    lines = source.splitlines(keepends=True)
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])  # type: ignore[attr-defined]
    text = "".join(lines[first - 1 : node.end_lineno])  # type: ignore[attr-defined]
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True, order=True)
class AttributeRead:
    """One line of upstream that touches attribute ``name`` (``x.name`` or ``getattr(x, "name", ...)``)."""

    file: str
    scope: str
    code: str


def attribute_reads(name: str) -> Counter[AttributeRead]:
    """Every line of the pristine upstream that touches attribute ``name``, counted (the fork's modules left out)."""
    site: Path = pristine_site()
    skip: frozenset[str] = fork_files()
    found: Counter[AttributeRead] = Counter()
    for path in sorted((site / "litellm").rglob("*.py")):
        relative = str(path.relative_to(site))
        if relative in skip:
            continue
        source = path.read_text(encoding="utf-8", errors="replace")
        if name not in source:
            continue
        lines = source.splitlines()
        for scope, lineno in _touches(ast.parse(source), name):
            found[AttributeRead(relative, scope, lines[lineno - 1].strip())] += 1
    return found


def _touches(tree: ast.Module, name: str) -> Iterator[tuple[str, int]]:
    """(enclosing qualname, line) of each line touching the attribute, once per line."""
    seen: set[int] = set()

    def visit(node: ast.AST, scope: tuple[str, ...]) -> Iterator[tuple[str, int]]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            scope = (*scope, node.name)
        if _touches_attribute(node, name) and node.lineno not in seen:  # type: ignore[attr-defined]
            seen.add(node.lineno)  # type: ignore[attr-defined]
            yield ".".join(scope) or "<module>", node.lineno  # type: ignore[attr-defined]
        for child in ast.iter_child_nodes(node):
            yield from visit(child, scope)

    yield from visit(tree, ())


def _touches_attribute(node: ast.AST, name: str) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == name
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in _ATTRIBUTE_FUNCTIONS:
        return len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == name
    return False


_ATTRIBUTE_FUNCTIONS = frozenset({"getattr", "hasattr", "setattr", "delattr"})
