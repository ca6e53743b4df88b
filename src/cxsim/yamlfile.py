"""Reading a scenario's YAML safely: bounded size, no alias bombs, one-line errors naming the file.

YAML aliases let a few hundred bytes expand into billions of nodes ("billion laughs"); the
document is composed first, its size with every alias expanded is counted, and a document
above `MAX_NODES` is refused before anything is built from it. Tags are those of OmegaConf's
safe loader (plain data only), so the result means what Hydra would make of the same file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from cxsim.errors import ConfigError

MAX_BYTES = 4_000_000  # a scenario is a few kilobytes; this leaves room for long inline lists
MAX_NODES = 200_000  # YAML nodes after expanding aliases


def _expanded_size(root: yaml.Node) -> int:
    """Nodes in the document with every alias expanded, counted without expanding (memoised by node)."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in open_nodes:  # an alias inside its own anchor: endless
            return MAX_NODES + 1
        children: list[yaml.Node] = []
        if isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if done:
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), MAX_NODES + 1)
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def load_yaml_text(text: str, key: str, where: str) -> Any:
    """Parse one YAML document of plain data; raises ConfigError(key) naming `where` on any problem."""
    from omegaconf._utils import get_yaml_loader

    if len(text) > MAX_BYTES:
        raise ConfigError(key, f"'{where}' is larger than {MAX_BYTES:,} bytes; a scenario is a few kilobytes")
    loader = get_yaml_loader()(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if _expanded_size(node) > MAX_NODES:
            rule = f"'{where}' expands to more than {MAX_NODES:,} YAML nodes (aliases nested too deep?)"
            raise ConfigError(key, rule)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(key, f"'{where}' is not valid YAML: {first}") from None
    except RecursionError:
        raise ConfigError(key, f"'{where}' nests too deeply to be a scenario") from None
    finally:
        loader.dispose()


def load_yaml(path: Path, key: str) -> Any:
    """Read and parse a YAML file (see `load_yaml_text`); an unreadable or non-UTF-8 file is a ConfigError."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise ConfigError(key, f"'{path}' is larger than {MAX_BYTES:,} bytes; a scenario is a few kilobytes")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError(key, f"'{path}' is not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(key, f"cannot read '{path}': {exc.strerror or exc}") from None
    return load_yaml_text(text, key, str(path))
