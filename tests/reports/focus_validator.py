"""Run the FinOps Foundation's `focus-validator` (FOCUS 1.2 rules) on a FOCUS file.

The validator needs Python >= 3.12 and pins numpy < 2, so it cannot live in our virtualenv:
`bash run.sh test` installs it into its own (`.venv-focus-validator`, see run.sh) and names
its command in ``METERING_FOCUS_VALIDATOR``. Its rules come with the package
(``--block-download``: nothing is fetched).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSION = "1.2"
_LINE = re.compile(r"^\S+\s+(?P<rule>[A-Za-z]+-[A-Z]-\d{3}-[A-Z]): (?P<status>PASS|FAIL|SKIPPED)")
_TOTAL = re.compile(r"^Total: (\d+) \| Pass: (\d+) \| Fail: (\d+) \| Skipped: (\d+)", re.M)


def command() -> Path | None:
    """The validator's command: ``METERING_FOCUS_VALIDATOR``, else run.sh's venv, else None."""
    named = os.environ.get("METERING_FOCUS_VALIDATOR")
    path = Path(named) if named else ROOT / ".venv-focus-validator" / "bin" / "focus-validator"
    return path if path.is_file() else None


@dataclass(frozen=True)
class Result:
    summary: str  # "Total: … | Pass: … | Fail: … | Skipped: …"
    status: dict[str, str]  # rule id -> PASS / FAIL / SKIPPED
    model: dict[str, dict[str, object]]  # the validator's rule model (ModelRules)

    @property
    def failed(self) -> list[str]:
        return sorted(r for r, s in self.status.items() if s == "FAIL")

    def alternatives_of_a_passed_or(self, rule: str) -> list[str]:
        """The OR rules that list ``rule`` as one alternative and passed: such a failure is
        not the dataset's (e.g. InvoiceId-C-004-C "MUST be null" beside -C-005-C "MUST NOT
        be null" under InvoiceId-C-003-C: one of the two fails on any non-empty dataset)."""
        parents = []
        for parent, spec in self.model.items():
            requirement = spec.get("ValidationCriteria", {}).get("Requirement", {})  # type: ignore[union-attr]
            if requirement.get("CheckFunction") != "OR" or self.status.get(parent) != "PASS":
                continue
            items = requirement.get("Items", [])
            if any(i.get("ModelRuleId") == rule for i in items):
                parents.append(parent)
        return parents

    @property
    def dataset_failures(self) -> list[str]:
        """Failures that are the dataset's own (not a losing alternative of a passed OR)."""
        return [r for r in self.failed if not self.alternatives_of_a_passed_or(r)]


def run(validator: Path, data_file: Path, timeout: int = 300) -> Result:
    """Validate ``data_file`` (Parquet) against FOCUS 1.2. The validator reads a file of its
    package by a relative path, so it runs in its site-packages directory."""
    python = validator.parent / "python"
    package = subprocess.run(
        [str(python), "-c", "import focus_validator, os; print(focus_validator.__file__)"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout.strip()  # fmt: skip
    package_dir = Path(package).parent
    proc = subprocess.run(
        [str(validator), "--data-file", str(data_file.resolve()), "--data-format", "parquet",
         "--validate-version", VERSION, "--block-download", "--output-type", "console"],
        capture_output=True, text=True, timeout=timeout, cwd=package_dir.parent, check=False,
    )  # fmt: skip
    out = proc.stdout + proc.stderr
    total = _TOTAL.search(out)
    assert total, f"focus-validator printed no summary (exit {proc.returncode}):\n{out[-3000:]}"
    status = {m["rule"]: m["status"] for m in map(_LINE.match, out.splitlines()) if m}
    models = sorted((package_dir / "rules").glob(f"model-{VERSION}*.json"))
    assert models, f"no FOCUS {VERSION} rule model in {package_dir}"
    model = json.loads(models[-1].read_text(encoding="utf-8"))["ModelRules"]
    return Result(total.group(0), status, model)
