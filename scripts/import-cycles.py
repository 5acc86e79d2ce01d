#!/usr/bin/env python3
"""Finds import circles between the top-level modules of each crate.

Sibling modules `a` and `b` (children of the same parent module) depend on each other when a file
of `a` or of its submodules names an item under `b` (`crate::…::b::…` or `super::b::…`, also in
`use` groups). A circle is a strongly connected group of two or more siblings. Prints each circle
and exits non-zero if there is any.

    python3 scripts/import-cycles.py [CRATE_SRC_DIR ...]   # default: every crate of the workspace
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
PATH = re.compile(r"\b(crate|super)((?:::[a-z_][a-z0-9_]*)+)")
GROUP = re.compile(r"\buse\s+(crate|super)((?:::[a-z_][a-z0-9_]*)*)::\{([^;]*)\};", re.S)


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def module_path(src: pathlib.Path, file: pathlib.Path) -> tuple[str, ...]:
    parts = list(file.relative_to(src).with_suffix("").parts)
    if parts in (["lib"], ["main"]):
        return ()
    return tuple(parts)


def absolute(here: tuple[str, ...], root: str, rest: list[str]) -> tuple[str, ...]:
    base = here[:-1] if root == "super" else ()
    return base + tuple(rest)


def edges(src: pathlib.Path) -> dict[tuple[str, ...], dict[str, set[str]]]:
    """For each parent module, the dependencies between its child modules."""
    files = {module_path(src, f): f for f in src.rglob("*.rs")}
    modules = set(files)
    graphs: dict[tuple[str, ...], dict[str, set[str]]] = {}
    for here, file in files.items():
        text = strip_comments(file.read_text(encoding="utf-8"))
        targets = [absolute(here, root, tail.split("::")[1:]) for root, tail in PATH.findall(text)]
        for root, tail, group in GROUP.findall(text):
            prefix = tail.split("::")[1:] if tail else []
            for item in group.split(","):
                head = [p for p in item.strip().split("::") if p and p != "self"]
                targets.append(absolute(here, root, prefix + head[:1]))
        for target in targets:
            common = 0
            while common < min(len(here), len(target)) and here[common] == target[common]:
                common += 1
            if common >= len(here) or common >= len(target):
                continue  # an ancestor or a descendant, not a sibling
            parent = here[:common]
            a, b = here[common], target[common]
            if parent + (b,) not in modules:
                continue  # an item of the parent, not a module
            graph = graphs.setdefault(parent, {})
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())
    return graphs


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of size two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def crate_sources() -> list[pathlib.Path]:
    dirs = [p.parent / "src" for p in ROOT.glob("**/Cargo.toml")
            if "target" not in p.parts and (p.parent / "src").is_dir()]
    return sorted(dirs)


def main() -> int:
    sources = [pathlib.Path(a).resolve() for a in sys.argv[1:]] or crate_sources()
    total = 0
    for src in sources:
        shown = src.relative_to(ROOT) if src.is_relative_to(ROOT) else src
        for parent, graph in sorted(edges(src).items()):
            for group in circles(graph):
                total += 1
                prefix = "::".join(parent + ("",))
                print(f"{shown}: {' ↔ '.join(prefix + m for m in group)}")
    print(f"{total} import circle(s) in {len(sources)} crate(s)")
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
