"""``python -m metering`` runs the CLI."""

from metering.cli import _entry

_entry()
