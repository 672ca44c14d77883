"""The code's layout: features depend on each other in one direction, with no hidden imports.

Parses every module of ``assistant/`` with ``ast`` (nothing is imported), so a cycle cannot
be hidden by an import inside a function: such imports fail the test on their own.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "assistant"
FEATURES = sorted(
    p.name
    for p in ROOT.iterdir()
    if (p / "__init__.py").exists() and p.name not in {"management", "migrations"}
)
# Function-level imports of our own code that are allowed, with the reason. Keep it empty.
ALLOWED_LOCAL_IMPORTS: dict[str, str] = {}


def _modules():
    for path in sorted(ROOT.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported(node) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
        return [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return []


def _feature_of(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    return parts[0] if len(parts) > 1 and parts[0] in FEATURES else None


def _feature_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {feature: set() for feature in FEATURES}
    for path, tree in _modules():
        feature = _feature_of(path)
        if feature is None:
            continue
        for node in ast.walk(tree):
            for name in _imported(node):
                parts = name.split(".")
                if parts[0] == "assistant" and len(parts) > 1 and parts[1] in FEATURES:
                    if parts[1] != feature:
                        graph[feature].add(parts[1])
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
            if nxt not in state:
                found = visit(nxt, [*trail, nxt])
                if found:
                    return found
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start, [start])
            if found:
                return found
    return None


def test_every_feature_package_is_known():
    assert {"places", "ice_import", "content", "sms", "delivery", "alerts"} <= set(FEATURES)
    assert {"organizers", "public", "ops", "demo"} <= set(FEATURES)


def test_features_import_each_other_without_a_cycle():
    assert _cycle(_feature_graph()) is None, " -> ".join(_cycle(_feature_graph()) or [])


def test_the_cycle_check_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_of_our_code_hides_inside_a_function():
    hidden = []
    for path, tree in _modules():
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(func):
                names = _imported(node)
                if any(n == "assistant" or n.startswith("assistant.") for n in names):
                    where = f"{path.relative_to(ROOT.parent)}:{node.lineno}"
                    if str(path.relative_to(ROOT.parent)) not in ALLOWED_LOCAL_IMPORTS:
                        hidden.append(where)
    assert hidden == []


def test_features_import_models_from_their_feature_not_the_index():
    """assistant/models.py imports every feature, so a feature importing it hides a cycle."""
    offenders = []
    for path, tree in _modules():
        if _feature_of(path) is None:
            continue
        for node in ast.walk(tree):
            if "assistant.models" in _imported(node)[:1]:
                offenders.append(f"{path.relative_to(ROOT.parent)}:{node.lineno}")
    assert offenders == []


def test_selectors_never_import_services():
    offenders = []
    for path, tree in _modules():
        if path.name != "selectors.py":
            continue
        for node in ast.walk(tree):
            for name in _imported(node):
                if name.startswith("assistant.") and (
                    ".services" in name or name.endswith(".tasks") or ".sending" in name
                ):
                    offenders.append(f"{path.relative_to(ROOT.parent)}: {name}")
    assert offenders == []
