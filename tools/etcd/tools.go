//go:build tools

// Package tools names the command this module builds (scripts/tools/kube.sh), so that `go mod tidy` keeps it.
package tools

import _ "go.etcd.io/etcd/server/v3"
