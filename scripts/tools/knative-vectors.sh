#!/usr/bin/env bash
# Builds tools/knative-vectors (Knative's own K-Network-Hash code, used as test vectors by
# test/translate/probe-hash.test.ts), cached outside the clone; .cache/go-tools/knative-vectors links to it.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/tools/go-cache.sh
src=tools/knative-vectors
out="$FERRY_TOOLS_DIR/knative-vectors-$(tool_key "$src")"
if [ ! -x "$out" ]; then
  require_go knative-vectors
  mkdir -p "$FERRY_TOOLS_DIR"
  (cd "$src" && go build -o "$out.tmp" . && mv "$out.tmp" "$out")
  echo "knative-vectors: built $out" >&2
fi
mkdir -p .cache/go-tools
ln -sfn "$out" .cache/go-tools/knative-vectors
