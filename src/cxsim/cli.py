"""The `cxsim` command: a thin Hydra app over `cxsim.app.run` (and `cxsim report`, `cxsim staff`,
`cxsim schedule`, `cxsim automate`, `cxsim calibrate`, `cxsim replay`).

Before Hydra starts, the command composes the config for every combination a sweep asks for
and validates it, so a user mistake prints one line naming the key and the rule, exits 2 and
leaves nothing in results/. Only this module touches Hydra's app machinery.
"""

from __future__ import annotations

import copy
import itertools
import sys
import traceback
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from cxsim.errors import ConfigError
from cxsim.paths import configs_dir, scenarios_dir
from cxsim.schema import planned

MAX_PREFLIGHT_JOBS = 1000
USER_ERROR = 2
LAUNCHER_EXTRAS = {"ray": "ray", "submitit_slurm": "slurm", "submitit_local": "slurm"}


_REGISTERED: set[str] = set()


def register_configs(names: set[str] | None = None) -> None:
    """Put the run schema and the shipped scenarios (all, or only `names`) into Hydra's ConfigStore.

    Loading a scenario costs tens of milliseconds, so the command registers only those it
    composes; `--help`, `--info` and sweeps over a glob get all of them.
    """
    from hydra.core.config_store import ConfigStore

    from cxsim.schema import RunConfig

    store = ConfigStore.instance()
    if "schema/run" not in _REGISTERED:
        store.store(group="schema", name="run", node=RunConfig, package="_global_")
        _REGISTERED.add("schema/run")
    for path in sorted(scenarios_dir().glob("*.yaml")):
        if (names is None or path.stem in names) and f"scenario/{path.stem}" not in _REGISTERED:
            store.store(group="scenario", name=path.stem, node=OmegaConf.load(path), package="_global_")
            _REGISTERED.add(f"scenario/{path.stem}")


def _scenarios_named(overrides: list[str]) -> set[str] | None:
    """The scenarios a command line composes (None: cannot tell, register them all)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    try:
        parsed = OverridesParser.create().parse_overrides(overrides)
    except HydraException:
        return None
    names = {"baseline"}  # the default in configs/config.yaml
    for o in parsed:
        if o.key_or_group != "scenario":
            continue
        if o.is_sweep_override():
            names.update(_sweep_values(o))
        else:
            names.add(str(o.value()))
    return names


def one_line(exc: ConfigError) -> str:
    """`key: rule` on one line, whatever a nested exception (e.g. a `_target_` import) put in the rule."""
    rule = str(exc.rule).splitlines()[0] if str(exc.rule) else ""
    rule = rule.replace(", set env var HYDRA_FULL_ERROR=1 to see chained exception.", "")
    if "Error locating target" in rule:
        rule += " (is its module importable, e.g. on PYTHONPATH?)"
    return f"{exc.key}: {rule}" if exc.key else rule


def _hydra_error(exc: Exception) -> ConfigError:
    """Hydra's composition errors as one line naming the key."""
    text = str(exc)
    first = next((line.strip() for line in text.splitlines() if line.strip()), type(exc).__name__)
    if "Could not find 'scenario/" in text:
        name = text.split("Could not find 'scenario/")[1].split("'")[0]
        from cxsim.scenario import scenario_names

        return ConfigError("scenario", f"unknown scenario '{name}' (shipped: {', '.join(scenario_names())})")
    if "Could not find 'hydra/launcher/" in text:
        name = text.split("Could not find 'hydra/launcher/")[1].split("'")[0]
        extra = LAUNCHER_EXTRAS.get(name)
        rule = f"the {name} launcher is not installed" + (f": pip install -e '.[{extra}]'" if extra else "")
        return ConfigError("hydra/launcher", rule + " (see README, Launchers)")
    if "Could not find 'launcher/" in text:
        name = text.split("Could not find 'launcher/")[1].split("'")[0]
        presets = sorted(p.stem for p in (configs_dir() / "launcher").glob("*.yaml"))
        return ConfigError("launcher", f"unknown launcher preset '{name}' (presets: {', '.join(presets)})")
    cause = exc.__cause__ or exc.__context__
    if "is not a subclass of" in str(cause) and "Error merging override" in text:
        # +channels.sms.mode=...: OmegaConf cannot create a typed entry from an override
        key = text.split("Error merging override ")[1].strip().lstrip("+~").split("=")[0]
        return ConfigError(
            key, "a new channel, tier or intent cannot be added from the command line; add it in a scenario file"
        )
    if "Could not override '" in text or "Could not append to config" in text:
        key = text.split("'")[1]
        deeper = str(getattr(cause, "full_key", "") or "")
        if deeper.startswith(key + "."):  # key={_target_: ...} onto an existing mapping: merging adds keys
            return ConfigError(deeper, f"unknown key; to replace the whole mapping write ++{key}=...")
        return ConfigError(key, "unknown key (check the spelling; see docs/reference.md)")
    if cause is not None and "Cannot merge DictConfig with ListConfig" in str(cause):
        key = getattr(cause, "full_key", "") or "overrides"
        return ConfigError(key, "a list cannot replace this mapping on the command line; set its entries instead")
    if cause is not None and getattr(cause, "full_key", None):
        return ConfigError(cause.full_key, str(cause).splitlines()[0])
    return ConfigError("overrides", first)


