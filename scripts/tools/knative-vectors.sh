#!/usr/bin/env bash
# Builds tools/knative-vectors (Knative's own K-Network-Hash code, used as test vectors by
# test/translate/probe-hash.test.ts) into .cache/go-tools/knative-vectors; skipped when up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."
src=tools/knative-vectors
out=.cache/go-tools/knative-vectors
if [ -x "$out" ] && [ -z "$(find "$src" -newer "$out" -type f)" ]; then
  exit 0
fi
command -v go >/dev/null || { echo "knative-vectors: Go is not installed; install Go 1.24+ to build the probe-hash test vectors" >&2; exit 1; }
mkdir -p .cache/go-tools
# -modcacherw: so that `rm -rf .cache` works.
export GOPATH="$PWD/.cache/go" GOMODCACHE="$PWD/.cache/go/mod" GOFLAGS="-mod=mod -modcacherw"
# go.sum is committed and verifies every module; the checksum database does not list knative.dev pseudo-versions.
export GONOSUMDB=knative.dev
(cd "$src" && go build -o "../../$out" .)
echo "knative-vectors: built $out" >&2
