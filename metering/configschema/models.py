"""Every section and key of the provider config, as pydantic models.

This is the one list of what ``provider.toml`` may contain: a key that is not here is
refused on load (with the nearest valid name), and every number is range-checked here.
A component that reads a new key adds it to its section's model below (docs/operations.md,
"Adding a config key"); its settings module still turns the values into its own frozen
settings. Models are strict (``"30"`` is not a number) and forbid unknown keys.

The models check types, ranges and closed sets of values. What needs the file system, the
environment or another component (a secret's variable, a locale, a number format string)
stays in the component's settings module, which names the file and key the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


class Table(BaseModel):
    """A TOML table: strict types, unknown keys refused, immutable once loaded."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _check(predicate: Callable[[Any], bool], problem: str) -> AfterValidator:
    """A value check whose failure message is ``problem`` (never echoes the value)."""

    def check(value: Any) -> Any:
        if not predicate(value):
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _is_url(value: str) -> bool:
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


Url = Annotated[str, _check(_is_url, "must be an http(s) URL")]
PathText = Annotated[str, _check(lambda v: bool(v.strip()) and "\0" not in v, "must be a path")]
Name = Annotated[str, Field(min_length=1)]
Minutes = Annotated[int, Field(ge=1)]
Positive = Annotated[int, Field(ge=1)]
ClockTime = Annotated[
    str,
    _check(lambda v: re.fullmatch(r"\d{1,2}:\d{2}", v) is not None, "must be a time of day HH:MM"),
]
IsoDate = Annotated[
    str,
    _check(lambda v: re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) is not None, "must be YYYY-MM-DD"),
]
DecimalText = Annotated[
    str,
    _check(
        lambda v: re.fullmatch(r"[0-9]+(\.[0-9]+)?", v) is not None,
        'must be a non-negative decimal number written as a string, e.g. "0.21"',
    ),
]


def _divides_a_day(minutes: int) -> bool:
    return minutes > 0 and 1440 % minutes == 0


class PostalAddress(Table):
    """``postal_address = { street, postcode, city, country }``: the issuer's address as
    EN 16931 e-invoices carry it (BG-5; docs/reports.md "E-invoices")."""

    street: str = ""
    postcode: str = ""
    city: str = ""
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")]


class Branding(Table):
    """``[provider.branding]``: who issues the invoices (docs/reports.md); the last five
    keys are what EN 16931 e-invoices need of the issuer (metering.einvoice.parties)."""

    legal_name: str | None = None
    address: Annotated[
        Any,
        _check(
            lambda v: (
                isinstance(v, str)
                or (isinstance(v, list) and all(isinstance(line, str) for line in v))
            ),
            "must be a string or a list of strings",
        ),
    ] = None
    vat_id: str = ""
    email: str = ""
    website: str = ""
    bank: str = ""
    accent_color: Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")] = "#1f4e79"
    postal_address: PostalAddress | None = None
    peppol_endpoint_id: str = ""
    peppol_endpoint_scheme: Annotated[str, Field(pattern=r"^([0-9]{4})?$")] = ""
    iban: str = ""
    bic: str = ""


class Provider(Table):
    """``[provider]``: the provider's name and where its data lives."""

    name: Name
    tenant_catalog: PathText
    pricing_dir: PathText
    data_dir: PathText = "data"
    lake_dir: PathText | None = None
    warehouse: PathText | None = None
    out_dir: PathText | None = None
    timezone: Name = "UTC"
    sampling_interval_minutes: Annotated[
        int, _check(_divides_a_day, "must divide a day (e.g. 15, 30, 60)")
    ] = 60
    branding: Branding | None = None


class Site(Table):
    """``[[sites]]``: one availability zone's VCD, OSE and Cloudian endpoints."""

    name: Annotated[
        str,
        _check(
            lambda v: bool(v) and all(c.isalnum() or c in "-_" for c in v),
            "must be letters, digits, '-' or '_' (it names lake partitions)",
        ),
    ]
    vcd_url: Url
    vcd_user: Name
    vcd_password_env: Name | None = None
    vcd_password_file: PathText | None = None
    ose_url: Url | None = None
    cloudian_url: Url | None = None
    cloudian_user: Name = "sysadmin"
    cloudian_password_env: Name | None = None
    cloudian_password_file: PathText | None = None
    ca_bundle: PathText | None = None
    verify_tls: bool = True
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    concurrency: Positive = 4
    api_version: Annotated[str, Field(pattern=r"^\d+\.\d+$")] | None = None
    proxy: str | None = None  # checked in metering.config: the value is never echoed


class Lake(Table):
    """``[lake]``: a local root or an S3 bucket (docs/lake-on-s3.md)."""

    root: Name | None = None
    endpoint_url: Url | None = None
    region: Name | None = None
    ca_bundle: PathText | None = None
    timeout_seconds: Annotated[float, Field(gt=0)] = 30.0
    access_key_id_env: Name | None = None
    access_key_id_file: PathText | None = None
    secret_access_key_env: Name | None = None
    secret_access_key_file: PathText | None = None
    session_token_env: Name | None = None
    session_token_file: PathText | None = None


