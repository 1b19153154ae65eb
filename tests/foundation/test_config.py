"""Provider config: validated on load, errors name the file and key, secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from metering.config import Secret, load_config
from metering.errors import ConfigError

GOOD = """
[provider]
name = "Example Cloud"
tenant_catalog = "tenants.toml"
pricing_dir = "pricing"
timezone = "Europe/Amsterdam"

[[sites]]
name = "az1"
vcd_url = "https://vcd.az1.example"
vcd_user = "metering@System"
vcd_password_env = "TEST_VCD_PW"
cloudian_url = "https://cloudian.az1.example:19443"
cloudian_password_file = "cloudian.secret"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "provider.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_resolves_paths_and_secrets(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("TEST_VCD_PW", "s3cret-vcd")
    (tmp_path / "cloudian.secret").write_text("s3cret-cloudian\n", encoding="utf-8")
    config = load_config(write(tmp_path, GOOD))
    site = config.site("az1")
    assert site.vcd_password.reveal() == "s3cret-vcd"
    assert site.cloudian_password is not None
    assert site.cloudian_password.reveal() == "s3cret-cloudian"
    assert site.verify_tls is True
    assert config.lake_dir == (tmp_path / "data" / "lake").resolve()
    assert config.tenant_catalog == (tmp_path / "tenants.toml").resolve()
    assert "s3cret" not in repr(config)
    assert "s3cret" not in repr(site)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("https://vcd.az1.example", "ftp://x"), "[sites[0]] vcd_url: must be an http(s) URL"),
        (('timezone = "Europe/Amsterdam"', 'timezone = "Mars/Base"'), "timezone: unknown"),
        (
            ('vcd_password_env = "TEST_VCD_PW"', 'vcd_password = "plain"'),
            "secrets are not written in the config",
        ),
        (('name = "az1"', 'name = "az 1"'), "[sites[0]] name"),
    ],
)
def test_bad_config_names_the_key(tmp_path, monkeypatch, edit, message) -> None:
    monkeypatch.setenv("TEST_VCD_PW", "x")
    (tmp_path / "cloudian.secret").write_text("y", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace(*edit)))
    assert message in str(err.value)
    assert "provider.toml" in str(err.value)


def test_missing_env_secret_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("TEST_VCD_PW", raising=False)
    (tmp_path / "cloudian.secret").write_text("y", encoding="utf-8")
    with pytest.raises(ConfigError, match="TEST_VCD_PW is not set"):
        load_config(write(tmp_path, GOOD))


def test_invalid_toml_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[provider\nname="))


def test_secret_never_prints() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in f"{secret} {secret!r}"
