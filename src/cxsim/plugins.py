"""Classes a scenario names with `_target_`, checked against the protocol they stand for before any is built.

A scenario file is data that planners share: opening one may only describe an operation.
So a `_target_` must name a *class* (not a function, method or builtin) outside Python's
standard library, whose methods include those of its protocol (a distribution samples, a
policy ranks, a satisfaction model scores); only then is it constructed, with plain keyword
arguments (no `_args_`, no nested `_target_`, no Hydra `_partial_`/`_convert_` switches).
Another extension point adds its protocol as one `Contract` and builds through `build`.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from cxsim.errors import ConfigError

_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


@dataclass(frozen=True)
class Contract:
    """What a `_target_` class must provide: `methods` on the class, `attributes` on the built object."""

    name: str  # e.g. "a distribution", as the error message says it
    methods: tuple[str, ...]
    attributes: tuple[str, ...] = ()

    def describe(self) -> str:
        """`a distribution (mean, sample(...))`: the protocol as the error names it."""
        members = [*self.attributes, *(f"{m}(...)" for m in self.methods)]
        return f"{self.name} ({', '.join(members)})"


def _refuse(key: str, target: str, why: str, contract: Contract) -> ConfigError:
    return ConfigError(key, f"_target_ '{target}' {why}; it must name a class implementing {contract.describe()}")


def _is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


def resolve_class(target: Any, contract: Contract, key: str) -> type:
    """The class `target` names, if it implements `contract`; nothing is called, standard-library
    names are refused before anything is imported, and a module is imported only to find the name."""
    if not isinstance(target, str) or not _DOTTED.fullmatch(target):
        raise _refuse(key, str(target), "is not a dotted name like my.module.MyClass", contract)
    parts = target.split(".")
    if any(p.startswith("__") for p in parts):
        raise _refuse(key, target, "reaches into Python internals", contract)
    if _is_stdlib(target):
        raise _refuse(key, target, "names Python's standard library", contract)
    obj: Any = None
    for i, part in enumerate(parts):
        if i and hasattr(obj, part):
            obj = getattr(obj, part)
            continue
        if i and not inspect.ismodule(obj):
            raise ConfigError(key, f"cannot find '{target}': '{part}' is not defined in {'.'.join(parts[:i])}")
        module = ".".join(parts[: i + 1])
        try:
            obj = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:  # the module exists but imports something missing
                raise ConfigError(key, f"cannot import {module}: {_first_line(exc)}") from None
            if i:
                where = ".".join(parts[:i])
                raise ConfigError(key, f"cannot find '{target}': '{part}' is not defined in {where}") from None
            raise ConfigError(
                key, f"cannot find '{target}': no module '{module}' (is it importable, e.g. on PYTHONPATH?)"
            ) from None
        except Exception as exc:  # the user's module failed while importing: one line
            raise ConfigError(key, f"cannot import {module}: {type(exc).__name__}: {_first_line(exc)}") from None
    if not inspect.isclass(obj):
        kind = "a module" if inspect.ismodule(obj) else "a function" if callable(obj) else "a value"
        raise _refuse(key, target, f"is {kind}, not a class", contract)
    if _is_stdlib(getattr(obj, "__module__", "") or "builtins"):
        raise _refuse(key, target, "names a class of Python's standard library", contract)
    missing = [m for m in contract.methods if not callable(inspect.getattr_static(obj, m, None))]
    if missing:
        raise _refuse(key, target, f"has no {missing[0]}(...) method", contract)
    return obj


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _plain(value: Any, key: str) -> Any:
    """A constructor argument as plain data; a nested `_target_` is refused, never built."""
    if isinstance(value, Mapping):
        if "_target_" in value:
            raise ConfigError(key, "a nested _target_ is not built; pass plain values")
        return {str(k): _plain(v, f"{key}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v, f"{key}[{i}]") for i, v in enumerate(value)]
    return value


def build(spec: Mapping[str, Any], contract: Contract, key: str, reserved: Collection[str] = ()) -> Any:
    """Construct the class `spec["_target_"]` names with the other keys as keyword arguments, after
    checking it against `contract`; keys in `reserved` are left out. Raises ConfigError naming `key`."""
    from omegaconf import DictConfig, OmegaConf

    data = OmegaConf.to_container(spec, resolve=True) if isinstance(spec, DictConfig) else dict(spec)
    assert isinstance(data, dict)
    target = data.pop("_target_")
    cls = resolve_class(target, contract, f"{key}._target_")
    kwargs = {str(k): v for k, v in data.items() if k not in reserved}
    special = sorted(k for k in kwargs if k.startswith("_") and k.endswith("_"))
    if special:
        raise ConfigError(f"{key}.{special[0]}", "is not allowed: a _target_ class takes plain keyword arguments only")
    kwargs = {k: _plain(v, f"{key}.{k}") for k, v in kwargs.items()}
    try:
        built = cls(**kwargs)
    except Exception as exc:  # the researcher's class refused its arguments: one line, not a traceback
        raise ConfigError(key, f"cannot build {target}: {type(exc).__name__}: {_first_line(exc)}") from None
    missing = [a for a in contract.attributes if not hasattr(built, a)]
    if missing:
        raise ConfigError(key, f"{target} does not implement {contract.describe()}: it has no '{missing[0]}'")
    return built
