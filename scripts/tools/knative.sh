#!/usr/bin/env bash
# Builds what the one-machine Knative cluster (test/cluster, `make cluster-demo`) runs besides the API server, from
# their Go modules: Knative Serving's controller, webhook, autoscaler, activator and queue-proxy (knative.dev/serving,
# tools/knative-serving) and the Knative CLI kn (knative.dev/client, tools/kn). kube-controller-manager and
# kube-scheduler come from scripts/tools/kube.sh, which this script runs first.
# Cached outside the clone like kube.sh's builds, keyed by each module's go.mod and go.sum; a new machine builds them
# in about 4 minutes on 2 cores. Writes .cache/cluster-tools.env; prints nothing when up to date.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/tools/kube.sh
source scripts/tools/go-cache.sh
require_go knative-serving

# kube-proxy (iptables mode, inside the cluster's hub network namespace) needs the iptables command: Debian's package.
if ! command -v iptables >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "knative: installing iptables (Debian's package) for kube-proxy" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iptables >/dev/null
  else
    echo "knative: kube-proxy needs iptables; install Debian's iptables package (as root: apt-get install iptables)" >&2
    exit 1
  fi
fi

module_dir() { # module-folder module-path: where the Go module cache holds that dependency (downloaded if missing)
  (cd "$1" && go mod download -json "$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
}

serving_version=$(sed -n 's/^require knative.dev\/serving \(v[^ ]*\)$/\1/p' tools/knative-serving/go.mod)
serving_key=$(tool_key tools/knative-serving)
serving_bin="$FERRY_TOOLS_DIR/knative-serving-$serving_version-$serving_key"
commands="activator autoscaler controller queue webhook"
if ! all_built "$serving_bin" $commands; then
  echo "knative: building Knative Serving $serving_version ($commands) into $serving_bin (about 2.5 minutes on 2 cores)" >&2
  mkdir -p "$serving_bin.tmp"
  (cd tools/knative-serving && go build -trimpath -ldflags "-s -w" -o "$serving_bin.tmp/" $(for c in $commands; do echo knative.dev/serving/cmd/$c; done))
  rm -rf "$serving_bin" && mv "$serving_bin.tmp" "$serving_bin"
fi

# Knative's ingress conformance suite (knative.dev/networking, test/conformance/ingress, the e2e build tag) and its
# test images (test/test_images/*), at the networking version Serving's go.mod pins: the one-machine cluster's node
# stand-in runs the images as Pods, and the suite runs against Ferry (test/cluster).
conformance_bin="$FERRY_TOOLS_DIR/knative-networking-conformance-$serving_key"
images="runtime httpproxy timeout wsserver grpc-ping retry"
if ! all_built "$conformance_bin" ingress.test $images; then
  echo "knative: building Knative's ingress conformance suite and its test images into $conformance_bin (about 1 minute on 2 cores)" >&2
  mkdir -p "$conformance_bin.tmp"
  (cd tools/knative-serving && go test -c -tags e2e -trimpath -o "$conformance_bin.tmp/ingress.test" knative.dev/networking/test/conformance/ingress \
    && go build -trimpath -o "$conformance_bin.tmp/" $(for i in $images; do echo knative.dev/networking/test/test_images/$i; done))
  rm -rf "$conformance_bin" && mv "$conformance_bin.tmp" "$conformance_bin"
fi

# net-kourier's controller (knative.dev/net-kourier, tools/net-kourier), for the side-by-side benchmark.
kourier_version=$(sed -n 's/^require knative.dev\/net-kourier \(v[^ ]*\)$/\1/p' tools/net-kourier/go.mod)
kourier_bin="$FERRY_TOOLS_DIR/net-kourier-$kourier_version-$(tool_key tools/net-kourier)"
if [ ! -x "$kourier_bin/kourier" ]; then
  echo "knative: building net-kourier $kourier_version into $kourier_bin (about 2 minutes on 2 cores)" >&2
  mkdir -p "$kourier_bin.tmp"
  (cd tools/net-kourier && go build -trimpath -ldflags "-s -w" -o "$kourier_bin.tmp/kourier" knative.dev/net-kourier/cmd/kourier)
  rm -rf "$kourier_bin" && mv "$kourier_bin.tmp" "$kourier_bin"
fi
kourier_config="$(module_dir tools/net-kourier knative.dev/net-kourier)/config"
[ -f "$kourier_config/300-gateway.yaml" ] || { echo "knative: $kourier_config/300-gateway.yaml is missing from the Go module cache" >&2; exit 1; }

kn_key=$(tool_key tools/kn)
kn_bin="$FERRY_TOOLS_DIR/kn-$kn_key"
if [ ! -x "$kn_bin/kn" ]; then
  echo "knative: building kn into $kn_bin (about 1.5 minutes on 2 cores)" >&2
  mkdir -p "$kn_bin.tmp"
  (cd tools/kn && go build -trimpath -ldflags "-s -w" -o "$kn_bin.tmp/kn" knative.dev/client/cmd/kn)
  rm -rf "$kn_bin" && mv "$kn_bin.tmp" "$kn_bin"
fi

# Knative Serving's release configuration (config/core: namespace, RBAC, CRDs, ConfigMaps, Deployments, Services,
# webhooks) and the CRDs it takes from knative.dev/networking and knative.dev/caching, at the versions its go.mod pins:
# read from the Go module cache, never copied into the repository.
serving_config="$(module_dir tools/knative-serving knative.dev/serving)/config/core"
networking_config="$(module_dir tools/knative-serving knative.dev/networking)/config"
caching_config="$(module_dir tools/knative-serving knative.dev/caching)/config"
for f in "$serving_config/deployments/controller.yaml" "$networking_config/ingress.yaml" "$caching_config/image.yaml"; do
  [ -f "$f" ] || { echo "knative: $f is missing from the Go module cache" >&2; exit 1; }
done

mkdir -p .cache
{
  printf 'KNATIVE_SERVING_VERSION=%s\nKNATIVE_SERVING_BIN=%s\nKN=%s\nKNATIVE_CONFORMANCE_BIN=%s\n' "$serving_version" "$serving_bin" "$kn_bin/kn" "$conformance_bin"
  printf 'KNATIVE_SERVING_CONFIG=%s\nKNATIVE_NETWORKING_CONFIG=%s\nKNATIVE_CACHING_CONFIG=%s\n' "$serving_config" "$networking_config" "$caching_config"
  printf 'NET_KOURIER_VERSION=%s\nNET_KOURIER_BIN=%s\nNET_KOURIER_CONFIG=%s\n' "$kourier_version" "$kourier_bin" "$kourier_config"
} > .cache/cluster-tools.env
