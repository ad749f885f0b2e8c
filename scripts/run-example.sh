#!/usr/bin/env bash
# `make run`: Ferry on its embedded default. Without --manifests, it serves the bundled examples/hello and this
# script also starts that example's hello-world backend (TARGET=World on 127.0.0.1:8090) for as long as Ferry runs.
set -euo pipefail
cd "$(dirname "$0")/.."
case " $* " in
  *" --manifests"*) exec node dist/src/cli/main.js serve "$@" ;;
esac
TARGET=World PORT=8090 node examples/hello/backend.mjs &
backend=$!
trap 'kill $backend 2>/dev/null || true' EXIT
node dist/src/cli/main.js serve "$@"
