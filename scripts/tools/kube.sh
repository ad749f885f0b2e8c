#!/usr/bin/env bash
# Builds the real Kubernetes pieces of the kube-mode tests from their Go modules: kube-apiserver and kubectl, the
# kube-controller-manager, kube-scheduler and kube-proxy of the one-machine cluster (k8s.io/kubernetes,
# tools/kube-apiserver), and etcd (go.etcd.io/etcd/server/v3, tools/etcd); and finds Knative's networking and serving CRDs.
# The binaries are cached outside the clone, keyed by each module's go.mod and go.sum, so that a second run on
# the same machine (a CI clone too) builds nothing; a new machine builds them in about 5 minutes on 2 cores.
# Prints nothing when up to date. FERRY_TOOLS_DIR overrides the cache folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/tools/go-cache.sh

kube_version=v1.34.4
kube_key=$(tool_key tools/kube-apiserver)
kube_dir="$FERRY_TOOLS_DIR/kube-$kube_version-$kube_key"
kube_commands="kube-apiserver kubectl kube-controller-manager kube-scheduler kube-proxy"
if ! all_built "$kube_dir" $kube_commands; then
  require_go kube-apiserver
  echo "kube: building $kube_commands $kube_version into $kube_dir (about 6 minutes on 2 cores from empty caches)" >&2
  pkg=k8s.io/component-base/version
  # /version must report a real release: clients and kubectl check it.
  ldflags="-s -w -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=34 -X $pkg.gitTreeState=clean"
  ldflags="$ldflags -X $pkg.buildDate=2026-01-01T00:00:00Z -X $pkg.gitCommit=ferry-tools"
  mkdir -p "$kube_dir.tmp"
  (cd tools/kube-apiserver && go build -trimpath -ldflags "$ldflags" -o "$kube_dir.tmp/" $(for c in $kube_commands; do echo k8s.io/kubernetes/cmd/$c; done))
  rm -rf "$kube_dir" && mv "$kube_dir.tmp" "$kube_dir"
fi

etcd_key=$(tool_key tools/etcd)
etcd_dir="$FERRY_TOOLS_DIR/etcd-$etcd_key"
if [ ! -x "$etcd_dir/etcd" ]; then
  require_go etcd
  echo "kube: building etcd into $etcd_dir" >&2
  mkdir -p "$etcd_dir.tmp"
  (cd tools/etcd && go build -trimpath -ldflags "-s -w" -o "$etcd_dir.tmp/etcd" go.etcd.io/etcd/server/v3)
  rm -rf "$etcd_dir" && mv "$etcd_dir.tmp" "$etcd_dir"
fi

# Knative's networking CRDs (KIngress, ServerlessService, Certificate, ...) at the version tools/knative-vectors pins:
# read from the Go module cache at test time, never copied into the repository. `go mod download` fetches the module
# when the cache lacks it and is instant otherwise.
require_go knative-networking-crds
networking_dir=$(cd tools/knative-vectors && go mod download -json knative.dev/networking | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ ! -f "$networking_dir/config/ingress.yaml" ]; then
  echo "kube: knative.dev/networking has no config/ingress.yaml in the Go module cache (${networking_dir:-not downloaded})" >&2
  exit 1
fi

# Knative Serving's CRDs (Service, Route, Configuration, Revision, DomainMapping, ...), for the tests of
# --knative-translation: the release tools/knative-serving pins, from the Go module cache as well (a download of
# about 13 MB the first time, instant afterwards).
serving_dir=$(cd tools/knative-serving && go mod download -json knative.dev/serving | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
if [ ! -f "$serving_dir/config/core/300-resources/service.yaml" ]; then
  echo "kube: knative.dev/serving has no config/core/300-resources/service.yaml in the Go module cache (${serving_dir:-not downloaded})" >&2
  exit 1
fi

# The tests find the binaries and the CRDs through this file (test/kube/harness reads it).
mkdir -p .cache
printf 'KUBE_CONTROLLER_MANAGER=%s\nKUBE_SCHEDULER=%s\nKUBE_PROXY=%s\n' "$kube_dir/kube-controller-manager" "$kube_dir/kube-scheduler" "$kube_dir/kube-proxy" > .cache/kube-tools.env.tmp
printf 'KUBE_APISERVER=%s\nKUBECTL=%s\nETCD=%s\nKNATIVE_NETWORKING_CRDS=%s\nKNATIVE_SERVING_CRDS=%s\n' "$kube_dir/kube-apiserver" "$kube_dir/kubectl" "$etcd_dir/etcd" \
  "$networking_dir/config" "$serving_dir/config/core/300-resources" >> .cache/kube-tools.env.tmp
mv .cache/kube-tools.env.tmp .cache/kube-tools.env
