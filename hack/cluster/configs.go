package main

import (
	_ "embed"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
)

// user is one static-token identity of the test cluster.
type user struct {
	Name   string
	Groups []string
}

// users: the admin, the node, and the restricted users the RBAC tests log
// in as (their rights are in rbac.yaml).
var users = []user{
	{Name: "admin", Groups: []string{"system:masters"}},
	{Name: "system:node:" + nodeName, Groups: []string{"system:nodes"}},
	{Name: "viewer-ns"},
	{Name: "no-logs"},
	{Name: "no-events"},
}

// kubeconfigName is the file a user's kubeconfig is written to.
func kubeconfigName(u string) string {
	switch {
	case u == "admin":
		return "kubeconfig"
	case strings.HasPrefix(u, "system:node:"):
		return "kubelet.kubeconfig"
	default:
		return "kubeconfig-" + u
	}
}

// writeAuth writes the token file and a kubeconfig per user.
func writeAuth(l layout, p pki) error {
	ca, err := os.ReadFile(p.path("ca.crt"))
	if err != nil {
		return err
	}
	var csv strings.Builder
	for i, u := range users {
		tok := randomToken()
		fmt.Fprintf(&csv, "%s,%s,%d,\"%s\"\n", tok, u.Name, 1000+i, strings.Join(u.Groups, ","))
		ns := "default"
		if u.Name == "viewer-ns" {
			ns = viewerNS
		}
		kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    certificate-authority-data: %[3]s
users:
- name: %[4]s
  user:
    token: %[5]s
contexts:
- name: %[6]s
  context: {cluster: %[1]s, user: %[4]s, namespace: %[7]s}
current-context: %[6]s
`, l.clusterName(), l.apiserverURL(), base64.StdEncoding.EncodeToString(ca), l.userName(u.Name), tok, l.contextName(u.Name), ns)
		if err := os.WriteFile(l.data(kubeconfigName(u.Name)), []byte(kc), 0o600); err != nil {
			return err
		}
	}
	return os.WriteFile(l.data("tokens.csv"), []byte(csv.String()), 0o600)
}

// The names in an instance's kubeconfigs. The full cluster's are
// crashlens, USER and crashlens-USER; a named instance's carry its name
// (its admin context is the name itself), so the kubeconfigs of several
// instances merge without a clash, as KUBECONFIG=a:b:c does.
func (l layout) clusterName() string {
	if l.Name == "" {
		return "crashlens"
	}
	return "crashlens-" + l.Name
}

func (l layout) userName(u string) string {
	if l.Name == "" {
		return u
	}
	return u + "@" + l.Name
}

func (l layout) contextName(u string) string {
	switch {
	case l.Name == "":
		return "crashlens-" + shortName(u)
	case u == "admin":
		return l.Name
	default:
		return l.Name + "-" + shortName(u)
	}
}

func shortName(u string) string {
	if strings.HasPrefix(u, "system:node:") {
		return "node"
	}
	return u
}

func kubeletConfig(l layout, p pki, o options) string {
	backoff := ""
	if o.BackoffCap != "" {
		backoff = "crashLoopBackOff:\n  maxContainerRestartPeriod: " + o.BackoffCap + "\n"
	}
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %s
port: %d
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %s}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: unix://%s
clusterDomain: cluster.local
# Pod DNS points at loopback inside the pod: nothing resolves outside names.
clusterDNS: [127.0.0.1]
resolvConf: %s
podLogsDir: %s
containerLogMaxSize: 10Mi
containerLogMaxFiles: 2
# Local images have no registry to pull from again: never collect them, and
# never evict on a busy developer disk.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: "100Mi", nodefs.available: "1%%", imagefs.available: "1%%", nodefs.inodesFree: "1%%"}
serializeImagePulls: false
maxPods: 250
%s`, nodeIP, kubeletPort, p.path("ca.crt"), l.containerdSock(), l.data("resolv.conf"), l.data("pod-logs"), backoff)
}

func containerdConfig(l layout) string {
	return fmt.Sprintf(`version = 2
root = %q
state = %q
[grpc]
  address = %q
[ttrpc]
  address = %q
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = %q
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = %q
  # This VM lacks CAP_SYS_RESOURCE: without this every sandbox fails with
  # "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = %q
`, l.data("containerd"), l.run("containerd"), l.containerdSock(), l.run("containerd", "ttrpc.sock"),
		l.data("containerd-opt"), pauseImage, l.data("cni"))
}

func cniConfig(l layout) string {
	return fmt.Sprintf(`{
  "cniVersion": "0.4.0",
  "name": "crashlens",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": %q,
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "routes": [{"dst": %q}]
      }
    },
    {"type": "loopback"}
  ]
}
`, bridgeName, l.data("cni-ipam"), podCIDR, nodeIP, podCIDR)
}

// auditPolicy records who did what at Metadata level, so tests can prove
// crashlens only reads (see the reliability issue).
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

//go:embed rbac.yaml
var rbacYAML string