def _sweep_values(o: Any) -> list[str]:
    """The values a sweep override takes; `scenario=glob(...)` expands over the shipped scenarios."""
    from hydra.core.override_parser.types import Glob

    from cxsim.scenario import scenario_names

    value = o.value()
    if isinstance(value, Glob):
        if o.key_or_group != "scenario":
            raise ConfigError(o.key_or_group, "glob() sweeps are supported for scenario only")
        return list(value.filter(scenario_names()))
    return list(o.sweep_string_iterator())


def _is_value_key(key: str) -> bool:
    """A dotted scenario/run key (`tiers.tier1.staff`), as opposed to a config group
    (`scenario`, `+launcher`, `hydra/launcher`) or a Hydra setting (`hydra.sweep.dir`)."""
    return "." in key and "/" not in key and not key.startswith("hydra.")


def _combinations(overrides: list[str], multirun: bool) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Expand sweep overrides (a=1,2 / range / choice) into jobs.

    Each job is (overrides to compose with, swept key values to apply afterwards): a sweep over
    scenario keys then composes once per combination of the other overrides, not once per job.
    """
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_overrides(overrides)
    axes = []
    for o in parsed:
        if o.is_sweep_override():
            if not multirun:
                raise ConfigError(o.key_or_group, f"'{o.input_line}' sweeps several values; add -m to run one job each")
            post = _is_value_key(o.key_or_group) and not (o.is_add() or o.is_force_add() or o.is_delete())
            axes.append([(post, f"{o.get_key_element()}={v}") for v in _sweep_values(o)])
        else:
            axes.append([(False, o.input_line)])
    jobs = []
    for combo in itertools.product(*axes):
        jobs.append((tuple(o for post, o in combo if not post), tuple(o for post, o in combo if post)))
    return jobs


def _blame(config_name: str, overrides: list[str], extra: list[str]) -> ConfigError:
    """The first override that cannot be applied, as a ConfigError naming its key.

    Composes with the config-group choices only, then applies the key overrides one by one.
    Called (inside an initialised Hydra) only after composing or applying failed.
    """
    from hydra import compose
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from cxsim.scenario import apply_overrides

    parsed = OverridesParser.create().parse_overrides(overrides)
    groups = [o.input_line for o in parsed if not _is_value_key(o.key_or_group)]
    try:
        cfg = compose(config_name=config_name, overrides=[*groups, *extra])
    except Exception as exc:
        return _hydra_error(exc)
    for o in parsed:
        if not _is_value_key(o.key_or_group):
            continue
        try:
            apply_overrides(cfg, [o.input_line])
        except ConfigError as exc:
            return exc
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            hint = " (a part of this path is a list, not a mapping)" if "is not an int" in first else ""
            return ConfigError(o.key_or_group, f"cannot be set: {first}{hint}")
    return ConfigError("overrides", "cannot be applied together (run them one by one to see which fails)")


def preflight(config_name: str, overrides: list[str], multirun: bool, config_dir: str | None) -> None:
    """Compose and validate every job's config; raise ConfigError on the first mistake."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from cxsim.app import validate
    from cxsim.scenario import apply_overrides

    extra = [f"hydra.searchpath=[file://{Path(config_dir).resolve()}]"] if config_dir else []
    try:
        jobs = _combinations(overrides, multirun)
    except HydraException as exc:
        raise ConfigError("overrides", str(exc).splitlines()[0]) from None
    composed: dict[tuple[str, ...], DictConfig] = {}
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3", job_name="cxsim"):
        for base, post in jobs[:MAX_PREFLIGHT_JOBS]:
            if base not in composed:
                try:
                    composed[base] = compose(config_name=config_name, overrides=[*base, *extra])
                except (HydraException, OmegaConfBaseException) as exc:
                    raise _hydra_error(exc) from None
                except Exception:  # Hydra lets some OmegaConf errors through unwrapped (TypeError ...)
                    raise _blame(config_name, list(base), extra) from None
            cfg = composed[base]
            if post:
                cfg = copy.deepcopy(cfg)
                try:
                    apply_overrides(cfg, post)
                except Exception:  # find the override to blame, with the same message Hydra would give
                    raise _blame(config_name, [*base, *post], extra) from None
            scenario = validate(cfg)
            if cfg.get("schedule") is not None:
                from cxsim.schedule.app import check_config as check_schedule

                check_schedule(cfg, scenario)
            if cfg.get("automate") is not None:
                from cxsim.automation_app import check_config as check_automate

                check_automate(cfg, scenario)
            elif planned(cfg) or cfg.get("objective") is not None:
                from cxsim.planning.app import check_config

                check_config(cfg, scenario)
            if cfg.get("calibrate") is not None:  # cxsim calibrate / replay: the whole log is checked here
                from cxsim.calibrate.app import check_config as check_log

                check_log(cfg, scenario)


