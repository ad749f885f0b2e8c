//go:build tools

// Package tools names what scripts/tools/knative.sh builds from Knative Serving (the release go.mod pins), so that
// `go mod tidy` keeps it: the controller, webhook, autoscaler, activator and queue-proxy of the one-machine cluster
// (test/cluster). scripts/tools/kube.sh also reads the module's CRDs (config/core/300-resources) for the
// --knative-translation tests.
package tools

import (
	_ "knative.dev/serving/cmd/activator"
	_ "knative.dev/serving/cmd/autoscaler"
	_ "knative.dev/serving/cmd/controller"
	_ "knative.dev/serving/cmd/queue"
	_ "knative.dev/serving/cmd/webhook"
)
