"""The provider config: one TOML file, validated once on load, passed in explicitly.

The whole file is first checked against its schema (:mod:`metering.configschema`, pydantic
models that refuse unknown keys and sections and check ranges); a new key is added there.
Core keys are then parsed here into frozen dataclasses. Each component (collectors, rating,
close, scheduler) parses its own ``[section]`` into its own frozen settings with
:func:`section` and the ``require_*`` helpers below, so errors always name the file and
the key (``provider.toml: sites[1].vcd_url: must be an http(s) URL``).

Secrets never appear in the file itself: a credential is given as ``*_env`` (the name of
an environment variable) or ``*_file`` (a path whose content is the secret). They are
resolved into :class:`Secret`, whose ``repr``/``str`` never shows the value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from metering import tomlfile
from metering.configschema import validate_provider_file
from metering.errors import ConfigError, LakeError
from metering.lake.storage import LakePath, ObjectPath, s3_root


class Secret:
    """A credential that never prints itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Section:
    """A view of one table of a TOML file that names the file, table and key in errors:
    ``provider.toml: [invoicing] workers: must be at least 1`` (the form of
    :mod:`metering.configschema`'s errors)."""

    def __init__(self, data: Mapping[str, Any], where: str, table: str = "") -> None:
        self.data = data
        self.where = where  # the file's name
        self.table = table  # the table's dotted name ("" for the top of the file)

    def error(self, key: str, problem: str) -> ConfigError:
        table = f"[{self.table}]" if self.table else ""
        at = " ".join(part for part in (table, key) if part)
        return ConfigError(f"{self.where}: {at}: {problem}" if at else f"{self.where}: {problem}")

    def get(self, key: str, kind: type, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                raise self.error(key, "is required")
            return default
        value = self.data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.error(key, f"must be {kind.__name__}, got {type(value).__name__}")
        return value

    def url(self, key: str, default: Any = ...) -> str | None:
        value = self.get(key, str, default)
        if value is None:
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise self.error(key, f"must be an http(s) URL, got {value!r}")
        return str(value).rstrip("/")

    def path(self, key: str, base: Path, default: Any = ...) -> Path:
        value = self.get(key, str, default)
        if isinstance(value, Path):
            return value
        if "\0" in value or not value.strip():
            raise self.error(key, f"must be a path, got {value!r}")
        return (base / Path(value)).resolve()

    def secret(self, key: str, base: Path, *, required: bool = True) -> Secret | None:
        """Resolve ``<key>_env`` or ``<key>_file``; a literal ``<key>`` is refused."""
        if key in self.data:
            raise self.error(
                key, f"secrets are not written in the config; use {key}_env or {key}_file"
            )
        env, file = self.data.get(f"{key}_env"), self.data.get(f"{key}_file")
        if env is not None:
            if not isinstance(env, str):
                raise self.error(f"{key}_env", "must be the name of an environment variable")
            if env not in os.environ:
                raise self.error(f"{key}_env", f"environment variable {env} is not set")
            return Secret(os.environ[env])
        if file is not None:
            if not isinstance(file, str):
                raise self.error(f"{key}_file", "must be a path")
            path = (base / file).resolve()
            try:
                return Secret(path.read_text(encoding="utf-8").strip())
            except OSError as exc:
                raise self.error(f"{key}_file", f"cannot read {path}: {exc.strerror}") from None
        if required:
            raise self.error(key, f"is required (as {key}_env or {key}_file)")
        return None

    def sub(self, key: str) -> Section:
        value = self.data.get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return Section(value, self.where, f"{self.table}.{key}" if self.table else key)


@dataclass(frozen=True)
class SiteConfig:
    """One availability zone: its VCD (with CSE, ALP, DSE), OSE and Cloudian endpoints."""

    name: str
    vcd_url: str
    vcd_user: str
    vcd_password: Secret
    ose_url: str | None
    cloudian_url: str | None
    cloudian_user: str
    cloudian_password: Secret | None
    ca_bundle: Path | None = None
    verify_tls: bool = True
    timeout_seconds: float = 30.0
    concurrency: int = 4
    api_version: str | None = None  # a maximum (pin); None: the highest verified one offered
    proxy: Secret | None = None  # an HTTP(S) proxy URL; may carry credentials


@dataclass(frozen=True)
class ProviderConfig:
    """The whole provider: sites, where data lives, and each component's raw section."""

    name: str
    source_file: Path
    data_dir: Path
    lake: LakePath  # a local directory or an s3:// root (metering.lake.storage)
    warehouse_path: Path
    out_dir: Path
    tenant_catalog: Path
    pricing_dir: Path
    timezone: ZoneInfo
    sampling_interval: timedelta
    sites: tuple[SiteConfig, ...]
    raw: Mapping[str, Any] = field(repr=False)

    @property
    def lake_dir(self) -> Path:
        """The lake as a local directory; a step that only works on a local lake asks here,
        so on an S3 lake it fails with a clear error instead of writing to the local disk."""
        if isinstance(self.lake, ObjectPath):
            raise LakeError(f"lake {self.lake}: this step needs a local lake directory")
        return self.lake

    def require_writable(self) -> None:
        """Stop with one config error when a directory metering writes to cannot be created
        or written (``data_dir`` on a read-only mount, under a file, in ``/proc``), instead
        of an internal ``FileNotFoundError`` from the first step that writes there."""
        wanted = [("data_dir", self.data_dir), ("out_dir", self.out_dir)]
        wanted.append(("warehouse", self.warehouse_path.parent))
        if isinstance(self.lake, Path):
            wanted.append(("lake_dir", self.lake))
        for key, directory in wanted:
            try:
                directory.mkdir(parents=True, exist_ok=True)
                writable = os.access(directory, os.W_OK | os.X_OK)
            except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
                problem = getattr(exc, "strerror", None) or str(exc)
            else:
                if writable:
                    continue
                problem = "not writable by this user"
            raise ConfigError(
                f"{self.source_file.name}: [provider] {key}: cannot use {directory} as a "
                f"directory to write to ({problem})"
            )

    def section(self, name: str) -> Section:
        """The ``[name]`` table, for a component to parse into its own settings."""
        return Section(self.raw, self.source_file.name).sub(name)

    def site(self, name: str) -> SiteConfig:
        for site in self.sites:
            if site.name == name:
                return site
        raise ConfigError(f"{self.source_file.name}: no site named {name!r}")


def _parse_site(s: Section, base: Path) -> SiteConfig:
    name = s.get("name", str)
    if not name or not all(c.isalnum() or c in "-_" for c in name):
        raise s.error("name", "must be letters, digits, '-' or '_' (it names lake partitions)")
    ca = s.get("ca_bundle", str, None)
    concurrency = s.get("concurrency", int, 4)
    if concurrency < 1:
        raise s.error("concurrency", "must be at least 1")
    timeout = s.get("timeout_seconds", float, 30.0)
    if timeout <= 0:
        raise s.error("timeout_seconds", "must be positive")
    vcd_url = s.url("vcd_url")
    assert vcd_url is not None
    cloudian_url = s.url("cloudian_url", None)
    return SiteConfig(
        name=name,
        vcd_url=vcd_url,
        vcd_user=s.get("vcd_user", str),
        vcd_password=s.secret("vcd_password", base),  # type: ignore[arg-type]
        ose_url=s.url("ose_url", None),
        cloudian_url=cloudian_url,
        cloudian_user=s.get("cloudian_user", str, "sysadmin"),
        cloudian_password=s.secret("cloudian_password", base, required=cloudian_url is not None),
        ca_bundle=(base / ca).resolve() if ca else None,
        verify_tls=s.get("verify_tls", bool, True),
        timeout_seconds=timeout,
        concurrency=concurrency,
        api_version=_api_version(s),
        proxy=_proxy(s),
    )


def _api_version(s: Section) -> str | None:
    """``api_version``: optional highest VCD API version to use (``"38.0"``)."""
    value: str | None = s.get("api_version", str, None)
    if value is None:
        return None
    major, dot, minor = value.partition(".")
    if not (major.isdigit() and dot and minor.isdigit()):
        raise s.error("api_version", f"must look like 38.0, got {value!r}")
    return value


def _proxy(s: Section) -> Secret | None:
    """``proxy``: an http(s) proxy URL; the value is never echoed (it may hold a password)."""
    value = s.get("proxy", str, None)
    if value is None:
        return None
    try:
        parsed = urlparse(value)
        port_ok = parsed.port is None or parsed.port > 0
    except ValueError:
        port_ok = False
    if not port_ok or parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise s.error("proxy", "must be an http:// or https:// proxy URL with a host")
    return Secret(value)


def _parse_lake(top: Section, provider: Section, base: Path, data_dir: Path) -> LakePath:
    """``[lake] root`` (a local path or ``s3://bucket/prefix``) or ``[provider] lake_dir``."""
    lake = top.sub("lake")
    if "root" not in lake.data:
        if lake.data:
            raise lake.error("root", "is required when [lake] is given")
        return provider.path("lake_dir", base, str(data_dir / "lake"))
    if "lake_dir" in provider.data:
        raise provider.error("lake_dir", "give the lake either here or as [lake] root, not both")
    root = lake.get("root", str)
    if not root.startswith("s3://"):
        if "://" in root:
            raise lake.error("root", f"must be a local path or s3://bucket/prefix, got {root!r}")
        s3_keys = sorted(set(lake.data) - {"root"})
        if s3_keys:
            raise lake.error(s3_keys[0], "applies only to an s3:// root")
        return lake.path("root", base)
    bucket = root.removeprefix("s3://").split("/", 1)[0]
    if not bucket or not all(c.isalnum() or c in "-." for c in bucket):
        raise lake.error("root", f"must be s3://bucket/prefix with a valid bucket, got {root!r}")
    timeout = lake.get("timeout_seconds", float, 30.0)
    if timeout <= 0:
        raise lake.error("timeout_seconds", "must be positive")
    ca = lake.get("ca_bundle", str, None)
    key, secret = lake.secret("access_key_id", base), lake.secret("secret_access_key", base)
    token = lake.secret("session_token", base, required=False)
    assert key is not None and secret is not None
    return s3_root(
        root,
        access_key=key.reveal(),
        secret_key=secret.reveal(),
        session_token=token.reveal() if token else None,
        endpoint_url=lake.url("endpoint_url", None),
        region=lake.get("region", str, "us-east-1"),
        ca_bundle=(base / ca).resolve() if ca else None,
        timeout_seconds=timeout,
    )


def parse_config(raw: Mapping[str, Any], source_file: Path) -> ProviderConfig:
    """Validate a parsed TOML document into a :class:`ProviderConfig`: first against the
    schema (:mod:`metering.configschema`: unknown keys, types, ranges), then what needs the
    environment and the file system (secrets, time zones, paths)."""
    validate_provider_file(raw, source_file.name)
    base = source_file.parent
    top = Section(raw, source_file.name)
    provider = top.sub("provider")
    data_dir = provider.path("data_dir", base, "data")
    tz_name = provider.get("timezone", str, "UTC")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise provider.error("timezone", f"unknown time zone {tz_name!r}") from None
    minutes = provider.get("sampling_interval_minutes", int, 60)
    if minutes <= 0 or 1440 % minutes:
        raise provider.error("sampling_interval_minutes", "must divide a day (e.g. 15, 30, 60)")
    sites_raw = raw.get("sites", [])
    if not isinstance(sites_raw, list) or not sites_raw:
        raise top.error("sites", "at least one [[sites]] entry is required")
    sites = tuple(
        _parse_site(Section(entry, source_file.name, f"sites[{i}]"), base)
        for i, entry in enumerate(sites_raw)
    )
    names = [site.name for site in sites]
    if len(set(names)) != len(names):
        raise top.error("sites", f"site names must be unique, got {names}")
    return ProviderConfig(
        name=provider.get("name", str),
        source_file=source_file,
        data_dir=data_dir,
        lake=_parse_lake(top, provider, base, data_dir),
        warehouse_path=provider.path("warehouse", base, str(data_dir / "warehouse.duckdb")),
        out_dir=provider.path("out_dir", base, str(data_dir / "out")),
        tenant_catalog=provider.path("tenant_catalog", base),
        pricing_dir=provider.path("pricing_dir", base),
        timezone=tz,
        sampling_interval=timedelta(minutes=minutes),
        sites=sites,
        raw=raw,
    )


def load_config(path: Path) -> ProviderConfig:
    """Read and validate the provider config at ``path``."""
    text = tomlfile.read_text(
        path, lambda p: ConfigError(f"cannot read provider config {path}: {p}")
    )
    raw = tomlfile.parse(text, lambda problem: ConfigError(f"{path.name}: {problem}"))
    return parse_config(raw, path.resolve())
