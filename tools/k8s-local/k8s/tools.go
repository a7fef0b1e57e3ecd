//go:build tools

// Package tools pins the Kubernetes commands that tools/k8s-local/build.sh builds
// from the Go module proxy. The module exists only to carry the version pins and
// the staging replace directives that k8s.io/kubernetes needs; it is not part of
// the project's go.work on purpose (its dependency graph must stay exactly
// Kubernetes' own).
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
)
