"""The `cxsim` command: a thin Hydra app over `cxsim.app.run` (and `cxsim report`, `cxsim staff`,
`cxsim schedule`, `cxsim automate`, `cxsim calibrate`, `cxsim replay`).

Before Hydra starts, the command composes the config for every combination a sweep asks for
and validates it, so a user mistake prints one line naming the key and the rule, exits 2 and
leaves nothing in results/. Only this module touches Hydra's app machinery.
"""

from __future__ import annotations

import copy
import itertools
import re
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegaconf import DictConfig

from cxsim.errors import ConfigError
from cxsim.paths import configs_dir, scenarios_dir
from cxsim.rundirs import register_resolvers
from cxsim.schema import planned

USER_ERROR = 2
INTERRUPTED = 130  # 128 + SIGINT, as shells report it
LAUNCHER_EXTRAS = {"ray": "ray", "submitit_slurm": "slurm", "submitit_local": "slurm"}


_REGISTERED: set[str] = set()
_SCENARIO_NAME = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


def register_configs() -> None:
    """Put the run schema into Hydra's ConfigStore.

    The shipped scenarios are a file config group (`configs/scenario` links to `scenarios/`):
    Hydra copies its ConfigStore whenever it lists groups (about 70 times for `--help`), so
    keeping the scenarios out of it is what makes the command start fast.
    """
    from hydra.core.config_store import ConfigStore

    from cxsim.schema import RunConfig

    if "schema/run" not in _REGISTERED:
        ConfigStore.instance().store(group="schema", name="run", node=RunConfig, package="_global_")
        _REGISTERED.add("schema/run")


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
        values = _sweep_values(o) if o.is_sweep_override() else [str(o.value())]
        for value in values:
            if not _SCENARIO_NAME.fullmatch(value) or ".." in value.split("/"):
                raise ConfigError("scenario", f"'{value}' is not a scenario name (letters, digits, _ . - and /)")
        names.update(values)
    return names


def one_line(exc: ConfigError) -> str:
    """`key: rule` on one line, whatever a nested exception put in the rule."""
    rule = str(exc.rule).splitlines()[0] if str(exc.rule) else ""
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
        from cxsim.scenario import omegaconf_error

        return omegaconf_error(cause)
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


def check_config_dir(config_dir: str, names: set[str] | None) -> None:
    """The user's --config-dir exists, and its scenario files (those composed, or all) are read
    safely before Hydra reads them: plain data, no alias bombs, no `hydra` or `defaults` keys."""
    from cxsim.scenario import read_scenario_file

    folder = Path(config_dir)
    if not folder.is_dir():
        raise ConfigError("--config-dir", f"'{config_dir}' is not a directory")
    for path in sorted((folder / "scenario").glob("*.yaml")):
        if names is None or path.stem in names:
            read_scenario_file(path)


def _check_output_folder(overrides: list[str], multirun: bool) -> None:
    """Where the run or sweep will write (its fixed part, before any `${...}`) can be written."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from cxsim.rundirs import check_writable

    key = "hydra.sweep.dir" if multirun else "hydra.run.dir"
    folder = "results"
    for o in OverridesParser.create().parse_overrides(overrides):
        if o.key_or_group == key and not o.is_sweep_override():
            folder = str(o.value()).split("${")[0] or "."
    check_writable(Path(folder), key)


def preflight(config_name: str, overrides: list[str], multirun: bool, config_dir: str | None) -> None:
    """Compose and validate every job's config; raise ConfigError on the first mistake."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from cxsim.app import check_keys, validate
    from cxsim.scenario import apply_overrides
    from cxsim.sweepcheck import JobChecker

    register_resolvers()
    extra = [f"hydra.searchpath=[file://{Path(config_dir).resolve()}]"] if config_dir else []
    try:
        jobs = _combinations(overrides, multirun)
    except HydraException as exc:
        raise ConfigError("overrides", str(exc).splitlines()[0]) from None
    _check_output_folder(overrides, multirun)
    composed: dict[tuple[str, ...], DictConfig] = {}
    checkers: dict[tuple[str, ...], JobChecker] = {}
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3", job_name="cxsim"):
        for base, post in jobs:
            if base not in composed:
                try:
                    composed[base] = compose(config_name=config_name, overrides=[*base, *extra])
                except (HydraException, OmegaConfBaseException) as exc:
                    raise _hydra_error(exc) from None
                except Exception:  # Hydra lets some OmegaConf errors through unwrapped (TypeError ...)
                    raise _blame(config_name, list(base), extra) from None
            cfg = composed[base]
            if post and len(jobs) > 1:  # a sweep: each swept value checked once, each job from plain data
                if base not in checkers:
                    check_keys(cfg)
                    checkers[base] = JobChecker(cfg)
                try:
                    if checkers[base].check(post, scenarios_dir()):
                        continue
                except ConfigError:
                    raise
                except Exception:  # find the override to blame, with the same message Hydra would give
                    raise _blame(config_name, [*base, *post], extra) from None
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


