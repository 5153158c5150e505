package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

var clusterBinaries = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet", "kubectl", "pause"}

// preflight checks what `up` needs before it changes anything on the host;
// each problem comes with how to fix it.
func preflight(l layout, o options) []string {
	var problems []string
	if os.Geteuid() != 0 {
		problems = append(problems, "must run as root: the kubelet and containerd change mounts, cgroups, iptables and sysctls (use any other kubeconfig for real clusters)")
	}
	for _, b := range clusterBinaries {
		if _, err := os.Stat(l.bin(b)); err != nil {
			problems = append(problems, fmt.Sprintf("%s is missing: run `make cluster-build` (or hack/cluster/build.sh)", l.bin(b)))
		}
	}
	tools := []string{"ip"}
	if !o.ControlPlaneOnly {
		tools = append(tools, "containerd", "containerd-shim-runc-v2", "runc", "ctr", "iptables", "busybox")
	}
	for _, t := range tools {
		if _, err := exec.LookPath(t); err != nil {
			problems = append(problems, fmt.Sprintf("%s not found: apt-get install containerd runc containernetworking-plugins busybox-static iptables iproute2 (make deps)", t))
		}
	}
	if !o.ControlPlaneOnly {
		if _, err := os.Stat("/usr/lib/cni/bridge"); err != nil {
			problems = append(problems, "/usr/lib/cni/bridge not found: apt-get install containernetworking-plugins (make deps)")
		}
	}
	for port, err := range busyPorts(l.Ports) {
		problems = append(problems, fmt.Sprintf("port 127.0.0.1:%d is taken (%v): stop what listens there (ss -ltnp | grep %d)", port, err, port))
	}
	return problems
}

// busyPorts are those of p something already listens on, with why.
func busyPorts(p ports) map[int]error {
	busy := map[int]error{}
	for _, port := range []int{p.Etcd, p.EtcdPeer, p.APIServer} {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			busy[port] = err
			continue
		}
		ln.Close()
	}
	return busy
}

// healthy reports whether a running cluster matches the options and answers.
func healthy(l layout, o options) bool {
	s, ok := l.loadSnapshot()
	if !ok || !s.Finished || s.Options != o {
		return false
	}
	names := []string{"etcd", "kube-apiserver"}
	if !o.ControlPlaneOnly {
		names = append(names, "kube-controller-manager", "kube-scheduler", "containerd", "kubelet")
	}
	for _, n := range names {
		if !l.alive(n) {
			return false
		}
	}
	c, err := newAPIClient(l, pki{dir: l.data("pki")})
	if err != nil || c.get("/readyz", nil) != nil {
		return false
	}
	return o.ControlPlaneOnly || c.nodeReady() == nil
}

