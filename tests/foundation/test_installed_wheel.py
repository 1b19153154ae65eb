"""`pip install .` gives a working `metering` that finds its SQL, templates and rate cards.

Builds the wheel from this checkout and installs it (without dependencies) into a fresh
virtualenv that borrows the test environment's third-party packages, then runs the installed
command from a directory outside the source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(work / "dist"), str(REPO)],
        check=True, capture_output=True,
    )  # fmt: skip
    wheel = next((work / "dist").glob("metering-*.whl"))
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    # Borrow polars, duckdb, weasyprint... from the test environment, after the venv's own.
    (site / "_borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-deps", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    return venv


def run_installed(venv: Path, code: str, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=cwd, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return proc.stdout


def test_installed_package_finds_its_data_outside_the_tree(installed: Path, tmp_path) -> None:
    out = run_installed(
        installed,
        "import metering, metering.resources as r\n"
        "print(metering.__file__)\n"
        "for kind in ('sql', 'reports', 'pricing', 'pipelines', 'sample_data', 'docs'):\n"
        "    d = r.resource_dir(kind)\n"
        "    print(kind, d, sum(1 for p in d.rglob('*') if p.is_file()))\n",
        cwd=tmp_path,
    )
    lines = out.splitlines()
    assert str(installed) in lines[0], "imported the source tree instead of the wheel"
    for line in lines[1:]:
        kind, path, count = line.split()
        assert str(installed) in path, f"{kind} resolved outside the install: {path}"
        assert "/_data/" in path
        assert int(count) > 0, f"{kind}/ shipped empty"


def test_installed_package_loads_its_sql_templates_and_rate_cards(
    installed: Path, tmp_path
) -> None:
    out = run_installed(
        installed,
        "import metering.resources as r\n"
        "print(len(list((r.resource_dir('sql')).rglob('*.sql'))))\n"
        "print(len(list(r.resource_dir('reports').glob('invoice*.html.j2'))))\n"
        "print(len(list(r.resource_dir('pricing').glob('*.toml'))))\n"
        "print(len(list(r.resource_dir('pipelines').glob('*.toml'))))\n"
        "print(int((r.resource_dir('sample_data') / 'tenants.toml').is_file()))\n"
        "from metering.rating.policy import load_pricing\n"
        "print(len(load_pricing(r.resource_dir('pricing')).cards))\n"
        "from metering.reports.render import template_env\n"
        "print(int(bool(template_env().get_template('invoice.html.j2'))))\n"
        "from metering.pipelines.definitions import load_pipelines\n"
        "print(len(load_pipelines()))\n"
        "from metering.reports import i18n\n"  # the .po catalogs, compiled at first use
        "print(i18n.translations(i18n.catalog_for('de_AT')).gettext('Invoice'))\n"
        "print(i18n.translations(i18n.catalog_for('ja_JP')).gettext('Invoice'))\n",
        cwd=tmp_path,
    )
    *counts, german, japanese = out.split()
    sql, templates, cards, pipelines, catalog, loaded, template, defined = (int(n) for n in counts)
    assert sql >= 10 and templates == 1 and cards >= 1 and pipelines == 3 and catalog == 1
    assert loaded == cards and template == 1 and defined == 3
    assert (german, japanese) == ("Rechnung", "請求書")


def test_installed_console_script_runs(installed: Path, tmp_path) -> None:
    proc = subprocess.run(
        [str(installed / "bin" / "metering"), "--version"],
        cwd=tmp_path, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert proc.stdout.startswith("metering ")
