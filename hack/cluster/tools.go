//go:build tools

// These blank imports pin the cluster binaries this module builds. The blank
// imports keep every main package (and what it needs, such as cadvisor and
// cri-streaming for the kubelet) in go.mod and go.sum, so `go build` of each
// one works offline once the module cache is warm.
package main

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
