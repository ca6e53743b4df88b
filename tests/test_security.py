"""A scenario file or an override can only describe an operation: no code runs from it.

The exploits of issue 14 go through the real command and the Python API: a `_target_` naming
a function, a method, a builtin or a standard-library callable (with `_args_`) is refused in
one line before anything is called, so the file it aims at is untouched. Scenario files in a
`--config-dir` go through the command's entry point in-process (refused before Hydra starts).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from test_cli import created, cxsim, cxsim_refused

import cxsim as api
from cxsim import ConfigError
from cxsim.scenario import read_scenario_file
from cxsim.yamlfile import load_yaml_text

EXPLOITS = {
    "Path.unlink": "{_target_: pathlib.Path.unlink, _args_: [FILE]}",
    "open for writing": "{_target_: builtins.open, _args_: [FILE, w]}",
    "shutil.copyfile": "{_target_: shutil.copyfile, _args_: [/etc/hostname, FILE]}",
    "os._exit": "{_target_: os._exit, _args_: [0]}",
    "time.sleep": "{_target_: time.sleep, _args_: [30]}",
    "a third-party function": "{_target_: numpy.save, _args_: [FILE, 1]}",
    "a dunder path": "{_target_: cxsim.distributions.Fixed.__init__.__globals__}",
    "a class with _args_": "{_target_: cxsim.distributions.Fixed, _args_: [FILE]}",
    "a nested _target_": "{_target_: cxsim.distributions.Fixed, mean: {_target_: os.getcwd}}",
    "a class without the protocol": "{_target_: cxsim.errors.ConfigError, key: FILE, rule: x}",
}
WHERE = {
    "handle time": "tiers.tier1.handle_time.voice",
    "routing policy": "routing.policy",
    "satisfaction model": "satisfaction.model",
}


def _victim(tmp_path: Path) -> Path:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    return victim


@pytest.mark.parametrize("where", sorted(WHERE))
@pytest.mark.parametrize("exploit", sorted(EXPLOITS))
def test_api_refuses_every_exploit_before_calling_it(tmp_path: Path, exploit: str, where: str) -> None:
    """load_scenario raises ConfigError naming the key; the target file is untouched."""
    victim = _victim(tmp_path)
    spec = EXPLOITS[exploit].replace("FILE", str(victim))
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        api.load_scenario("mmc", [f"++{WHERE[where]}={spec}"])
    assert time.monotonic() - started < 5
    assert info.value.key.startswith(WHERE[where]), str(info.value)
    assert "\n" not in str(info.value)
    assert victim.read_text() == "keep me"


def test_a_class_implementing_the_protocol_is_built() -> None:
    """The built-in classes named by `_target_` pass the check (the contract is not a ban)."""
    scn = api.load_scenario(
        "mmc",
        [
            "++tiers.tier1.handle_time.voice={_target_: cxsim.distributions.Fixed, mean: 120}",
            "routing.policy={_target_: cxsim.routing.FifoPolicy}",
        ],
    )
    assert scn.tiers[0].handle_time[0].mean == 120
    assert type(scn.policy).__name__ == "FifoPolicy"


@pytest.mark.parametrize(
    ("exploit", "override"),
    [  # os._exit is the one only a real process shows (exit 0, not 2); the API test covers every exploit
        pytest.param("open for writing", "++tiers.tier1.handle_time.voice={spec}", marks=pytest.mark.slow),
        ("os._exit", "routing.policy={spec}"),
        pytest.param("time.sleep", "satisfaction.model={spec}", marks=pytest.mark.slow),
    ],
)
def test_command_refuses_exploits_in_one_line(tmp_path: Path, exploit: str, override: str) -> None:
    """Through the real command: one line, exit 2 (not os._exit's 0), no hang, nothing written."""
    victim = _victim(tmp_path)
    spec = EXPLOITS[exploit].replace("FILE", str(victim))
    started = time.monotonic()
    out = cxsim(tmp_path, "scenario=mmc", override.format(spec=spec), f"hydra.run.dir={tmp_path / 'run'}")
    assert time.monotonic() - started < 20
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("cxsim: error: "), out.stderr
    assert "must name a class implementing" in out.stderr
    assert victim.read_text() == "keep me"
    assert created(tmp_path) == ["victim.txt"]


def _user_scenario(tmp_path: Path, extra: str) -> str:
    folder = tmp_path / "inputs" / "scenario"
    folder.mkdir(parents=True)
    text = (Path(api.__file__).parents[2] / "scenarios" / "mmc.yaml").read_text()
    (folder / "shared.yaml").write_text(text + extra)
    return str(tmp_path / "inputs")


def test_shared_scenario_file_cannot_delete_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario file with Path.unlink as a handle time: refused, the file survives."""
    victim = _victim(tmp_path)
    conf = _user_scenario(tmp_path, "")
    path = Path(conf) / "scenario" / "shared.yaml"
    text = path.read_text()
    start = text.index("handle_time:")
    end = text.index("\n", text.index("voice:", start))
    exploit = f"handle_time:\n      voice: {{_target_: pathlib.Path.unlink, _args_: ['{victim}']}}"
    path.write_text(text[:start] + exploit + text[end:])
    args = ("--config-dir", conf, "scenario=shared", f"hydra.run.dir={tmp_path / 'run'}")
    code, out, err = cxsim_refused(tmp_path, monkeypatch, capsys, *args)
    assert code == 2, (out, err)
    assert err.startswith("cxsim: error: tiers.tier1.handle_time.voice._target_: ") and err.count("\n") == 1, err
    assert victim.read_text() == "keep me"


def test_scenario_file_cannot_set_hydra_callbacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hydra:` in a scenario file (callbacks are instantiated by Hydra, run dirs chosen) is refused."""
    victim = _victim(tmp_path)
    extra = f"hydra:\n  callbacks:\n    evil:\n      _target_: pathlib.Path.unlink\n      _args_: ['{victim}']\n"
    conf = _user_scenario(tmp_path, extra)
    args = ("--config-dir", conf, "scenario=shared", f"hydra.run.dir={tmp_path / 'run'}")
    code, out, err = cxsim_refused(tmp_path, monkeypatch, capsys, *args)
    assert code == 2, (out, err)
    assert err.startswith("cxsim: error: hydra: is not allowed in a scenario file") and err.count("\n") == 1, err
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "run").exists()


def test_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    """A billion-laughs document is refused from its node count, before it is expanded."""
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n")
    started = time.monotonic()
    with pytest.raises(ConfigError, match="expands to more than"):
        read_scenario_file(path)
    with pytest.raises(ConfigError, match="expands to more than"):
        api.load_scenario(path)
    assert time.monotonic() - started < 2
    assert load_yaml_text("a: &x [1, 2]\nb: *x\n", "k", "f") == {"a": [1, 2], "b": [1, 2]}  # small aliases are fine