def _task(cfg: DictConfig) -> Any:
    """One Hydra job: run the scenario into the job's output directory."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from cxsim.app import run
    from cxsim.outputs import write_text
    from cxsim.sweep import ERROR_FILE

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    try:
        if cfg.get("automate") is not None:  # cxsim automate
            from cxsim.automation_app import run_automation

            return run_automation(cfg, out, list(hc.overrides.task))
        if cfg.get("calibrate") is not None:  # cxsim calibrate, cxsim replay
            from cxsim.calibrate.app import run_task as run_calibrate_task

            return run_calibrate_task(cfg, out, list(hc.overrides.task))
        if cfg.get("schedule") is not None:  # cxsim schedule
            from cxsim.schedule.app import run_schedule

            return run_schedule(cfg, out, list(hc.overrides.task))
        if cfg.get("objective") is not None or (planned(cfg) and hc.job.config_name == "staff"):  # Optuna, cxsim staff
            from cxsim.planning.app import run_task

            return run_task(cfg, out, list(hc.overrides.task))
        return run(cfg, out, list(hc.overrides.task))  # plans first with staffing.mode=plan
    except Exception as exc:
        if hc.mode == RunMode.MULTIRUN:  # keep the sweep going; the summary reports the failure
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            detail = "" if isinstance(exc, ConfigError) else "\n" + traceback.format_exc()
            write_text(out / ERROR_FILE, f"{reason}\n{detail}")  # first line: the reason sweep_summary.csv shows
            print(f"cxsim: job {hc.job.num} failed: {exc}", file=sys.stderr)
            return None
        raise


def _run_hydra(config_name: str, argv: list[str], scenarios: set[str] | None = None) -> None:
    import hydra

    register_configs(scenarios)
    sys.argv = [sys.argv[0], *argv]
    hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name=config_name)(_task)()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `cxsim` console script."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "report":
        from cxsim.report import main as report_main

        sys.exit(report_main(args[1:]))
    config_name = "config"
    if args and args[0] in ("staff", "schedule", "automate", "calibrate", "replay"):
        config_name, args = args[0], args[1:]
    from hydra._internal.utils import get_args_parser

    parsed, _ = get_args_parser().parse_known_args(args)
    informational = parsed.help or parsed.hydra_help or parsed.cfg or parsed.info or parsed.shell_completion
    own_configs = parsed.config_name or parsed.config_dir  # their defaults may pick any shipped scenario
    scenarios = None if informational or own_configs else _scenarios_named(list(parsed.overrides))
    if not informational:
        register_configs(scenarios)
        try:
            preflight(
                parsed.config_name or config_name, list(parsed.overrides), bool(parsed.multirun), parsed.config_dir
            )
        except ConfigError as exc:
            print(f"cxsim: error: {one_line(exc)}", file=sys.stderr)
            sys.exit(USER_ERROR)
    _run_hydra(config_name, args, scenarios)


if __name__ == "__main__":
    main()
