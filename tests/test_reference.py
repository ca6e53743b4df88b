"""docs/reference.md against the schema dataclasses: every key documented, nothing documented
that does not exist, every default as the schema sets it. Change the schema, change the page."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from cxsim.satisfaction import DefaultCoefficients
from cxsim.schema import DistConfig, RunConfig

PAGE = Path(__file__).resolve().parents[1] / "docs" / "reference.md"
NO_DEFAULT = object()
# keys inside free-form (Any / mapping) fields that the code reads, documented on the page too
EXTRA = {
    "bot.channels.<>.containment",
    "bot.channels.<>.false_containment",
    "bot.channels.<>.giveup",
    "satisfaction.coefficients.<>",
    *(f"channels.<>.forecast_error.{k}" for k in ("dist", "cv", "mean", "intraday_cv", "intraday_correlation")),
    "forecast_correlation.<>.<>",
}


def _normal(path: str) -> str:
    """`channels.<channel>.sla` -> `channels.<>.sla`; `overflow[i]` -> `overflow[]`."""
    return re.sub(r"\[[^\]]*\]", "[]", re.sub(r"<[^>]*>", "<>", path))


def _plain(value: Any) -> Any:
    """A default as YAML would write it: dataclasses as mappings without their null keys."""
    if dataclasses.is_dataclass(value):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    return value


def schema_keys(cls: type, prefix: str = "", instance: Any = None) -> Iterator[tuple[str, Any]]:
    """(path, default) of every leaf key under a schema dataclass.

    Nested dataclasses are walked (`horizon.days`), mappings of dataclasses too
    (`channels.<>.mode`), lists of dataclasses by item (`routing.overflow[].after_s`);
    a distribution (DistConfig) is one key, its own keys are documented once as `<dist>.*`.
    """
    instance = cls() if instance is None else instance
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        kind, path = hints[f.name], prefix + f.name
        origin, args = typing.get_origin(kind), typing.get_args(kind)
        if origin in (typing.Union, types.UnionType):
            inner = [a for a in args if a is not type(None)]
            if len(inner) == 1 and dataclasses.is_dataclass(inner[0]):  # staffing: StaffingConfig | None
                yield from schema_keys(inner[0], path + ".")
                continue
        if dataclasses.is_dataclass(kind) and kind is not DistConfig:
            yield from schema_keys(kind, path + ".", getattr(instance, f.name))
        elif origin is dict and dataclasses.is_dataclass(args[1]) and args[1] is not DistConfig:
            yield from schema_keys(args[1], path + ".<>.")
        elif origin is list and args and dataclasses.is_dataclass(args[0]):
            yield from schema_keys(args[0], path + "[].")
        elif origin is dict and args[1] is DistConfig:
            yield path + ".<>", NO_DEFAULT  # tiers.<>.handle_time.<channel>: required, no default
        elif getattr(instance, f.name) == "???":  # omegaconf.MISSING: the key is required
            yield path, NO_DEFAULT
        else:
            yield path, _plain(getattr(instance, f.name))


def documented() -> dict[str, tuple[str, str]]:
    """Key rows of the page's tables: normalised path -> (section, default cell)."""
    rows: dict[str, tuple[str, str]] = {}
    section = ""
    for line in PAGE.read_text().splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        match = re.match(r"\|\s*`([^`]+)`\s*\|", line)
        if not match:
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        assert len(cells) == 5, f"a key row has 5 cells (key, meaning, unit, default, allowed): {line}"
        path = _normal(match.group(1))
        assert path not in rows, f"{match.group(1)} is documented twice"
        rows[path] = (section, cells[3])
    return rows


def _default_cell(cell: str) -> Any:
    """The `code` value a default cell starts with, parsed as YAML; NO_DEFAULT when there is none."""
    match = re.match(r"`([^`]*)`", cell)
    return NO_DEFAULT if match is None else yaml.safe_load(match.group(1))


def test_every_schema_key_is_documented_and_nothing_else() -> None:
    """The key tables list exactly the schema's keys (plus the documented free-form sub-keys)."""
    expected = {path for path, _ in schema_keys(RunConfig)} | EXTRA
    expected |= {f"<>.{f.name}" for f in dataclasses.fields(DistConfig)}
    rows = set(documented())
    missing, unknown = sorted(expected - rows), sorted(rows - expected)
    assert not missing, f"add rows to docs/reference.md for: {missing}"
    assert not unknown, f"docs/reference.md documents keys the schema does not have: {unknown}"


@pytest.mark.parametrize("path,default", list(schema_keys(RunConfig)))
def test_documented_default_matches_the_schema(path: str, default: Any) -> None:
    """The default column says what applies when the key is left out."""
    cell = documented()[path][1]
    value = _default_cell(cell)
    if default is NO_DEFAULT:
        assert value is NO_DEFAULT, f"{path} has no default; the page says {cell}"
        return
    assert value == default, f"{path}: the schema's default is {default!r}, the page says {cell}"


def test_distribution_keys_and_defaults() -> None:
    """Each key of a distribution mapping is documented once, under Distributions."""
    rows = documented()
    for f in dataclasses.fields(DistConfig):
        section, cell = rows[f"<>.{f.name}"]
        assert section == "Distributions"
        assert _default_cell(cell) == getattr(DistConfig(), f.name)


def test_every_satisfaction_coefficient_is_named() -> None:
    """The coefficients row names every coefficient the default model accepts."""
    cell_row = next(line for line in PAGE.read_text().splitlines() if line.startswith("| `satisfaction.coefficients.<"))
    for f in dataclasses.fields(DefaultCoefficients):
        assert re.search(rf"\b{f.name}\b", cell_row), f"name satisfaction coefficient '{f.name}' in docs/reference.md"
