#!/usr/bin/env bash
# Builds the pinned cluster binaries into hack/cluster/bin, each only when it
# is missing or was built from a different go.mod/go.sum or Go toolchain.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
mkdir -p bin
k8s_version=v1.36.3
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${k8s_version} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=36 -X k8s.io/component-base/version.gitTreeState=clean"
stamp=$(cat go.mod go.sum build.sh | sha256sum | cut -c1-16)-$(go env GOVERSION)

declare -A pkgs=(
  [etcd]=go.etcd.io/etcd/server/v3
  [kube-apiserver]=k8s.io/kubernetes/cmd/kube-apiserver
  [kube-controller-manager]=k8s.io/kubernetes/cmd/kube-controller-manager
  [kube-scheduler]=k8s.io/kubernetes/cmd/kube-scheduler
  [kubelet]=k8s.io/kubernetes/cmd/kubelet
  [kubectl]=k8s.io/kubernetes/cmd/kubectl
)
order=(etcd kube-apiserver kubectl kube-scheduler kube-controller-manager kubelet)
stale=0
for name in "${order[@]}"; do
  if ! [ -x "bin/$name" ] || [ "$(cat "bin/.$name.stamp" 2>/dev/null)" != "$stamp" ]; then
    stale=$((stale + 1))
  fi
done
if [ "$stale" -gt 0 ]; then
  echo "==> building $stale pinned Kubernetes ${k8s_version} binaries into hack/cluster/bin: the first time takes about 13 minutes on 2 cores (downloading the modules, then compiling); later runs take seconds" >&2
  # The module download, quietly, with a line of progress instead of a
  # wall of "go: downloading" lines.
  printf '    downloading the Kubernetes and etcd modules' >&2
  go mod download >/tmp/crashlens-cluster-modules.log 2>&1 &
  dl=$!
  while kill -0 "$dl" 2>/dev/null; do printf '.' >&2; sleep 10; done
  if ! wait "$dl"; then
    echo " failed:" >&2
    cat /tmp/crashlens-cluster-modules.log >&2
    exit 1
  fi
  echo " done" >&2
fi
n=0
for name in "${order[@]}"; do
  n=$((n + 1))
  if [ -x "bin/$name" ] && [ "$(cat "bin/.$name.stamp" 2>/dev/null)" = "$stamp" ]; then
    continue
  fi
  start=$(date +%s)
  echo "==> building $name ($n/${#order[@]})" >&2
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "bin/$name.tmp" "${pkgs[$name]}"
  mv "bin/$name.tmp" "bin/$name"
  echo "$stamp" > "bin/.$name.stamp"
  echo "    $name built in $(( $(date +%s) - start ))s" >&2
done
# Our own small programs: cheap, so always rebuilt (the Go build cache keeps
# this to a second when nothing changed).
CGO_ENABLED=0 go build -trimpath -o bin/clusterctl .
CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o bin/pause ./pause
