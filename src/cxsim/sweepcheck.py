"""Every job of a sweep validated before the first one runs, in seconds for thousands of jobs.

Composing and checking a full OmegaConf config costs tenths of a second, so for the jobs that
share a composed config the work is split: each distinct swept value (`tiers.tier1.staff=12`)
is applied once to the typed config (the schema checks its type) and its effect kept as plain
data; each job then sets its values into the config's plain form and is compiled from it,
which runs every rule of the scenario on the job's own combination. Jobs this cannot
represent exactly (interpolations, overlapping keys, a planner block) take the full path.
"""

from __future__ import annotations

import copy
from typing import Any

from omegaconf import DictConfig, OmegaConf

_ABSENT = object()


def _has_interpolation(node: Any) -> bool:
    if isinstance(node, str):
        return "${" in node
    if isinstance(node, dict):
        return any(_has_interpolation(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_interpolation(v) for v in node)
    return False


def _with(data: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    """A copy of `data` with `path` set to `value`, copying only the mappings on the path."""
    out = dict(data)
    head, *rest = path
    if rest:
        inner = data.get(head)
        if not isinstance(inner, dict):
            raise KeyError(head)
        out[head] = _with(inner, rest, value)
    else:
        out[head] = value
    return out


class JobChecker:
    """Checks jobs that share one composed config (`cfg`, already checked against the schema)."""

    def __init__(self, cfg: DictConfig) -> None:
        self.work = copy.deepcopy(cfg)
        plain = OmegaConf.to_container(cfg, resolve=False)
        assert isinstance(plain, dict)
        plain.pop("hydra", None)
        from cxsim.schema import planned

        special = planned(cfg) or any(cfg.get(k) is not None for k in ("objective", "calibrate", "schedule"))
        self.usable = not special and not _has_interpolation(plain)
        self.data = plain
        self.effects: dict[str, tuple[str, Any]] = {}
        self.parser: Any = None  # Hydra's override parser, built on first use (it costs a millisecond)

    def effect(self, override: str) -> tuple[str, Any]:
        """(key, value the key takes) when `override` is applied to the config; raises on a bad value."""
        from cxsim.scenario import apply_overrides

        if override not in self.effects:
            quick = self._scalar_effect(override)
            if quick is not None:
                self.effects[override] = quick
                return quick
            key = override.split("=", 1)[0].lstrip("+~")
            before = OmegaConf.select(self.work, key, default=_ABSENT)
            saved = OmegaConf.to_container(before, resolve=False) if OmegaConf.is_config(before) else before
            apply_overrides(self.work, [override])
            after = OmegaConf.select(self.work, key, default=None)
            value = OmegaConf.to_container(after, resolve=True) if OmegaConf.is_config(after) else after
            if saved is _ABSENT:  # the override added the key: take it out again
                parent, _, leaf = key.rpartition(".")
                (OmegaConf.select(self.work, parent) if parent else self.work).pop(leaf)
            else:
                OmegaConf.update(self.work, key, saved, merge=False)
            self.effects[override] = (key, value)
        return self.effects[override]

    def _scalar_effect(self, override: str) -> tuple[str, Any] | None:
        """The effect of `key=scalar` on an existing key, converted by the key's schema type without
        touching the config (most swept values); None when only applying it can tell."""
        from hydra.core.override_parser.overrides_parser import OverridesParser
        from omegaconf import AnyNode, DictConfig, ListConfig, ValueNode
        from omegaconf.errors import OmegaConfBaseException

        from cxsim.errors import ConfigError
        from cxsim.schema import type_error

        if self.parser is None:
            self.parser = OverridesParser.create()
        [parsed] = self.parser.parse_overrides([override])
        value = parsed.value()
        if parsed.is_add() or parsed.is_delete() or parsed.is_force_add():
            return None
        if not isinstance(value, (int, float, str, bool)) or isinstance(value, type(None)):
            return None
        key = parsed.key_or_group
        node: Any = self.work
        for part in key.split("."):
            if not isinstance(node, DictConfig) or part not in node:
                return None
            node = node._get_node(part)
        if isinstance(node, AnyNode):
            return key, value
        if isinstance(node, (DictConfig, ListConfig)):
            return (key, value) if node._metadata.ref_type is Any else None
        if not isinstance(node, ValueNode):
            return None
        try:
            return key, node.validate_and_convert(value)
        except OmegaConfBaseException as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            first = first.replace("$VALUE_TYPE", type(value).__name__).replace("$VALUE", str(value))
            raise type_error(key, first) or ConfigError(key, first) from None

    def check(self, post: tuple[str, ...], base_dir: Any) -> bool:
        """Validate the job `post` from plain data; False when it needs the full path instead."""
        from cxsim.budget import check_budget
        from cxsim.scenario import CheckedConfig, compile_scenario
        from cxsim.schema import check_run_settings, check_staffing_mode, planned

        if not self.usable or any("${" in o for o in post):
            return False
        effects = [self.effect(o) for o in post]
        keys = [k for k, _ in effects]
        if any(a != b and (a.startswith(b + ".") or b.startswith(a + ".")) for a in keys for b in keys):
            return False
        data = self.data
        try:
            for key, value in effects:
                data = _with(data, key.split("."), value)
        except KeyError:
            return False
        if _has_interpolation([v for _, v in effects]):
            return False
        check_run_settings(data["replications"], data["workers"], data["seed"])
        check_staffing_mode(CheckedConfig(data))
        if planned(CheckedConfig(data)):  # a swept staffing.mode=plan: the planner's own checks apply
            return False
        scenario = compile_scenario(CheckedConfig(data), base_dir=base_dir)
        output = data.get("output") or {}
        contacts, force = bool(output.get("contacts")), bool(data.get("force"))
        check_budget(scenario, data["replications"], data["workers"], contacts, force)
        return True
