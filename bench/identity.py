"""Are the rating outputs of this code identical to another's on the same lake?

``python -m bench.identity --config C --month 2026-10 --save before.json`` rates the month of
the lake ``C`` names and writes a digest of every column of every rating output (rows in
file order) and of the month's invoice lines and totals one by one; ``--compare
before.json`` rates again (with the code on the path now) and exits 1 naming each output
that differs. Run it once on the old code (e.g. ``git archive main`` unpacked elsewhere, on
``PYTHONPATH``) and once on the new one, against the same lake: rating is idempotent, so a
difference is the code's. ``--consolidate`` consolidates the month's days first, so that a
change to derive is compared too. A bench workdir's ``provider.toml`` and the demo's output (``out``
after ``metering demo``: its ``provider.toml``) are both lakes it can rate.

Only the rating outputs are digested: every invoice figure (lines, totals, the usage
appendix and the daily chart the close reads from ``rated_usage``) comes from them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

OUTPUTS = ("rated_usage", "invoice_lines", "invoice_totals", "unrated_usage")


def digest_file(path: Path) -> dict[str, Any]:
    """sha256 of every column's values in row order (one row group at a time), of each
    column alone (``columns``), and rows."""
    whole = hashlib.sha256()
    rows = 0
    parquet = pq.ParquetFile(path)
    names = parquet.schema_arrow.names
    each = {name: hashlib.sha256() for name in names}
    whole.update(json.dumps(names).encode())
    for batch in parquet.iter_batches(batch_size=65_536):
        rows += batch.num_rows
        for name in names:
            values = repr(batch.column(name).to_pylist()).encode()
            whole.update(name.encode())
            whole.update(values)
            each[name].update(values)
    columns = {name: h.hexdigest() for name, h in each.items()}
    return {"rows": rows, "sha256": whole.hexdigest(), "columns": columns}


def rate_and_digest(config_path: Path, month: str, consolidate: bool = False) -> dict[str, Any]:
    """Rate ``month`` of the lake ``config_path`` names and digest what was written; with
    ``consolidate``, every day of the month that has samples is consolidated first (so the
    digests cover derive as well as rating)."""
    from metering.config import load_config
    from metering.rating.consolidate import consolidate_day, has_samples
    from metering.rating.run import rate_month
    from metering.window import Window

    config, window = load_config(config_path), Window.parse_month(month)
    if consolidate:
        for day in window.days():
            if has_samples(config.lake, day):
                consolidate_day(config, day)
    result = rate_month(config, window)
    digests: dict[str, Any] = {name: digest_file(Path(result.paths[name])) for name in OUTPUTS}
    totals = pq.read_table(result.paths["invoice_totals"], columns=["tenant_id", "total_amount"])
    digests["totals"] = {
        str(t): str(a)
        for t, a in zip(
            totals.column("tenant_id").to_pylist(),
            totals.column("total_amount").to_pylist(),
            strict=True,
        )
    }
    return digests


def differences(
    before: dict[str, Any], after: dict[str, Any], dropped: frozenset[str] = frozenset()
) -> list[str]:
    """One line per output (or tenant total) that is not identical. ``dropped`` names
    columns (``table.column``) the new code no longer writes on purpose: such an output is
    compared on the columns both have, and any other added or missing column differs."""
    lines = []
    for name in OUTPUTS:
        old, new = before.get(name) or {}, after.get(name) or {}
        gone = {c for c in dropped if c.startswith(f"{name}.")}
        if not gone:
            if old.get("rows") != new.get("rows") or old.get("sha256") != new.get("sha256"):
                lines.append(f"{name}: {old} before, {new} now")
            continue
        old_cols, new_cols = old.get("columns", {}), new.get("columns", {})
        expected = {c for c in old_cols if f"{name}.{c}" not in gone}
        if old.get("rows") != new.get("rows") or set(new_cols) != expected:
            lines.append(
                f"{name}: rows {old.get('rows')} → {new.get('rows')}, "
                f"columns {sorted(old_cols)} → {sorted(new_cols)} (dropped on purpose: "
                f"{sorted(gone)})"
            )
            continue
        for column in sorted(expected):
            if old_cols[column] != new_cols[column]:
                lines.append(f"{name}.{column}: differs")
    old, new = before.get("totals", {}), after.get("totals", {})
    for tenant in sorted(set(old) | set(new)):
        if old.get(tenant) != new.get(tenant):
            lines.append(f"total of {tenant}: {old.get(tenant)} before, {new.get(tenant)} now")
    return lines


def _rows(digests: dict[str, Any]) -> str:
    return ", ".join(f"{name} {digests[name]['rows']} rows" for name in OUTPUTS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.identity", description=__doc__)
    parser.add_argument("--config", type=Path, required=True, help="provider.toml of the lake")
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument(
        "--consolidate",
        action="store_true",
        help="consolidate every day of the month with samples first (derive and rate)",
    )
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--save", type=Path, help="write the digests here")
    what.add_argument("--compare", type=Path, help="compare with digests saved earlier")
    parser.add_argument(
        "--dropped",
        action="append",
        default=[],
        metavar="TABLE.COLUMN",
        help="a column the new code no longer writes on purpose (compare the others)",
    )
    args = parser.parse_args(argv)
    digests = rate_and_digest(args.config, args.month, args.consolidate)
    if args.save:
        args.save.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n", "utf-8")
        print(f"saved: {_rows(digests)}")
        return 0
    before = json.loads(args.compare.read_text(encoding="utf-8"))
    found = differences(before, digests, frozenset(args.dropped))
    for line in found:
        print(line)
    if found:
        return 1
    kept = f" (all but {', '.join(args.dropped)})" if args.dropped else ""
    print(f"identical{kept}: {_rows(digests)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
