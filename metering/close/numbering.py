"""Document numbers are anchored outside the register: in the issued documents on disk.

The register hands out gap-free numbers from its own sequences, so a register that is lost,
replaced by a new file or restored from an older backup would hand out numbers already
issued (INV-2026-000001 again, for other totals). Before a close issues anything it checks
that the register knows every document number under ``out_dir/invoices`` and
``out_dir/credit_notes`` (the PDFs are named by number), for this provider; otherwise it
stops with one line saying what to do. A provider renamed in the config finds its
documents under the old name: renaming is ``metering register rename-provider``
(docs/operations.md).
"""

from __future__ import annotations

from pathlib import Path

from metering.close.register import Register
from metering.close.settings import InvoicingSettings
from metering.errors import CloseError

FOLDERS = ("invoices", "credit_notes")


def numbers_on_disk(out_dir: Path) -> dict[str, Path]:
    """Every issued document's number under ``out_dir`` → its PDF."""
    found: dict[str, Path] = {}
    for folder in FOLDERS:
        base = out_dir / folder
        if base.is_dir():
            found.update((pdf.stem, pdf) for pdf in base.glob("*/*.pdf"))
    return found


def check_register(settings: InvoicingSettings, register: Register) -> None:
    """Stop the close when the register is not the one the documents on disk came from."""
    on_disk = numbers_on_disk(settings.out_dir)
    if not on_disk:
        return
    known = register.numbers()
    unknown = sorted(n for n in on_disk if n not in known)
    others = sorted({known[n] for n in on_disk if n in known and known[n] != register.provider})
    if others and register.provider not in known.values():
        old = others[0]
        raise CloseError(
            f"the invoice register {register.path} issued the documents in {settings.out_dir} "
            f"as provider {old!r}, and the config names {register.provider!r}: if the provider "
            f"was renamed, run `metering register rename-provider --from {old} --to "
            f"{register.provider}` (docs/operations.md); nothing was issued"
        )
    if unknown:
        raise CloseError(
            f"the invoice register {register.path} does not match the issued documents in "
            f"{settings.out_dir}: it does not know {len(unknown)} of them (e.g. {unknown[0]}), "
            "so it is not the register they were issued from (a new file, or an older "
            "backup?) and would issue their numbers again; restore the register that goes "
            "with these documents; nothing was issued"
        )
