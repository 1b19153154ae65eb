"""Hostile or broken provider.toml, rate cards, tenant catalogs and command-line arguments:
each is one error line naming what is wrong (exit 1, or click's usage message for a
mistyped option), never an internal error or a traceback, never a silent acceptance."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from metering.cli import main
from metering.resources import resource_dir

GOOD = """[provider]
name = "x"
data_dir = "data"
tenant_catalog = "tenants.toml"
pricing_dir = "pricing"

[[sites]]
name = "az1"
vcd_url = "http://127.0.0.1:9/az1/vcd"
vcd_user = "admin"
vcd_password_file = "vcd.secret"
"""
CARD = """[rate_card]
id = "zz"
policy = "standard"
currency = "EUR"
effective_from = 2027-01-01T00:00:00Z

[[rates]]
product = "vcpu"
unit_price = "{price}"
"""
TENANT = '[[tenants]]\nid = "{id}"\nbilling_name = "A"\norgs = ["a"]\n{extra}\n'
RATE = ["rate", "--month", "2026-10"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "pricing").mkdir()
    for card in resource_dir("pricing").glob("*.toml"):
        shutil.copy(card, tmp_path / "pricing")
    (tmp_path / "tenants.toml").write_text(TENANT.format(id="a", extra=""), encoding="utf-8")
    (tmp_path / "vcd.secret").write_text("pw", encoding="utf-8")
    return tmp_path


def _run(workdir: Path, args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main([*args, "-c", str(workdir / "provider.toml")])
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err


CASES = {
    # provider.toml
    "config-not-utf8": (
        {"provider.toml": b"\xff\xfe\x00[provider]"},
        RATE,
        r"^error: cannot read provider config .*provider\.toml: not UTF-8 text \(byte 0\)$",
    ),
    "config-nested-too-deep": (
        {"provider.toml": GOOD + "[extra]\na = " + "[" * 5000 + "]" * 5000 + "\n"},
        RATE,
        r"^error: provider\.toml: invalid TOML: nested too deeply$",
    ),
    "config-nul-in-path": (
        {"provider.toml": GOOD.replace('"data"', '"da\\u0000ta"')},
        RATE,
        r"^error: provider\.toml: \[provider\] data_dir: must be a path$",
    ),
    "config-unknown-section": (
        {"provider.toml": GOOD + "\n[invoicng]\nworkers = 1\n"},
        RATE,
        r"^error: provider\.toml: unknown section \[invoicng\]; did you mean \[invoicing\]\?$",
    ),
    "config-unknown-key": (
        {"provider.toml": GOOD + '\n[provider.branding]\ncolour = "red"\n'},
        RATE,
        r"^error: provider\.toml: unknown key `colour` in \[provider\.branding\]; "
        r"did you mean `accent_color`\?$",
    ),
    "config-key-in-another-table": (
        {"provider.toml": GOOD.replace("[provider]\n", "[provider]\npayment_terms = 5\n")},
        RATE,
        r"^error: provider\.toml: unknown key `payment_terms` in \[provider\]; "
        r"did you mean `payment_terms_days` in \[invoicing\]\?$",
    ),
    "config-out-of-range": (
        {"provider.toml": GOOD + "\n[invoicing]\npayment_terms_days = -5\n"},
        RATE,
        r"^error: provider\.toml: \[invoicing\] payment_terms_days: must be 0 or more, got -5$",
    ),
    "config-string-for-a-number": (
        {"provider.toml": GOOD + '\n[portal]\nport = "8800"\n'},
        RATE,
        r"^error: provider\.toml: \[portal\] port: must be an integer, got a string$",
    ),
    "config-site-key": (
        {"provider.toml": GOOD + "verify_ssl = false\n"},
        RATE,
        r"^error: provider\.toml: unknown key `verify_ssl` in \[sites\[0\]\]; "
        r"did you mean `verify_tls`\?$",
    ),
    "config-limit-column": (
        {"provider.toml": GOOD + "\n[collect.limits.vcd_vm]\ncpus = 1024\n"},
        RATE,
        r"^error: provider\.toml: unknown key `cpus` in \[collect\.limits\.vcd_vm\]; "
        r"did you mean `vcpu`\?$",
    ),
    "data-dir-in-proc": (
        {"provider.toml": GOOD.replace('"data"', '"/proc/metering-data"')},
        RATE,
        r"^error: provider\.toml: \[provider\] data_dir: cannot use /proc/metering-data as a "
        r"directory to write to \(No such file or directory\)$",
    ),
    "data-dir-under-a-file": (
        {"provider.toml": GOOD.replace('"data"', '"vcd.secret/data"')},
        ["close", "--month", "2026-10"],
        r"^error: .*\[provider\] data_dir: cannot use .*vcd\.secret/data .*\(Not a directory\)$",
    ),
    # rate cards
    "card-not-utf8": (
        {"provider.toml": GOOD, "pricing/zz.toml": b"\x00\xff\xfe"},
        RATE,
        r"^error: zz\.toml: cannot read: not UTF-8 text \(byte 1\)$",
    ),
    "card-nested-too-deep": (
        {"provider.toml": GOOD, "pricing/zz.toml": "a = " + "[" * 5000 + "]" * 5000},
        RATE,
        r"^error: zz\.toml: invalid TOML: nested too deeply$",
    ),
    "card-price-huge-exponent": (
        {"provider.toml": GOOD, "pricing/zz.toml": CARD.format(price="1e999999")},
        RATE,
        r"^error: zz\.toml:9: rates\[0\]\.unit_price: '1e999999' has more than 9 decimals or is "
        r"too large$",
    ),
    "card-price-30-digits": (
        {"provider.toml": GOOD, "pricing/zz.toml": CARD.format(price="1" * 30)},
        RATE,
        r"^error: zz\.toml:9: rates\[0\]\.unit_price: '1{30}' has more than 9 decimals",
    ),
    # tenant catalog
    "catalog-not-utf8": (
        {"provider.toml": GOOD, "tenants.toml": b"\xc3\x28"},
        RATE,
        r"^error: cannot read tenant catalog tenants\.toml: not UTF-8 text \(byte 0\)$",
    ),
    "catalog-discount-huge-exponent": (
        {
            "provider.toml": GOOD,
            "tenants.toml": TENANT.format(id="a", extra='discount_percent = "1e99999"'),
        },
        RATE,
        r"^error: tenants\.toml:5: tenants\[0\]\.discount_percent: must be a non-negative "
        r"number below 1,000,000,000 with at most 9 decimals, got '1e99999'$",
    ),
    "catalog-unknown-locale": (
        {"provider.toml": GOOD, "tenants.toml": TENANT.format(id="a", extra='locale = "xx_ZZ"')},
        RATE,
        r"^error: tenants\.toml:5: tenants\[0\]\.locale: unknown locale 'xx_ZZ'",
    ),
    "catalog-tenant-id-with-nul": (
        {"provider.toml": GOOD, "tenants.toml": TENANT.format(id="a\\u0000", extra="")},
        RATE,
        r"^error: tenants\.toml:2: tenants\[0\]\.id: must be 1-128 printable characters",
    ),
    "catalog-tenant-id-a-path": (
        {"provider.toml": GOOD, "tenants.toml": TENANT.format(id="../../etc/x", extra="")},
        RATE,
        r"^error: tenants\.toml:2: tenants\[0\]\.id: must be .*got '\.\./\.\./etc/x'$",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_hostile_input_file_is_one_error_line(
    workdir: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    files, args, pattern = CASES[case]
    for name, content in files.items():
        path = workdir / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    code, err = _run(workdir, args, capsys)
    assert code == 1
    assert len(err.splitlines()) == 1, err
    assert re.search(pattern, err), err
    assert not (workdir / "data" / "lake" / "rating").exists()  # nothing rated from it


@pytest.mark.parametrize(
    "args",
    [
        ["consolidate", "--date", "2026-10-01"],  # the option is --day
        ["close", "--mnth", "2026-10"],
        ["rate", "--month"],
        ["no-such-command"],
    ],
)
def test_a_mistyped_command_line_is_a_usage_message(
    workdir: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    (workdir / "provider.toml").write_text(GOOD, encoding="utf-8")
    code, err = _run(workdir, args, capsys)
    assert code == 2
    assert "Usage:" in err and "Error:" in err


def test_an_unwritable_data_dir_is_one_line_for_every_command_that_writes(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if os.geteuid() != 0:
        readonly = workdir / "ro"
        readonly.mkdir(mode=0o500)
        data_dir = str(readonly / "data")
    else:  # root writes anywhere a mode allows: /proc refuses even root
        data_dir = "/proc/metering-data"
    (workdir / "provider.toml").write_text(GOOD.replace('"data"', f'"{data_dir}"'), "utf-8")
    for args in (
        ["collect"],
        RATE,
        ["close", "--month", "2026-10"],
        ["sql", "select 1"],
        ["run", "nightly", "--date", "2026-10-01"],
        ["scheduler", "--once"],
    ):
        code, err = _run(workdir, args, capsys)
        assert code == 1, args
        assert err.splitlines()[-1].startswith("error: provider.toml: [provider] data_dir: ")
