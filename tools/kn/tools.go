//go:build tools

// Package tools names the Knative CLI, kn, which scripts/tools/knative.sh builds for the one-machine cluster's tests and
// demo. v0.40.0: newer releases need a knative.dev/client/pkg module that the module proxy here does not serve.
package tools

import _ "knative.dev/client/cmd/kn"
