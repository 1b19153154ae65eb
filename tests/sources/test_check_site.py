"""``metering check-site`` against the simulated provider over loopback: a healthy provider
passes; a wrong password, a VCD with no API version in common and a source that is down each
give one clear problem line and a non-zero exit."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from metering.cli import main
from metering.simulator import Simulation, serve_in_thread

START = datetime(2026, 10, 1, tzinfo=UTC)


def check(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["check-site", "--config", str(config), *args])
    out = capsys.readouterr()
    return code, re.sub(r"\s+", " ", out.out + out.err)


def test_a_healthy_provider_passes_with_versions_endpoints_and_parsed_records(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    sim.set_release("az2", "10.5")
    with serve_in_thread(sim):
        config = sim.provider_config(tmp_path)
        code, out = check(config, capsys)
        sim.set_release("az2", "10.4")  # speaks 37.x: VCD has no app list yet
        code_old, out_old = check(config, capsys, "--site", "az2")
    assert code == 0, out
    assert "site az1: plain HTTP (no TLS); API version 39.1" in out
    assert "site az2: plain HTTP (no TLS); API version 38.1" in out
    assert "login ok" in out and "problem" not in out
    assert "GET /api/query?type=vm: 200" in out and "GET /cloudapi/1.0.0/orgs: 200" in out
    assert re.search(r"vcd ok vcd_vm: [1-9]\d* rows, 0 quarantined", out)
    for source in ("cse", "alp", "dse", "ose", "cloudian"):
        assert re.search(rf"{source} (ok|quarantined) \w+: \d+ rows", out), source
    assert "every configured source of every site can be read" in out
    assert "GET /system/version: 200 (HyperStore 8.1 Compiled:" in out
    assert "GET /group/list: 200" in out and "GET /bppolicy/listpolicy: 200" in out
    assert re.search(r"SB of bucket \S+ at \d{4}-\d\d-\d\d \d\d:00: (\d+|none) bytes; "
                     r"/system/bucketusage byteCount now: \d+ bytes", out), out  # fmt: skip
    assert code_old == 1 and "API version 37.2" in out_old
    assert out_old.count("problem:") == 1
    assert "problem: az2 alp: alp_app: VCD answers 404 for /cloudapi/1.0.0/apps" in out_old


def test_wrong_password_unsupported_version_and_a_source_down_are_one_line_each(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    sim.set_release("az2", "future")
    with serve_in_thread(sim):
        config = sim.provider_config(tmp_path)
        (tmp_path / "secrets" / "az1-vcd.password").write_text("wrong\n", encoding="utf-8")
        text = config.read_text(encoding="utf-8")
        down = re.sub(
            r'cloudian_url = "[^"]*/az2/cloudian"', 'cloudian_url = "http://127.0.0.1:9"', text
        )
        config.write_text(down, encoding="utf-8")
        code, out = check(config, capsys)
        code_one, out_one = check(config, capsys, "--site", "az1")
    assert code == 1 and code_one == 1
    problems = re.findall(r"problem: (.*?)(?= problem:|$)", out)
    assert len(problems) == 3, out
    assert problems[0].startswith(
        "az1 vcd: VCD login as administrator@System refused (401): check vcd_user and the password"
    )
    assert problems[1].startswith(
        "az2 vcd: no VCD API version in common: the site offers 41.0; "
        "metering speaks 37.x, 38.x, 39.x"
    )
    assert problems[2].startswith("az2 cloudian:") and "unreachable" in problems[2]
    assert "wrong" not in out  # never a secret
    assert "site az2" not in out_one and out_one.count("problem:") == 1


def test_a_vcd_10_4_is_read_at_37_2_and_says_alp_cannot_be_read_there(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """VCD 10.4 speaks API 37.x and has no /cloudapi/1.0.0/apps: every other source of the
    site is read, and ALP is one problem line saying why."""
    sim = Simulation.from_sample_data(seed=7, start=START)
    sim.set_release("az2", "10.4")
    with serve_in_thread(sim):
        config = sim.provider_config(tmp_path)
        code, out = check(config, capsys, "--site", "az2")
    assert code == 1
    assert "site az2: plain HTTP (no TLS); API version 37.2" in out
    problems = re.findall(r"problem: (.*?)(?= problem:|$)", out)
    assert len(problems) == 1, out
    assert problems[0].startswith(
        "az2 alp: alp_app: VCD answers 404 for /cloudapi/1.0.0/apps: the app list needs "
        "VCD 10.5 (API 38.0) or later"
    )
    for source in ("cse", "dse", "ose"):
        assert re.search(rf"{source} (ok|quarantined) \w+: \d+ rows", out), source
    assert "GET /cloudapi/1.0.0/apps: 404 (missing)" in out
    assert "entity type vmware:capvcdCluster: 1.2.0" in out
    assert "entity type vmware:dsConfig: 0.1" in out
    assert "entity type vmware:dsInstance: 0.1" in out
    assert "GET /api/v1/core/tenants/{tenantId}/platform-usage: 200" in out


def test_a_failing_orgs_endpoint_is_a_problem_line_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    sim.faults.add("500", pattern="/az1/vcd/cloudapi/1.0.0/orgs*")
    with serve_in_thread(sim):
        config = sim.provider_config(tmp_path)
        code, out = check(config, capsys, "--site", "az1")
    assert code == 1 and "internal error" not in out and "Traceback" not in out
    assert re.search(r"GET /cloudapi/1\.0\.0/orgs: [^;]*HTTP 500", out), out
    assert re.search(r"problem: az1 vcd: [^;]*HTTP 500", out), out
