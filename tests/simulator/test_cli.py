"""`metering simulate`: its help and its fault syntax."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from metering.cli import app, main
from metering.cli.simulate import parse_fault
from metering.errors import ConfigError
from metering.simulator import FaultRule


def test_help_documents_sites_scale_seed_clock_and_faults() -> None:
    result = CliRunner().invoke(app, ["simulate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--seed", "--month", "--now", "--tick", "--vms", "--clusters", "--tenants",
                   "--sites", "--port", "--fault", "--token-lifetime", "--config-out",
                   "--vcd-release"):  # fmt: skip
        assert option in result.output
    assert "/<site>/vcd" in result.output


def test_fault_option_syntax() -> None:
    rule = parse_fault("kind=429,pattern=*/api/query*,rate=0.25,retry_after=3")
    assert rule == {"kind": "429", "pattern": "*/api/query*", "rate": 0.25, "retry_after": 3}
    assert FaultRule.from_json(rule).retry_after == 3
    down = FaultRule.from_json(parse_fault("kind=site_down,site=az2,start=2026-10-10T05:00Z"))
    assert down.end is not None and (down.end - down.start).total_seconds() == 3600  # type: ignore[operator]
    with pytest.raises(ConfigError, match="key=value"):
        parse_fault("kind")
    with pytest.raises(ConfigError, match="number"):
        parse_fault("kind=500,rate=lots")


def test_bad_fault_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--fault", "kind=teapot", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "unknown fault kind" in err and "Traceback" not in err


def test_bad_vcd_release_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["simulate", "--vcd-release", "az1=9.9", "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "--vcd-release 'az1=9.9': unknown VCD release '9.9'" in err and "Traceback" not in err
