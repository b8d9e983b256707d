"""The layers point one way, as the README's Layout section draws them. These tests read the
imports of every project module (at any depth of the code, not only the top of a file):

- no import circle between modules;
- no module imports a higher layer, and below the transports no app imports an app above it
  (users < contacts < chat);
- no project import is hidden inside a function or class (the way circles are dodged);
- only services (and the delivery layer itself) reach the emitter.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("kernel", "delivery", "users", "changelog", "contacts", "chat", "reports", "assist", "biosync")
APP_ORDER = {"users": 0, "changelog": 1, "contacts": 2, "chat": 3, "reports": 4, "assist": 5}

KERNEL, DELIVERY, MODELS, SERVICES, TRANSPORTS, ROOTS = range(6)
LAYER_NAMES = ["kernel", "delivery", "models", "services/selectors", "transports", "roots"]


def layer_of(module: str) -> int:
    parts = module.split(".")
    top = parts[0]
    if top == "kernel":
        return KERNEL
    if top == "delivery":
        return DELIVERY
    if top == "biosync":
        return KERNEL if module in {"biosync.settings", "biosync.env"} else ROOTS
    second = parts[1] if len(parts) > 1 else ""
    if second == "apps":
        return ROOTS  # an app's configuration wires its checks in at start-up
    if second in {"models", "migrations"}:
        return MODELS
    if second in {"api", "admin", "management", "realtime", "webhooks", "authentication", "checks"}:
        return TRANSPORTS
    return SERVICES  # services, selectors, identity, reports, demo, recent sends...


def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


MODULES = project_modules()


def resolve(name: str) -> str | None:
    """The project module an imported name lives in (a package's name stands for its __init__)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(module: str) -> list[tuple[str, int, bool]]:
    """(imported project module, line, at the top level of the file)."""
    tree = ast.parse(MODULES[module].read_text())
    top_level = {id(node) for node in tree.body}
    # AppConfig.ready() is where Django has an app register its checks and signals: an import
    # there is the documented start-up hook, not a circle dodged.
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "ready" and module.endswith(".apps"):
            top_level |= {id(child) for child in ast.walk(node)}
    found = []
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        for name in names:
            target = resolve(name)
            if target is not None and target != module:
                found.append((target, node.lineno, id(node) in top_level))
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def test_the_graph_is_read():
    # The rules below could pass on an empty graph: prove the reader sees known imports first.
    assert any(t == "kernel.errors" for t, _, _ in GRAPH["chat.services.messages"])
    assert len(MODULES) > 40


def test_no_import_circle():
    edges = {m: {t for t, _, _ in imports} for m, imports in GRAPH.items()}
    # A package's __init__ re-exporting its own modules is not a circle with them.
    for module in edges:
        edges[module] = {
            t for t in edges[module] if not (module.startswith(t + ".") and MODULES[t].name == "__init__.py")
        }
    circles, state = [], {}

    def visit(module, path):
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                circles.append(path[path.index(target) :] + [target] if target in path else [module, target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert circles == []


def test_no_upward_import():
    upward = []
    for module, imports in GRAPH.items():
        for target, line, _ in imports:
            here, there = layer_of(module), layer_of(target)
            if there > here:
                upward.append(f"{module}:{line} ({LAYER_NAMES[here]}) imports {target} ({LAYER_NAMES[there]})")
            elif here in (MODELS, SERVICES):
                # Below the transports an app uses only the apps beneath it, at any layer.
                app, other = module.split(".")[0], target.split(".")[0]
                if APP_ORDER.get(other, -1) > APP_ORDER.get(app, -1):
                    upward.append(f"{module}:{line} ({app}) imports {target} ({other}, a higher app)")
    assert upward == []


def test_no_project_import_is_hidden_in_a_function():
    hidden = [
        f"{module}:{line} imports {target}"
        for module, imports in GRAPH.items()
        for target, line, top in imports
        if not top
    ]
    assert hidden == []


@pytest.mark.parametrize("emitting", ["delivery.emitter"])
def test_only_services_and_the_delivery_layer_reach_the_emitter(emitting):
    reaching = sorted(
        module
        for module, imports in GRAPH.items()
        if any(target == emitting for target, _, _ in imports)
        and layer_of(module) not in (SERVICES, DELIVERY)
        and module != "chat.realtime.server"  # mounts the process's server into the emitter
    )
    assert reaching == []


EMITTER_API = {"send_event_on_commit", "disconnect_user_on_commit", "emit_async", "flushed", "LocalEmit"}
# The Socket.IO server mounts itself into the emitter and shares its pub/sub channel.
SERVER_WIRING = {"attach_server", "pubsub_channel"}


def test_services_emit_only_after_commit_through_the_one_helper():
    """Every use of the emitter outside the delivery layer is one of its on-commit helpers (or,
    for typing indicators, which write nothing, the async emit); no service emits by hand."""
    used = {}
    for module in MODULES:
        if module.startswith("delivery."):
            continue
        tree = ast.parse(MODULES[module].read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "emitter":
                used.setdefault(node.attr, set()).add(f"{module}:{node.lineno}")
    assert "send_event_on_commit" in used  # the scan sees the services' calls
    stray = {name: places for name, places in used.items() if name not in EMITTER_API}
    assert {
        name: places
        for name, places in stray.items()
        if places != {p for p in places if p.startswith("chat.realtime.server:")} or name not in SERVER_WIRING
    } == {}


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m not in {"biosync.asgi", "biosync.serve"}))
def test_every_module_imports(module):
    # The rules above read names; this proves each import names something that exists.
    importlib.import_module(module)