func up(l layout, o options) error {
	if healthy(l, o) {
		step("cluster already up; kubeconfig: %s", l.Kubeconfig())
		return nil
	}
	if _, err := os.Stat(l.Data); err == nil || len(ourProcesses(l)) > 0 {
		step("cleaning up a previous run")
		if err := down(l); err != nil {
			return fmt.Errorf("cleaning a previous run: %w", err)
		}
	}
	if l.Name != "" {
		if !o.ControlPlaneOnly {
			return fmt.Errorf("instance %s: a named instance is control-plane-only (the node, its bridge and host changes are the full cluster's): add --control-plane-only", l.Name)
		}
		if err := os.MkdirAll(l.Data, 0o755); err != nil {
			return err
		}
		if err := l.allocatePorts(); err != nil {
			return err
		}
	}
	if problems := preflight(l, o); len(problems) > 0 {
		return fmt.Errorf("cannot start the test cluster:\n  - %s", strings.Join(problems, "\n  - "))
	}
	for _, d := range []string{l.Data, l.Run, l.data("logs"), l.data("cni"), l.data("pod-logs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	snap := takeSnapshot(o)
	if err := l.saveSnapshot(snap); err != nil {
		return err
	}
	start := time.Now()
	p := pki{dir: l.data("pki")}
	if err := p.generate(); err != nil {
		return fmt.Errorf("pki: %w", err)
	}
	if err := writeAuth(l, p); err != nil {
		return err
	}
	if err := os.WriteFile(l.data("audit-policy.yaml"), []byte(auditPolicy), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(l.data("resolv.conf"), []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		return err
	}
	if l.Name == "" {
		if err := setupBridge(); err != nil {
			return err
		}
	}

	step("starting etcd")
	if err := l.start(etcd(l)); err != nil {
		return err
	}
	if err := waitFor("etcd", etcdReadyTimeout, func() error { return httpOK(fmt.Sprintf("http://127.0.0.1:%d/health", l.Ports.Etcd)) }); err != nil {
		return withLog(l, "etcd", err)
	}
	step("starting kube-apiserver")
	if err := l.start(apiserver(l, p, o)); err != nil {
		return err
	}
	c, err := newAPIClient(l, p)
	if err != nil {
		return err
	}
	if err := waitFor("kube-apiserver", apiserverReadyTimeout, func() error { return c.get("/readyz", nil) }); err != nil {
		return withLog(l, "kube-apiserver", err)
	}
	if err := applyRBAC(l); err != nil {
		return err
	}
	if !o.ControlPlaneOnly {
		if err := startNode(l, p, o, c); err != nil {
			return err
		}
	}
	snap.Finished = true
	if err := l.saveSnapshot(snap); err != nil {
		return err
	}
	step("cluster up in %s; kubeconfig: %s", time.Since(start).Round(time.Second), l.Kubeconfig())
	return nil
}

func startNode(l layout, p pki, o options, c *apiClient) error {
	step("starting kube-controller-manager and kube-scheduler")
	if err := l.start(controllerManager(l, p)); err != nil {
		return err
	}
	if err := l.start(scheduler(l)); err != nil {
		return err
	}
	if err := isolatePods(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(l.data("cni"), "10-crashlens.conflist"), []byte(cniConfig(l)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(l.data("containerd.toml"), []byte(containerdConfig(l)), 0o644); err != nil {
		return err
	}
	step("starting containerd")
	if err := l.start(component{Name: "containerd", Path: mustLook("containerd"), Args: []string{"--config", l.data("containerd.toml")}}); err != nil {
		return err
	}
	if err := waitFor("containerd", 30*time.Second, func() error { return ctr(l, "version") }); err != nil {
		return withLog(l, "containerd", err)
	}
	step("importing the pause and busybox images")
	if err := importBaseImages(l); err != nil {
		return err
	}
	if err := os.WriteFile(l.data("kubelet.yaml"), []byte(kubeletConfig(l, p, o)), 0o644); err != nil {
		return err
	}
	step("starting kubelet; waiting for node %s to be Ready", nodeName)
	if err := l.start(kubelet(l)); err != nil {
		return err
	}
	if err := waitFor("node "+nodeName, nodeReadyTimeout, c.nodeReady); err != nil {
		return withLog(l, "kubelet", err)
	}
	if err := waitFor("default ServiceAccount", 60*time.Second, c.defaultServiceAccount); err != nil {
		return withLog(l, "kube-controller-manager", err)
	}
	return nil
}

func setupBridge() error {
	if linkExists(bridgeName) {
		return nil
	}
	if err := run("ip", "link", "add", bridgeName, "type", "bridge"); err != nil {
		return err
	}
	if err := run("ip", "addr", "add", nodeIP+"/24", "dev", bridgeName); err != nil {
		return err
	}
	return run("ip", "link", "set", bridgeName, "up")
}

func applyRBAC(l layout) error {
	cmd := exec.Command(l.bin("kubectl"), "--kubeconfig", l.Kubeconfig(), "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(rbacYAML)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("applying RBAC for the test users: %v: %s", err, out)
	}
	return nil
}

func etcd(l layout) component {
	client := fmt.Sprintf("http://127.0.0.1:%d", l.Ports.Etcd)
	peer := fmt.Sprintf("http://127.0.0.1:%d", l.Ports.EtcdPeer)
	return component{Name: "etcd", Path: l.bin("etcd"), Args: []string{
		"--name=crashlens", "--data-dir=" + l.data("etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=crashlens=" + peer,
		"--quota-backend-bytes=8589934592", // 150k-pod benchmarks
		"--unsafe-no-fsync=true",           // a throwaway test store: speed over durability
		"--log-level=warn",
	}}
}

func apiserver(l layout, p pki, o options) component {
	args := []string{
		fmt.Sprintf("--etcd-servers=http://127.0.0.1:%d", l.Ports.Etcd),
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", l.Ports.APIServer),
		"--advertise-address=" + nodeIP,
		"--tls-cert-file=" + p.path("apiserver.crt"), "--tls-private-key-file=" + p.path("apiserver.key"),
		"--client-ca-file=" + p.path("ca.crt"),
		"--token-auth-file=" + l.data("tokens.csv"),
		"--authorization-mode=Node,RBAC",
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file=" + p.path("sa.pub"),
		"--service-account-signing-key-file=" + p.path("sa.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--kubelet-client-certificate=" + p.path("apiserver-kubelet-client.crt"),
		"--kubelet-client-key=" + p.path("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types=InternalIP",
		"--allow-privileged=true",
		"--audit-policy-file=" + l.data("audit-policy.yaml"),
		"--audit-log-path=" + l.data("logs", "audit.log"),
		"--audit-log-maxsize=200", "--audit-log-maxbackup=1",
		"--max-requests-inflight=1000", "--max-mutating-requests-inflight=500",
	}
	if o.ControlPlaneOnly {
		// No controller-manager creates ServiceAccounts: benchmarks write pods directly.
		args = append(args, "--disable-admission-plugins=ServiceAccount")
		// The scale benchmark collects the apiserver's garbage before each
		// measured LIST (/debug/pprof/heap?gc=1, admin only, loopback).
		args = append(args, "--profiling=true")
	} else {
		args = append(args, "--enable-admission-plugins=NodeRestriction", "--profiling=false")
	}
	return component{Name: "kube-apiserver", Path: l.bin("kube-apiserver"), Args: args}
}

func controllerManager(l layout, p pki) component {
	return component{Name: "kube-controller-manager", Path: l.bin("kube-controller-manager"), Args: []string{
		"--kubeconfig=" + l.Kubeconfig(),
		"--bind-address=127.0.0.1", "--secure-port=0",
		"--service-account-private-key-file=" + p.path("sa.key"),
		"--root-ca-file=" + p.path("ca.crt"),
		"--cluster-signing-cert-file=" + p.path("ca.crt"), "--cluster-signing-key-file=" + p.path("ca.key"),
		"--leader-elect=false",
		"--kube-api-qps=200", "--kube-api-burst=400",
	}}
}

func scheduler(l layout) component {
	return component{Name: "kube-scheduler", Path: l.bin("kube-scheduler"), Args: []string{
		"--kubeconfig=" + l.Kubeconfig(),
		"--bind-address=127.0.0.1", "--secure-port=0",
		"--leader-elect=false",
		"--kube-api-qps=200", "--kube-api-burst=400",
	}}
}

func kubelet(l layout) component {
	return component{Name: "kubelet", Path: l.bin("kubelet"), Args: []string{
		"--config=" + l.data("kubelet.yaml"),
		"--kubeconfig=" + l.data(kubeconfigName("system:node:"+nodeName)),
		"--hostname-override=" + nodeName,
		"--node-ip=" + nodeIP,
		"--root-dir=" + l.data("kubelet"),
		"--cert-dir=" + l.data("kubelet", "pki"),
		// Keep the dead container `logs --previous` reads: with the default the
		// status can show a dead container whose log is already gone.
		"--maximum-dead-containers-per-container=2",
		"--v=1",
	}}
}

func mustLook(name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return name
}

func withLog(l layout, name string, err error) error {
	return fmt.Errorf("%w\n--- last lines of %s ---\n%s", err, l.logFile(name), l.tailLog(name, 25))
}

func step(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "==> "+format+"\n", args...)
}
