"""One error root for everything a user of `metering` can see.

Tree::

    MeteringError                  root; `str(err)` is one clear line for the user
    ├── TransientError             retrying later may succeed (network, 429/5xx, a site down)
    │   └── SourceUnavailable      a site or source could not be reached after retries
    └── TerminalError              a person must act; retrying the same input fails the same way
        ├── ConfigError            a provider config or tenant catalog is wrong (names file/key)
        │   └── UsageError         a command-line option or argument is wrong: exit 2 + usage
        ├── MissingExtra           an optional extra is not installed (names the pip command)
        ├── PricingError           a pricing policy is wrong (names file, key, line)
        ├── SourceDataError        an API answered with something we cannot bill on
        ├── LakeError              the lake is unreadable or inconsistent
        ├── RatingError            rating or an audit found bad rows
        ├── CloseError             a month cannot be closed (missing night, frozen period, ...)
        │   └── IncompleteMonth    the completeness gate refused: one line per problem
        └── LockError              another run holds the pipeline lock

Errors carry the context they know (site, source, tenant, window) so the one line says
where. "No data" is a normal result, never an error.
"""

from __future__ import annotations


class MeteringError(Exception):
    """Root of every error a user may see."""

    def __init__(
        self,
        message: str,
        *,
        site: str | None = None,
        source: str | None = None,
        tenant: str | None = None,
        window: object | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.site = site
        self.source = source
        self.tenant = tenant
        self.window = window

    def __str__(self) -> str:
        where = [
            f"{name}={value}"
            for name, value in (
                ("site", self.site),
                ("source", self.source),
                ("tenant", self.tenant),
                ("window", self.window),
            )
            if value is not None
        ]
        return f"{self.message} [{', '.join(where)}]" if where else self.message


class TransientError(MeteringError):
    """Retrying later may succeed."""


class SourceUnavailable(TransientError):
    """A site or source could not be reached after the configured retries."""


class TerminalError(MeteringError):
    """A person must act: the same input will fail the same way."""


class ConfigError(TerminalError):
    """A provider config or tenant catalog is invalid; the message names the file and key."""


class UsageError(ConfigError):
    """A command-line option or argument is wrong (names the option); the CLI prints the
    command's usage line and exits 2, as for a mistyped option."""


class MissingExtra(TerminalError):
    """A feature needs an optional extra that is not installed; the message names the
    ``pip install 'metering[extra]'`` to run."""


class PricingError(TerminalError):
    """A pricing policy is invalid; the message names the file, key and line."""


class SourceDataError(TerminalError):
    """A source answered with data we cannot bill on (missing or malformed billed field)."""


class LakeError(TerminalError):
    """The lake is unreadable or inconsistent."""


class RatingError(TerminalError):
    """Rating failed, or an audit returned bad rows."""


class CloseError(TerminalError):
    """A month cannot be closed as asked."""


class IncompleteMonth(CloseError):
    """The completeness gate refused a final close (or held tenants); the message has one
    line per problem, each naming site, source, day and the command that fixes it."""


class LockError(TerminalError):
    """Another scheduler or manual run holds the pipeline lock."""
