"""The CLI: one-line errors with exit 2 for bad arguments, and the daily chain's stop-at-first-failure rule."""
from __future__ import annotations

import pytest
from csqm import cli
from csqm.errors import JobFailed
from csqm.pipeline import jobs


@pytest.mark.parametrize("argv, needle", [
    (["ingest", "--date", "2013011"], "is not a date yyyymmdd"),
    (["ingest", "--date", "20130230"], "is not a date yyyymmdd"),
    (["ingest", "--month", "201313"], "is not a month yyyymm"),
    (["daily", "--from", "20130105", "--to", "20130101"], "is before --from"),
    (["daily", "--from", "20130105"], "--from needs --to"),
    (["generate", "--start", "20130101", "--days", "0", "--subscribers", "5"], "--days must be at least 1"),
    (["nosuchjob"], "invalid choice"),
])
def test_bad_arguments_exit_2_with_one_line(argv, needle, capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert needle in err[-1]


def test_unknown_interface_is_a_one_line_error(capsys):
    assert cli.main(["ingest", "--date", "20130101", "--ifcode", "NOPE"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown interface 'NOPE'" in err[0]


def test_config_error_names_the_key(tmp_path, capsys):
    import shutil

    from csqm.config import DEFAULT_CONF_DIR
    conf = tmp_path / "conf"
    shutil.copytree(DEFAULT_CONF_DIR, conf)
    p = conf / "env" / "local.yaml"
    p.write_text(p.read_text() + "surprise: 1\n")
    assert cli.main(["status", "--conf-dir", str(conf)]) == 2
    assert "surprise: unknown key" in capsys.readouterr().err


def test_a_six_digit_date_is_a_month():
    ns = cli._parse(["ingest", "--date", "201301"])
    assert ns.date == "201301"


def test_daily_runs_dates_in_order_and_stops_at_the_first_failing_step(monkeypatch, capsys):
    calls = []

    def ok(name):
        return lambda spark, cfg, day, dry: calls.append((name, day))

    def boom(spark, cfg, day, dry):
        calls.append(("silver", day))
        if day == "20130102":
            raise JobFailed("silver 20130102: RuntimeError: disk full")

    monkeypatch.setattr(jobs, "_spark", lambda cfg: None)
    monkeypatch.setattr(jobs, "DAILY_STEPS", [("ingest", ok("ingest")), ("silver", boom), ("gold", ok("gold"))])
    rc = cli.main(["daily", "--from", "20130101", "--to", "20130103"])
    assert rc == 1
    assert calls == [("ingest", "20130101"), ("silver", "20130101"), ("gold", "20130101"),
                     ("ingest", "20130102"), ("silver", "20130102")]
    err = capsys.readouterr().err
    assert "daily 20130102 stopped at step silver" in err and "disk full" in err


def test_a_failing_dq_step_does_not_stop_the_backup_but_fails_the_day(monkeypatch, capsys):
    calls = []

    def ok(name):
        return lambda spark, cfg, day, dry: calls.append((name, day))

    def dq(spark, cfg, day, dry):
        calls.append(("dq", day))
        raise JobFailed("1 ERROR check(s) failed: DQ01 slv_fault_event_d[20130101]")

    monkeypatch.setattr(jobs, "_spark", lambda cfg: None)
    monkeypatch.setattr(jobs, "DAILY_STEPS", [("gold", ok("gold")), ("dq", dq), ("backup", ok("backup"))])
    rc = cli.main(["daily", "--from", "20130101", "--to", "20130102"])
    assert rc == 1
    assert calls == [("gold", "20130101"), ("dq", "20130101"), ("backup", "20130101")]
    err = capsys.readouterr().err
    assert "daily 20130101 ran every step but failed at dq: 1 ERROR check(s) failed: DQ01" in err