class Invoicing(Table):
    """``[invoicing]``: numbering, terms, workers and output places (docs/reports.md)."""

    invoice_number_format: Name = "INV-{year}-{seq:06d}"
    credit_note_number_format: Name = "CN-{year}-{seq:06d}"
    payment_terms_days: Annotated[int, Field(ge=0, le=365)] = 30
    default_locale: Name = "en_US"
    region_id: Name = "region-1"
    # FOCUS charge rows per whole month or per day of usage (docs/reports.md)
    focus_period: Literal["month", "day"] = "month"
    workers: Annotated[int, Field(ge=1, le=64)] = 2
    batch_tenants: Positive = 250
    # "register" would shadow BaseModel.register: the key keeps its name through the alias
    register_path: PathText | None = Field(default=None, alias="register")
    out_dir: PathText | None = None
    replication_factors: dict[str, DecimalText] = {}


class Close(Table):
    """``[close]``: the completeness gate (docs/operations.md)."""

    grace_hours: Annotated[int, Field(ge=0)] = 2
    coverage_threshold: Annotated[
        DecimalText, _check(lambda v: Decimal(v) <= 1, "must be between 0 and 1 (a fraction)")
    ] = "0.95"


class Rating(Table):
    """``[rating]``: defaults, consolidation and DuckDB's memory cap."""

    default_plan: Name = "standard"
    default_tax_rate: Annotated[
        DecimalText, _check(lambda v: Decimal(v) < 1, "is a fraction (0.21 = 21 %)")
    ] = "0"
    gap_intervals: Positive = 2
    dse_vcpus_per_core: DecimalText = "1"
    dse_include_sidecars: bool = False
    series_site_order: list[Name] | None = None
    stale_days: Literal["reconsolidate", "refuse"] = "reconsolidate"
    memory_limit: Annotated[
        str,
        _check(
            lambda v: re.fullmatch(r"[1-9][0-9]*(MB|GB)", v) is not None,
            'must be a size like "3GB" or "1500MB"',
        ),
    ] = "3GB"


class Scheduler(Table):
    """``[scheduler]``: when the pipelines run (docs/operations.md)."""

    timezone: Name | None = None
    nightly_at: ClockTime | None = None
    close_day: (
        Annotated[int, _check(lambda v: 1 <= v <= 28, "must be 1..28 (a day every month has)")]
        | None
    ) = None
    close_at: ClockTime | None = None
    start_date: IsoDate | None = None
    misfire_grace_minutes: Minutes = 30
    retry_delay_minutes: Minutes = 60
    max_attempts: Positive = 3
    pipelines_dir: PathText | None = None


class Alerts(Table):
    """``[alerts]``: who hears of a close that waits for a person."""

    command: list[Name] = []
    webhook_url: Url | None = None
    webhook_url_env: Name | None = None
    webhook_url_file: PathText | None = None
    timeout_seconds: Annotated[int, Field(ge=1, le=600)] = 10


Event = Literal["invoice.issued", "credit_note.issued", "close.blocked"]


class Webhook(Table):
    """``[[portal.webhooks]]``: one subscriber to signed event posts."""

    url: Url
    secret_env: Name | None = None
    secret_file: PathText | None = None
    events: list[Event] | None = None


class Portal(Table):
    """``[portal]``: the tenant portal and billing API (docs/portal.md)."""

    host: Name = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535)] = 8800
    secure_cookies: bool = True
    session_idle_minutes: Minutes = 30
    session_max_hours: Positive = 8
    login_attempts: Positive = 5
    login_window_seconds: Positive = 300
    webhooks: list[Webhook] = []


class Collect(Table):
    """``[collect]``: ``[collect.limits.<dataset>] <column> = maximum`` (checked against the
    collectors' own bounds in :func:`metering.configschema.limits_model`)."""

    limits: dict[str, dict[str, int]] = {}


class Commerce(Table):
    """``[commerce]``: the keyed hash behind customer labels (docs/reports.md)."""

    hash_labels: bool = True
    label_key_env: Name | None = None
    label_key_file: PathText | None = None


class Costs(Table):
    """``[costs]``: where the provider's cost cards are (default ``<pricing_dir>/costs``;
    docs/metering-rules.md, "Cost cards and margin")."""

    dir: PathText | None = None


class ProviderFile(Table):
    """The whole ``provider.toml``."""

    provider: Provider
    sites: Annotated[list[Site], Field(min_length=1)]
    lake: Lake | None = None
    invoicing: Invoicing = Invoicing()
    close: Close = Close()
    rating: Rating = Rating()
    scheduler: Scheduler = Scheduler()
    alerts: Alerts = Alerts()
    portal: Portal = Portal()
    collect: Collect = Collect()
    commerce: Commerce = Commerce()
    costs: Costs = Costs()
