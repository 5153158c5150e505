package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The fixed facts of the full cluster (one per machine: it owns the node,
// the bridge and the host changes; named instances beside it are etcd and
// kube-apiserver only, on ports of their own). Ports are off the
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
// exactly what to remove, and the ports it listens on.
type layout struct {
	Bin   string // built binaries (hack/cluster/bin)
	Data  string // etcd, pki, kubelet root, containerd root, logs
	Run   string // sockets and pid files
	Name  string // "" for the full cluster; a named instance is control-plane-only
	Ports ports
}

// ports are an instance's loopback listeners. The full cluster has the
// fixed ones; a named instance gets a free slot at `up`, kept in its data
// directory (ports.json) for every later command.
type ports struct {
	Etcd      int `json:"etcd"`
	EtcdPeer  int `json:"etcdPeer"`
	APIServer int `json:"apiserver"`
}

var defaultPorts = ports{Etcd: etcdPort, EtcdPeer: etcdPeerPort, APIServer: apiserverPort}

// slotPorts are the ports of named-instance slot k (1, 2, ...): off the
// full cluster's by 100 for etcd and by k for the apiserver.
func slotPorts(k int) ports {
	return ports{Etcd: etcdPort + 100*k, EtcdPeer: etcdPeerPort + 100*k, APIServer: apiserverPort + k}
}

// newLayout is the full cluster's layout when name is empty, else the named
// instance's: its own data and run directories beside the full cluster's.
func newLayout(name string) layout {
	l := layout{
		Data:  envOr("CRASHLENS_CLUSTER_DIR", defaultDataDir),
		Run:   envOr("CRASHLENS_CLUSTER_RUN", defaultRunDir),
		Name:  name,
		Ports: defaultPorts,
	}
	if name != "" {
		l.Data += "-" + name
		l.Run += "-" + name
		l.Ports = l.loadPorts()
	}
	if exe, err := os.Executable(); err == nil {
		l.Bin = filepath.Dir(exe)
	}
	l.Bin = envOr("CRASHLENS_CLUSTER_BIN", l.Bin)
	return l
}

func (l layout) portsFile() string { return l.data("ports.json") }

// loadPorts reads a named instance's ports; zero when it was never up.
func (l layout) loadPorts() ports {
	var p ports
	if b, err := os.ReadFile(l.portsFile()); err == nil {
		_ = json.Unmarshal(b, &p)
	}
	return p
}

// allocatePorts gives a named instance the first slot no other named
// instance holds and whose ports are free, and records it.
func (l *layout) allocatePorts() error {
	taken := map[int]bool{}
	others, _ := filepath.Glob(strings.TrimSuffix(l.Data, "-"+l.Name) + "-*/ports.json")
	for _, f := range others {
		var p ports
		if b, err := os.ReadFile(f); err == nil && json.Unmarshal(b, &p) == nil {
			taken[p.APIServer] = true
		}
	}
	for k := 1; k <= 50; k++ {
		p := slotPorts(k)
		if taken[p.APIServer] || len(busyPorts(p)) > 0 {
			continue
		}
		b, _ := json.Marshal(p)
		if err := os.WriteFile(l.portsFile(), b, 0o644); err != nil {
			return err
		}
		l.Ports = p
		return nil
	}
	return errors.New("no free port slot for another named instance")
}

// instanceNames lists the named instances with a data directory.
func instanceNames() []string {
	base := envOr("CRASHLENS_CLUSTER_DIR", defaultDataDir)
	dirs, _ := filepath.Glob(base + "-*")
	var names []string
	for _, d := range dirs {
		names = append(names, strings.TrimPrefix(d, base+"-"))
	}
	return names
}

// apiserverURL is where this instance's apiserver answers.
func (l layout) apiserverURL() string {
	return fmt.Sprintf("https://127.0.0.1:%d", l.Ports.APIServer)
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
