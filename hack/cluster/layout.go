package main

import (
	"os"
	"path/filepath"
	"time"
)

// The fixed facts of the one cluster a machine runs. Ports are off the
// defaults so a developer's own etcd or apiserver does not collide; every
// listener is on loopback or on the bridge this run creates.
const (
	nodeName       = "crashlens-node"
	bridgeName     = "crashlens0"
	podCIDR        = "10.244.0.0/24"
	nodeIP         = "10.244.0.1" // the bridge's own address: no dummy module on this kernel
	serviceCIDR    = "10.96.0.0/24"
	serviceIP      = "10.96.0.1"
	etcdPort       = 23790
	etcdPeerPort   = 23800
	apiserverPort  = 16443
	kubeletPort    = 10250
	viewerNS       = "team-a" // the one namespace viewer-ns may read
	pauseImage     = "crashlens.local/pause:1"
	busyboxImage   = "crashlens.local/busybox:latest"
	defaultDataDir = "/var/lib/crashlens-cluster"
	defaultRunDir  = "/run/crashlens-cluster"
)

// Timeouts for the waits of `up`; generous because a cold VM is slow.
const (
	etcdReadyTimeout      = 30 * time.Second
	apiserverReadyTimeout = 60 * time.Second
	nodeReadyTimeout      = 120 * time.Second
	stopTimeout           = 15 * time.Second
)

// layout holds every host path the cluster writes to, so `down` knows
// exactly what to remove.
type layout struct {
	Bin  string // built binaries (hack/cluster/bin)
	Data string // etcd, pki, kubelet root, containerd root, logs
	Run  string // sockets and pid files
}

func newLayout() layout {
	l := layout{
		Data: envOr("CRASHLENS_CLUSTER_DIR", defaultDataDir),
		Run:  envOr("CRASHLENS_CLUSTER_RUN", defaultRunDir),
	}
	if exe, err := os.Executable(); err == nil {
		l.Bin = filepath.Dir(exe)
	}
	l.Bin = envOr("CRASHLENS_CLUSTER_BIN", l.Bin)
	return l
}

func (l layout) data(p ...string) string { return filepath.Join(append([]string{l.Data}, p...)...) }
func (l layout) run(p ...string) string  { return filepath.Join(append([]string{l.Run}, p...)...) }
func (l layout) bin(name string) string  { return filepath.Join(l.Bin, name) }

// Kubeconfig is the admin kubeconfig's known path; one file per restricted
// user sits beside it (kubeconfig-viewer-ns, kubeconfig-no-logs, ...).
func (l layout) Kubeconfig() string { return l.data("kubeconfig") }

func (l layout) containerdSock() string { return l.run("containerd", "containerd.sock") }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// options are what `up` was asked for; a running cluster started with other
// options is restarted rather than reused.
type options struct {
	BackoffCap       string `json:"backoffCap,omitempty"` // kubelet crashLoopBackOff.maxContainerRestartPeriod
	ControlPlaneOnly bool   `json:"controlPlaneOnly,omitempty"`
}
