# Shared by the Go tool builders in scripts/tools/: where built binaries and Go's caches live (outside the
# clone, so that a fresh CI clone on the same machine rebuilds nothing) and a key per tool module.
export FERRY_TOOLS_DIR="${FERRY_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-tools}"
# -modcacherw: so that the module cache can be removed with rm -rf.
export GOFLAGS="-mod=mod -modcacherw"
# go.sum is committed and verifies every module; the checksum database does not list knative.dev pseudo-versions.
export GONOSUMDB=knative.dev

# A short hash of a tool module's go.mod, go.sum and sources: a change to any of them builds the tool again.
tool_key() {
  cat "$1"/go.mod "$1"/go.sum "$1"/*.go | sha256sum | cut -c1-12
}

require_go() {
  command -v go >/dev/null || { echo "$1: Go is not installed; install Go 1.24+ (the tests build $1 from its Go module)" >&2; exit 1; }
}

# all_built DIR CMD...: whether every command has been built into DIR.
all_built() {
  local dir=$1 c
  shift
  for c in "$@"; do [ -x "$dir/$c" ] || return 1; done
}
