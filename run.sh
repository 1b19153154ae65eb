#!/usr/bin/env bash
# The two commands of the README. Both set everything up first (Debian packages, a virtualenv,
# pinned Python packages), idempotently, then:
#   bash run.sh demo   the main job: simulated provider -> a month ingested -> month closed -> ./out/
#   bash run.sh test   ruff, mypy and the whole pytest suite
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
ROOT=$PWD
VENV="${METERING_VENV:-$ROOT/.venv}"

# Debian packages: Python's venv, WeasyPrint's native libraries (Pango, HarfBuzz with its
# subsetter: without libharfbuzz-subset0 WeasyPrint silently takes a ~4x slower font path),
# fonts (Noto: every tenant's name and language, Japanese included, docs/reports.md "Fonts";
# demo and tests both render invoices). The tests add TEST_APT_PACKAGES: poppler-utils
# (pdftotext reads invoices back).
APT_PACKAGES=(python3 python3-venv python3-dev gcc libpango-1.0-0 libpangoft2-1.0-0
  libharfbuzz0b libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core fonts-noto-core
  fonts-noto-cjk)
TEST_APT_PACKAGES=(poppler-utils)

install_debian_packages() {
  command -v dpkg-query >/dev/null || return 0
  local missing=()
  for p in "${APT_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing Debian packages: ${missing[*]}"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Java for the tests only: they rate a month on real PySpark local mode too (the demo and the
# default install never need Java). Debian 12 has OpenJDK 17, Debian 13 only 21.
install_java() {
  command -v java >/dev/null && return 0
  command -v apt-get >/dev/null || return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  local jre
  for jre in openjdk-17-jre-headless openjdk-21-jre-headless; do
    if apt-cache show "$jre" >/dev/null 2>&1; then
      echo "==> installing $jre (PySpark local mode in the tests)"
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$jre" >/dev/null
      return 0
    fi
  done
}

# A browser for the tests only: the portal's browser test drives Debian's headless Chromium
# through its chromedriver (W3C WebDriver). Nothing is downloaded at test time.
install_browser() {
  command -v apt-get >/dev/null || return 0
  local missing=()
  for p in chromium chromium-driver; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "==> installing ${missing[*]} (the portal's browser test)"
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The FinOps Foundation's FOCUS validator, for the tests only, in a virtualenv of its own: it
# needs Python >= 3.12 (Debian 12 ships 3.11 and no newer python3.x; Debian 13 ships 3.13) and
# pins numpy < 2. Any interpreter >= 3.12 found here is used: FOCUS_VALIDATOR_PYTHON, a
# python3.12 / python3.13 / python3 on PATH, or one pyenv installed. PyPI carries no Python
# interpreter, so on a Debian 12 with none of these the validator's test is skipped, saying so
# (our own FOCUS rule tests still run). Cached: reinstalled only when its pins change.
find_python_312() {
  local c root candidates=("${FOCUS_VALIDATOR_PYTHON:-}" python3.12)
  root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
  candidates+=("$root"/versions/3.12*/bin/python3 python3.13 "$root"/versions/3.13*/bin/python3 python3)
  for c in "${candidates[@]}"; do
    [ -n "$c" ] && command -v "$c" >/dev/null 2>&1 || continue
    "$c" -c 'import sys, venv; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1 || continue
    command -v "$c"; return 0
  done
  return 1
}

install_focus_validator() {
  local venv="${METERING_FOCUS_VALIDATOR_VENV:-$ROOT/.venv-focus-validator}" py want pins
  if ! py=$(find_python_312); then
    echo "==> focus-validator: no Python >= 3.12 on this machine; its test is skipped (set FOCUS_VALIDATOR_PYTHON)"
    return 0
  fi
  want=$( (cat constraints-focus-validator.txt; "$py" -V) | sha256sum | cut -d' ' -f1)
  if ! { [ -f "$venv/.installed" ] && [ "$(cat "$venv/.installed")" = "$want" ]; }; then
    echo "==> installing focus-validator into $venv ($("$py" -V))"
    rm -rf "$venv"
    "$py" -m venv "$venv"
    pins=$(mktemp)
    grep -v '^focus-validator' constraints-focus-validator.txt > "$pins"
    "$venv/bin/python" -m pip install -q --prefer-binary -r "$pins"
    rm -f "$pins"
    "$venv/bin/python" -m pip install -q --no-deps "$(grep '^focus-validator==' constraints-focus-validator.txt)"
    echo "$want" > "$venv/.installed"
  fi
  export METERING_FOCUS_VALIDATOR="$venv/bin/focus-validator"
}

# The demo installs what the product needs to run (pyproject's dependencies, no extra); the
# tests add the dev and spark extras. The stamp lists a hash per set installed (with the
# pins and pyproject in it), so running either command again installs nothing.
install_python_packages() {
  local extras="$1"  # "" for the demo; dev,spark for the tests
  local stamp="$VENV/.metering-installed"
  local want target="."
  want=$( (cat constraints.txt pyproject.toml; echo "$extras") | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && grep -qx "$want" "$stamp"; then return 0; fi
  [ -n "$extras" ] && target=".[$extras]"
  echo "==> creating virtualenv $VENV and installing pinned packages (constraints.txt): ${extras:-runtime only}"
  local py="${PYTHON:-python3}"
  "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "metering needs Python >= 3.11")'
  [ -x "$VENV/bin/python" ] || "$py" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -c constraints.txt -e "$target"
  echo "$want" >> "$stamp"  # a set installed under other pins has another hash: never matches
}

setup() {
  local extras="$1"; shift
  install_debian_packages "$@"
  install_python_packages "$extras"
  export PATH="$VENV/bin:$PATH"
}

case "${1:-}" in
  demo)
    shift
    setup ""
    exec metering demo --out "$ROOT/out" "$@"
    ;;
  test)
    shift
    install_java
    install_browser
    setup dev,spark "${TEST_APT_PACKAGES[@]}"
    install_focus_validator
    echo "==> ruff"; ruff check . && ruff format --check .
    echo "==> mypy"; mypy
    echo "==> pytest"; exec pytest -n 2 "$@"
    ;;
  *)
    echo "usage: bash run.sh demo|test" >&2
    exit 2
    ;;
esac
