"""VCD API version negotiation: parsing ``/api/versions``, choosing, and what a collection
records (the version in the run log; no version in common fails the site in one line)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from metering.config import load_config
from metering.errors import SourceDataError
from metering.lake import store
from metering.simulator import Simulation, serve_in_thread
from metering.sources.collect import collect
from metering.sources.versions import choose_version, parse_versions

START = datetime(2026, 10, 1, tzinfo=UTC)
XML = (
    b'<?xml version="1.0"?><SupportedVersions xmlns="http://www.vmware.com/vcloud/v1.5">'
    b'<VersionInfo deprecated="true"><Version>36.3</Version></VersionInfo>'
    b'<VersionInfo deprecated="false"><Version>38.1</Version></VersionInfo>'
    b'<VersionInfo deprecated="false"><Version>37.2</Version></VersionInfo>'
    b'<VersionInfo deprecated="false"><Version>40.0</Version></VersionInfo>'
    b"</SupportedVersions>"
)


def test_parse_and_choose_the_highest_verified_version_under_the_pin() -> None:
    offered = parse_versions(XML, site="az1")
    assert offered == ("36.3", "37.2", "38.1", "40.0")
    assert choose_version(offered, None, site="az1") == "38.1"  # 40.0 is not verified
    assert choose_version(offered, "38.0", site="az1") == "37.2"
    with pytest.raises(SourceDataError) as err:
        choose_version(offered, "36.9", site="az1")
    assert str(err.value) == (
        "no VCD API version in common at or below api_version 36.9: the site offers "
        "36.3, 37.2, 38.1, 40.0; metering speaks 37.x, 38.x, 39.x [site=az1]"
    )


def test_a_document_type_or_a_wrong_root_is_refused() -> None:
    bomb = b'<!DOCTYPE x [<!ENTITY a "aaaa">]><SupportedVersions/>'
    with pytest.raises(SourceDataError, match="document type"):
        parse_versions(bomb, site="az1")
    with pytest.raises(SourceDataError, match="expected SupportedVersions"):
        parse_versions(b"<Error/>", site="az1")
    with pytest.raises(SourceDataError, match="not XML"):
        parse_versions(b"{}", site="az1")


def test_each_site_is_read_at_its_own_version_and_the_run_log_says_which(tmp_path: Path) -> None:
    sim = Simulation.from_sample_data(seed=7, start=START)
    sim.set_release("az1", "10.4")
    sim.set_release("az2", "future")
    with serve_in_thread(sim) as server:
        config = load_config(sim.provider_config(tmp_path))
        summary = collect(config, START, sources=["vcd"])
    by_site = {r.site: r for r in summary.results}
    assert by_site["az1"].status == "ok" and by_site["az1"].api_version == "37.2"
    assert by_site["az2"].status == "failed"
    assert by_site["az2"].error == (
        "no VCD API version in common: the site offers 41.0; "
        "metering speaks 37.x, 38.x, 39.x [site=az2]"
    )
    runs = store.read_dataset(config.lake, "runs").to_pylist()
    assert {(r["site"], r["api_version"]) for r in runs} == {("az1", "37.2"), ("az2", None)}
    assert server  # served until here
