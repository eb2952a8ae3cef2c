"""The layout rules of docs/ARCHITECTURE.md, read from the source: no import cycles, each side imports
only what lies upstream of it, and no class grows past the size where it does two jobs."""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONNECTOR = os.path.join(ROOT, "connector")
LEAVES = ("connector.errors", "connector.logs", "connector.times", "connector.wellknown", "connector.checkpoint")
FORBIDDEN = {  # a module under the key may not import a module under any of the values
    "connector.graph": ("connector.assess", "connector.splunk", "connector.respond", "connector.scan",
                        "connector.scanning"),
    "connector.assess": ("connector.graph", "connector.splunk", "connector.respond", "connector.scan",
                         "connector.scanning"),
}
MAX_CLASS_LINES = 150


def _module_name(path):
    relative = os.path.relpath(path, ROOT)[:-3].replace(os.sep, ".")
    return relative[:-len(".__init__")] if relative.endswith(".__init__") else relative


def _sources():
    for folder, _dirs, files in os.walk(CONNECTOR):
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                with open(path, encoding="utf-8") as handle:
                    yield _module_name(path), ast.parse(handle.read(), path)


MODULES = dict(_sources())


def _imports(tree):
    """Every connector module a module imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("connector"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("connector"):
            for alias in node.names:
                child = f"{node.module}.{alias.name}"
                found.add(child if child in MODULES else node.module)
    return found


GRAPH = {name: {imported for imported in _imports(tree) if imported in MODULES} for name, tree in MODULES.items()}


def _inside(module, package):
    return module == package or module.startswith(package + ".")


def test_every_connector_module_was_found():
    # a rule checked against nothing passes: make sure the walk saw the packages it is about
    assert {"connector.graph.client", "connector.assess.score", "connector.splunk.cim",
            "connector.respond.actions", "connector.scan"} <= set(MODULES)


def test_no_import_cycles():
    cycles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for imported in sorted(GRAPH[module]):
            if imported == module or _inside(module, imported):
                continue  # a package's own __init__ is not a dependency edge
            if state.get(imported) == "open":
                cycles.append(path[path.index(imported):] + [imported] if imported in path else [module, imported])
            elif imported not in state:
                visit(imported, path + [imported])
        state[module] = "done"

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in cycles)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_each_side_imports_only_upstream(package):
    wrong = sorted(f"{module} imports {imported}" for module, imports in GRAPH.items() if _inside(module, package)
                   for imported in imports if any(_inside(imported, banned) for banned in FORBIDDEN[package]))
    assert not wrong, wrong


def test_shared_leaves_import_only_leaves():
    wrong = sorted(f"{leaf} imports {imported}" for leaf in LEAVES for imported in GRAPH[leaf]
                   if imported not in LEAVES and imported != "connector")
    assert not wrong, wrong


def _classes_too_long(package="connector"):
    return sorted(f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
                  for module, tree in MODULES.items() if _inside(module, package) for node in ast.walk(tree)
                  if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES)


def test_no_class_does_two_jobs():
    too_long = _classes_too_long()
    assert not too_long, too_long


def test_no_class_under_graph_does_two_jobs():
    # graph/ is split already (GraphClient -> transport, batch, client; Harvester -> harvest, details)
    assert {"connector.graph.transport", "connector.graph.details"} <= set(MODULES)
    too_long = _classes_too_long("connector.graph")
    assert not too_long, too_long