def _already_complete(job_dir: Path, overrides: list[str]) -> bool:
    """A resumed sweep's job whose folder holds a complete run of the same overrides."""
    import json

    from cxsim.rundirs import COMPLETE_FILE, is_complete

    if not is_complete(job_dir):
        return False
    try:
        return json.loads((job_dir / COMPLETE_FILE).read_text()).get("overrides") == overrides
    except (OSError, ValueError, AttributeError):
        return False


def _resume(args: list[str], multirun: bool) -> list[str]:
    """`+resume=DIR` (or `resume=DIR`): run the sweep into DIR again; jobs complete there are skipped."""
    kept, folder = [], None
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.lstrip("+") == "resume":
            folder = value
        else:
            kept.append(arg)
    if folder is None:
        return args
    if not multirun:
        raise ConfigError("resume", "resumes a sweep: add -m and the sweep's overrides")
    if not (Path(folder) / "multirun.yaml").is_file():
        raise ConfigError("resume", f"'{folder}' is not a sweep folder (it has no multirun.yaml)")
    return [*kept, f"hydra.sweep.dir={Path(folder).resolve()}"]


def _task(cfg: DictConfig) -> Any:
    """One Hydra job: run the scenario into the job's output directory."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from cxsim.app import run
    from cxsim.outputs import write_text
    from cxsim.rundirs import COMPLETE_FILE
    from cxsim.sweep import ERROR_FILE

    hc = HydraConfig.get()
    out = Path(hc.runtime.output_dir)
    multirun = hc.mode == RunMode.MULTIRUN
    if multirun and _already_complete(out, list(hc.overrides.task)):
        print(f"cxsim: job {hc.job.num} already complete in {out}, skipped")
        return None
    for stale in (COMPLETE_FILE, ERROR_FILE):  # a job run again into its folder is incomplete until it ends
        (out / stale).unlink(missing_ok=True)
    fresh = {p.name for p in out.iterdir()} <= {".hydra", f"{hc.job.name}.log"}  # Hydra made it for this run
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
    except OSError as exc:  # a full or read-only disk: one line naming the path, no partial run left
        where = exc.filename or out
        if not multirun:
            _remove_partial(out, fresh)
        print(f"cxsim: error: cannot write '{where}': {exc.strerror or exc}", file=sys.stderr)
        if not multirun:
            sys.exit(USER_ERROR)
        return None
    except Exception as exc:
        if multirun:  # keep the sweep going; the summary reports the failure
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            detail = "" if isinstance(exc, ConfigError) else "\n" + traceback.format_exc()
            write_text(out / ERROR_FILE, f"{reason}\n{detail}")  # first line: the reason sweep_summary.csv shows
            print(f"cxsim: job {hc.job.num} failed: {exc}", file=sys.stderr)
            return None
        raise


def _remove_partial(out: Path, fresh: bool) -> None:
    """After a failed write: the folder if this run created it, else the result files it wrote."""
    import shutil

    from cxsim.outputs import (
        CONFIG_FILE,
        CONTACTS_FILE,
        DIGEST_FILE,
        INTERVALS_FILE,
        REPLICATIONS_FILE,
        SUMMARY_FILE,
    )

    if fresh:
        shutil.rmtree(out, ignore_errors=True)
        return
    for name in (SUMMARY_FILE, REPLICATIONS_FILE, INTERVALS_FILE, CONFIG_FILE, CONTACTS_FILE, DIGEST_FILE):
        (out / name).unlink(missing_ok=True)
    for tmp in out.glob(".*.tmp"):
        tmp.unlink(missing_ok=True)


def _run_hydra(config_name: str, argv: list[str]) -> None:
    import hydra

    register_configs()
    register_resolvers()
    sys.argv = [sys.argv[0], *argv]
    hydra.main(version_base="1.3", config_path=str(configs_dir()), config_name=config_name)(_task)()


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `cxsim` console script: Ctrl-C stops with one line and exit code 130."""
    try:
        _main(list(sys.argv[1:] if argv is None else argv))
    except KeyboardInterrupt:
        print("cxsim: interrupted (runs without summary.json are incomplete and ignored)", file=sys.stderr)
        sys.exit(INTERRUPTED)


