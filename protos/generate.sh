#!/usr/bin/env bash
# Generates the envoy-proto-ts package: TypeScript types for Envoy's xDS API, compiled with ts-proto
# from the .proto files that the @grpc/grpc-js-xds npm package ships in deps/. Nothing generated is
# committed; build/ and dist/ are ignored.
set -euo pipefail
cd "$(dirname "$0")"
deps="$(node -e "console.log(require('path').dirname(require.resolve('@grpc/grpc-js-xds/package.json')))")/deps"
[ -d "$deps/envoy-api" ] || { echo "envoy-proto-ts: $deps/envoy-api not found; run npm install first" >&2; exit 1; }

stamp="build/.stamp"
if [ -f "$stamp" ] && [ -f dist/envoy/service/discovery/v3/ads.js ] && [ "$(cat "$stamp")" = "$(cat "$deps/../package.json" generate.sh buf.gen.yaml | sha256sum)" ]; then
  exit 0
fi

rm -rf build dist
mkdir -p build/proto
cp -r "$deps/envoy-api/envoy" "$deps/xds/xds" "$deps/xds/udpa" "$deps/googleapis/google" "$deps/protoc-gen-validate/validate" build/proto/
# The bundled validate.proto predates envoy-api: it lacks StringRules.ignore_empty (field 26 upstream),
# which envoy/config/core/v3/protocol.proto uses. Add the field so that the options parse.
sed -i 's|^\(\s*\)optional uint64 len = 19;|&\n\1optional bool ignore_empty = 26;|' build/proto/validate/validate.proto
grep -q "ignore_empty = 26" build/proto/validate/validate.proto

files=(
  envoy/service/discovery/v3/ads.proto
  envoy/config/listener/v3/listener.proto
  envoy/config/route/v3/route.proto
  envoy/config/cluster/v3/cluster.proto
  envoy/config/endpoint/v3/endpoint.proto
  envoy/extensions/transport_sockets/tls/v3/tls.proto
  envoy/extensions/transport_sockets/tls/v3/secret.proto
  envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto
  envoy/extensions/filters/http/router/v3/router.proto
  envoy/extensions/filters/http/on_demand/v3/on_demand.proto
  envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto
  envoy/extensions/upstreams/http/v3/http_protocol_options.proto
  envoy/extensions/access_loggers/stream/v3/stream.proto
  envoy/config/route/v3/scoped_route.proto
  envoy/extensions/http/early_header_mutation/header_mutation/v3/header_mutation.proto
  envoy/extensions/filters/http/header_mutation/v3/header_mutation.proto
  envoy/extensions/filters/network/connection_limit/v3/connection_limit.proto
  envoy/extensions/filters/http/ext_authz/v3/ext_authz.proto
  envoy/extensions/filters/listener/proxy_protocol/v3/proxy_protocol.proto
  envoy/config/trace/v3/opentelemetry.proto
)
paths=()
for f in "${files[@]}"; do paths+=(--path "build/proto/$f"); done
buf="$(node -e "console.log(require.resolve('@bufbuild/buf/bin/buf'))")"
cat > build/buf.yaml <<YAML
version: v2
modules:
  - path: proto
YAML
(cd build && "$buf" generate proto --template ../buf.gen.yaml $(printf -- '--path proto/%s ' "${files[@]}"))
npx tsc -p tsconfig.json
cat "$deps/../package.json" generate.sh buf.gen.yaml | sha256sum > "$stamp"
echo "envoy-proto-ts: generated $(find dist -name '*.js' | wc -l) modules"
