package main

import (
	"strings"
	"testing"
)

// TestIsOursKeepsInstancesApart: `down` of one instance stops only the
// processes pointed at its own directories, whichever binary they run.
func TestIsOursKeepsInstancesApart(t *testing.T) {
	full := layout{Bin: "/src/hack/cluster/bin", Data: "/var/lib/crashlens-cluster", Run: "/run/crashlens-cluster"}
	edge := layout{Bin: full.Bin, Data: full.Data + "-edge", Run: full.Run + "-edge", Name: "edge"}
	for _, tc := range []struct {
		cmdline    []string
		full, edge bool
	}{
		{[]string{full.Bin + "/etcd", "--data-dir=" + full.Data + "/etcd"}, true, false},
		{[]string{full.Bin + "/etcd", "--data-dir=" + edge.Data + "/etcd"}, false, true},
		{[]string{full.Bin + "/kube-apiserver", "--token-auth-file=" + edge.Data + "/tokens.csv"}, false, true},
		{[]string{"/usr/bin/containerd-shim-runc-v2", "-address", full.Run + "/containerd/containerd.sock"}, true, false},
		{[]string{full.Bin + "/clusterctl", "with", "--also", "edge"}, false, false},
		{[]string{full.Bin + "/kubectl", "version"}, false, false}, // a binary alone names no instance
		{[]string{"/usr/sbin/sshd"}, false, false},
	} {
		cmdline := []byte(strings.Join(tc.cmdline, "\x00") + "\x00")
		if got := isOurs(cmdline, full); got != tc.full {
			t.Errorf("full cluster owns %v: %v, want %v", tc.cmdline, got, tc.full)
		}
		if got := isOurs(cmdline, edge); got != tc.edge {
			t.Errorf("instance edge owns %v: %v, want %v", tc.cmdline, got, tc.edge)
		}
	}
}

// TestInstanceNames: what each instance's kubeconfig calls things, so that
// KUBECONFIG=full:a:b merges without a clash, and the ports of each slot.
func TestInstanceNames(t *testing.T) {
	full, edge := layout{}, layout{Name: "edge"}
	for _, tc := range []struct{ got, want string }{
		{full.clusterName(), "crashlens"},
		{full.contextName("admin"), "crashlens-admin"},
		{full.userName("viewer-ns"), "viewer-ns"},
		{edge.clusterName(), "crashlens-edge"},
		{edge.contextName("admin"), "edge"},
		{edge.contextName("no-logs"), "edge-no-logs"},
		{edge.userName("admin"), "admin@edge"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	seen := map[int]bool{etcdPort: true, etcdPeerPort: true, apiserverPort: true}
	for k := 1; k <= 50; k++ {
		p := slotPorts(k)
		for _, port := range []int{p.Etcd, p.EtcdPeer, p.APIServer} {
			if seen[port] || port > 65535 {
				t.Fatalf("slot %d: port %d clashes or is out of range", k, port)
			}
			seen[port] = true
		}
	}
	for _, n := range []string{"edge", "fleet-2", "a"} {
		if !validInstance(n) {
			t.Errorf("%q should be a valid instance name", n)
		}
	}
	for _, n := range []string{"", "Edge", "a/b", "../x", "a b"} {
		if validInstance(n) {
			t.Errorf("%q should not be a valid instance name", n)
		}
	}
}
