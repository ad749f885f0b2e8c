module ferry.local/tools/knative-serving

go 1.24.0

// Nothing is built from this module: scripts/tools/kube.sh downloads knative.dev/serving into the Go module cache
// for its CRDs (config/core/300-resources), which the --knative-translation kube tests install. v0.46.6 is Knative
// 1.19's last patch release; its knative.dev/networking (2025-09-02) is the closest release to the one
// tools/knative-vectors pins (2025-09-09).
require knative.dev/serving v0.46.6
