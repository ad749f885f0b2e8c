//go:build tools

// Package tools names net-kourier's controller, which scripts/tools/knative.sh builds for the side-by-side benchmark
// (bench/side-by-side.ts): Ferry and net-kourier against the same API server and the same Envoy. v0.48.0: newer
// releases are not served by the module proxy here.
package tools

import _ "knative.dev/net-kourier/cmd/kourier"
