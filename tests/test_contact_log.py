"""The contact-log reader: every bad-input rule names the column and the first bad data row;
odd rows are counted and kept; column mapping, time zones, epoch seconds and Parquet all read alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from loggen import SAMPLE, generate, to_log

from cxsim.calibrate.log import LogSpec, read_log
from cxsim.errors import ConfigError

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def epoch_log() -> pd.DataFrame:
    legs, contacts = generate(SAMPLE, seed=2)
    return to_log(SAMPLE, legs, contacts, layout="contact", times="epoch")


def _write(tmp_path: Path, frame: pd.DataFrame) -> Path:
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    return path


def _answered_row(frame: pd.DataFrame) -> int:
    return int(np.flatnonzero((frame["outcome"] == "answered").to_numpy())[3])


def test_sample_log_reads_with_its_documented_settings():
    """The committed sample (one row per leg, naive ISO times in Europe/Berlin) reads as 1 day of contacts."""
    data = read_log(DATA / "sample_contact_log.csv", LogSpec(timezone="Europe/Berlin", format="leg"))
    assert data.days == 1
    assert str(data.origin) == "2026-03-02 00:00:00+01:00"
    assert data.contacts["arrival"].between(0, 86400).all()
    assert set(data.legs["tier"].cat.categories) == {"tier1", "tier2"}
    assert data.contacts["contact"].is_unique


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda f: f.drop(columns=["answer"]), "missing required column 'answer'"),
        (
            lambda f: f.assign(arrival=f["arrival"].astype(object).where(f.index != 4, "yesterday")),
            "column 'arrival', data row 5: not an ISO date-time or epoch seconds (got 'yesterday')",
        ),
        (
            lambda f: f.assign(answer=np.where(f.index == _answered_row(f), f["arrival"] - 10, f["answer"])),
            "column 'answer', data row {row}: answer before arrival",
        ),
        (
            lambda f: f.assign(end=np.where(f.index == _answered_row(f), f["answer"] - 1, f["end"])),
            "column 'end', data row {row}: negative duration",
        ),
        (lambda f: pd.concat([f, f.iloc[[6]]], ignore_index=True), "column 'contact_id', data row {n}: duplicate id"),
        (
            lambda f: f.assign(outcome=f["outcome"].where(f.index != 2, "lost")),
            "column 'outcome', data row 3: must be one of answered, abandoned, contained, escalated (got 'lost')",
        ),
        (lambda f: f.assign(channel=f["channel"].where(f.index != 1, None)), "column 'channel', data row 2: is empty"),
    ],
    ids=[
        "missing-column",
        "bad-timestamp",
        "answer-before-arrival",
        "negative-duration",
        "duplicate-id",
        "unknown-outcome",
        "empty-channel",
    ],
)
def test_bad_logs_name_the_column_and_first_bad_row(epoch_log, tmp_path: Path, mutate, expected):
    """Each broken rule raises ConfigError('log', ...) with the column and the 1-based data row."""
    frame = mutate(epoch_log.copy())
    expected = expected.format(row=_answered_row(epoch_log) + 1, n=len(frame))
    with pytest.raises(ConfigError) as err:
        read_log(_write(tmp_path, frame))
    assert err.value.key == "log"
    assert expected in err.value.rule


def test_empty_and_header_only_files_are_rejected(tmp_path: Path, epoch_log):
    for text in ("", ",".join(epoch_log.columns) + "\n"):
        path = tmp_path / "empty.csv"
        path.write_text(text)
        with pytest.raises(ConfigError, match="is empty"):
            read_log(path)


def test_a_leg_log_read_as_contacts_points_to_the_format_setting():
    with pytest.raises(ConfigError, match=r"duplicate id .* calibrate.format=leg"):
        read_log(DATA / "sample_contact_log.csv", LogSpec(timezone="Europe/Berlin"))


def test_odd_rows_are_counted_and_kept(epoch_log, tmp_path: Path):
    """A zero-length handle is no error: it is counted, and the contact stays in the log."""
    frame = epoch_log.copy()
    row = _answered_row(frame)
    frame.loc[row, "end"] = frame.loc[row, "answer"]
    data = read_log(_write(tmp_path, frame))
    assert data.odd["zero_length_handles"] == 1
    assert len(data.contacts) == len(frame)


def test_column_mapping_time_zones_epoch_and_parquet_read_alike(epoch_log, tmp_path: Path):
    """Renamed columns with calibrate.columns, ISO times with a zone, epoch seconds and Parquet give one log."""
    base = read_log(_write(tmp_path, epoch_log), LogSpec(timezone=SAMPLE.timezone))
    renamed = epoch_log.rename(columns={"arrival": "StartTime", "contact_id": "CallID"})
    mapped = read_log(
        _write(tmp_path, renamed),
        LogSpec(columns={"arrival": "StartTime", "contact_id": "CallID"}, timezone=SAMPLE.timezone),
    )
    iso = epoch_log.copy()
    for c in ("arrival", "bot_end", "queue_entry", "answer", "end"):
        iso[c] = (
            pd.to_datetime(iso[c], unit="s", utc=True)
            .dt.tz_convert("America/New_York")
            .map(lambda t: "" if pd.isna(t) else t.isoformat())
        )
    zoned = read_log(_write(tmp_path, iso), LogSpec(timezone=SAMPLE.timezone))
    parquet = tmp_path / "log.parquet"
    epoch_log.to_parquet(parquet)
    from_parquet = read_log(parquet, LogSpec(timezone=SAMPLE.timezone))
    for other in (mapped, zoned, from_parquet):
        assert other.origin == base.origin
        np.testing.assert_allclose(other.contacts["arrival"], base.contacts["arrival"], atol=1e-3)
        np.testing.assert_allclose(other.legs["end"], base.legs["end"], atol=1e-3)


def test_unknown_settings_are_rejected():
    with pytest.raises(ConfigError) as err:
        read_log(DATA / "sample_contact_log.csv", LogSpec(columns={"start": "StartTime"}))
    assert err.value.key == "calibrate.columns.start"
    with pytest.raises(ConfigError) as err:
        read_log(DATA / "sample_contact_log.csv", LogSpec(timezone="Mars/Olympus"))
    assert err.value.key == "calibrate.timezone"


def test_an_unparseable_iso_time_names_its_row(tmp_path: Path):
    frame = pd.read_csv(DATA / "sample_contact_log.csv", dtype=str, keep_default_na=False)
    frame.loc[9, "queue_entry"] = "2026-03-02 25:61"
    with pytest.raises(ConfigError) as err:
        read_log(_write(tmp_path, frame), LogSpec(timezone="Europe/Berlin", format="leg"))
    assert (
        err.value.rule
        == "column 'queue_entry', data row 10: not an ISO date-time or epoch seconds (got '2026-03-02 25:61')"
    )