HELP = """\
cxsim: simulate a customer-support operation and report its KPIs (README.md, docs/)

usage: cxsim [KEY=VALUE ...]               one run of a scenario
       cxsim -m [KEY=V1,V2 ...]           a sweep: one job per combination of values
       cxsim staff [KEY=VALUE ...]        the staffing each tier needs (docs/planning.md)
       cxsim report DIR [DIR ...]         one HTML report comparing runs and sweeps

scenarios (scenario=NAME): {scenarios}
launcher presets (-m +launcher=NAME): {launchers}
run keys (default): {run_keys}
  -m ... +resume=SWEEP_DIR   rerun a sweep into its folder, skipping complete jobs
every scenario key: docs/reference.md; the composed config: cxsim --cfg job [scenario=NAME]
Hydra's own options: cxsim --hydra-help"""


def print_help() -> None:
    """The command's help, without starting Hydra (its own help copies every config ~70 times)."""
    from cxsim.schema import OutputConfig, ReportConfig, RunConfig

    run = RunConfig()
    keys = [f"{k}={str(getattr(run, k)).lower()}" for k in ("replications", "seed", "workers", "progress", "force")]
    keys.append(f"output.contacts={str(OutputConfig().contacts).lower()}")
    keys.append(f"report.enabled={str(ReportConfig().enabled).lower()}")
    scenarios = sorted(p.stem for p in scenarios_dir().glob("*.yaml"))
    launchers = sorted(p.stem for p in (configs_dir() / "launcher").glob("*.yaml"))
    print(HELP.format(scenarios=", ".join(scenarios), launchers=", ".join(launchers), run_keys=" ".join(keys)))


def _main(args: list[str]) -> None:
    if any(a in ("--help", "-h") for a in args) and (not args or args[0] != "report"):
        print_help()
        return
    if args and args[0] == "report":
        from cxsim.report import main as report_main

        sys.exit(report_main(args[1:]))
    config_name = "config"
    if args and args[0] in ("staff", "schedule", "automate", "calibrate", "replay"):
        config_name, args = args[0], args[1:]
    from hydra._internal.utils import get_args_parser

    parsed, _ = get_args_parser().parse_known_args(args)
    informational = parsed.help or parsed.hydra_help or parsed.cfg or parsed.info or parsed.shell_completion
    if not informational:
        try:
            args = _resume(args, bool(parsed.multirun))
            parsed, _ = get_args_parser().parse_known_args(args)
            named = _scenarios_named(list(parsed.overrides))
            register_configs()
            if parsed.config_dir:
                check_config_dir(parsed.config_dir, named)
            preflight(
                parsed.config_name or config_name, list(parsed.overrides), bool(parsed.multirun), parsed.config_dir
            )
        except ConfigError as exc:
            print(f"cxsim: error: {one_line(exc)}", file=sys.stderr)
            sys.exit(USER_ERROR)
    _run_hydra(config_name, args)


if __name__ == "__main__":
    main()
