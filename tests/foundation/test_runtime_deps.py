"""The product runs on its runtime dependencies alone (`bash run.sh demo` installs no extra):
every module imports, and the CLI starts, with the dev and spark extras' modules made
unimportable in a fresh interpreter."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# distribution name -> the module it installs, where they differ
_MODULE_OF = {"pytest-xdist": "xdist"}
# modules of the spark extra, imported only for `rate --engine spark`
_SPARK_ONLY = ("metering.rating.spark", "metering.rating.portable")

_PROGRAM = """
import importlib, pkgutil, sys
blocked = set(sys.argv[1].split(","))

class Block:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (an extra)", name=name)
        return None

sys.meta_path.insert(0, Block())
import metering
skip = set(sys.argv[2].split(","))
for info in pkgutil.walk_packages(metering.__path__, "metering."):
    if info.name not in skip and info.name != "metering.__main__":
        importlib.import_module(info.name)
from metering.cli import main
sys.exit(main(["demo", "--help"]))
"""


def _extra_modules() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = set()
    for requirements in project["optional-dependencies"].values():
        for req in requirements:
            dist = re.split(r"[\[<>=!~ ;]", req)[0].lower()
            names.add(_MODULE_OF.get(dist, dist.replace("-", "_")))
    runtime = {re.split(r"[\[<>=!~ ;]", r)[0].lower() for r in project["dependencies"]}
    return names - runtime


def test_every_module_imports_without_the_extras() -> None:
    blocked = _extra_modules()
    assert {"pytest", "pandas", "moto", "pysail", "sqlglot", "pyspark"} <= blocked
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "80"}
    proc = subprocess.run(
        [sys.executable, "-c", _PROGRAM, ",".join(sorted(blocked)), ",".join(_SPARK_ONLY)],
        capture_output=True, text=True, env=env, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Usage: metering demo" in proc.stdout and "Examples" in proc.stdout
