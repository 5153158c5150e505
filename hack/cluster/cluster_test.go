//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests prove the test cluster is real: containers really crash, logs
// and exec go through the apiserver to the kubelet, RBAC really restricts.
// They run under `clusterctl with`, which sets CRASHLENS_KUBECONFIG; without
// it they fail rather than skip.

func kubeconfig(t *testing.T, user string) string {
	t.Helper()
	admin := os.Getenv("CRASHLENS_KUBECONFIG")
	if admin == "" {
		t.Fatal("CRASHLENS_KUBECONFIG is not set: run these tests through `make test` (clusterctl with ...)")
	}
	if user == "admin" {
		return admin
	}
	return filepath.Join(filepath.Dir(admin), "kubeconfig-"+user)
}

// kubectl runs the cluster's own kubectl as user and returns stdout and
// stderr.
func kubectl(t *testing.T, user string, args ...string) (string, string, error) {
	t.Helper()
	bin := filepath.Join(envOr("CRASHLENS_CLUSTER_BIN", "bin"), "kubectl")
	cmd := exec.Command(bin, append([]string{"--kubeconfig", kubeconfig(t, user), "--request-timeout", "30s"}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

func mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := kubectl(t, "admin", args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func apply(t *testing.T, manifest string) {
	t.Helper()
	bin := filepath.Join(envOr("CRASHLENS_CLUSTER_BIN", "bin"), "kubectl")
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig(t, "admin"), "apply", "-f", "-")
	cmd.Stdin = strings.NewReader(manifest)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("apply: %v: %s", err, out)
	}
}

func namespace(t *testing.T, name string) {
	t.Helper()
	mustKubectl(t, "create", "namespace", name)
	t.Cleanup(func() { _, _, _ = kubectl(t, "admin", "delete", "namespace", name, "--wait=false") })
}

// eventually polls check until it returns true or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, check func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	last := ""
	for time.Now().Before(deadline) {
		ok, state := check()
		if ok {
			return
		}
		last = state
		time.Sleep(time.Second)
	}
	t.Fatalf("%s: not reached within %s; last state: %s", what, timeout, last)
}

type podStatus struct {
	Items []struct {
		Metadata struct{ Name string }
		Status   struct {
			Phase             string
			ContainerStatuses []struct {
				Name         string
				RestartCount int
				Ready        bool
				State        map[string]json.RawMessage
				LastState    struct {
					Terminated *struct {
						ExitCode int
						Reason   string
					}
				}
			}
		}
	}
}

func pods(t *testing.T, ns, selector string) podStatus {
	t.Helper()
	var ps podStatus
	out := mustKubectl(t, "-n", ns, "get", "pods", "-l", selector, "-o", "json")
	if err := json.Unmarshal([]byte(out), &ps); err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestCrashLoopIsReal(t *testing.T) {
	const ns = "it-crashloop"
	namespace(t, ns)
	apply(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: exits-three, namespace: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: exits-three}}
  template:
    metadata: {labels: {app: exits-three}}
    spec:
      containers:
      - name: app
        image: %s
        imagePullPolicy: Never
        command: ["sh", "-c", "echo 'fatal: config missing, exiting with 3'; exit 3"]
`, ns, busyboxImage))
	var pod string
	eventually(t, 90*time.Second, "restartCount >= 2 with last exit code 3", func() (bool, string) {
		ps := pods(t, ns, "app=exits-three")
		if len(ps.Items) == 0 || len(ps.Items[0].Status.ContainerStatuses) == 0 {
			return false, "no container status yet"
		}
		pod = ps.Items[0].Metadata.Name
		cs := ps.Items[0].Status.ContainerStatuses[0]
		term := cs.LastState.Terminated
		state := fmt.Sprintf("restarts=%d lastState=%+v", cs.RestartCount, term)
		return cs.RestartCount >= 2 && term != nil && term.ExitCode == 3, state
	})
	// logs --previous travels apiserver -> kubelet -> containerd's log file.
	out := mustKubectl(t, "-n", ns, "logs", pod, "--previous")
	if !strings.Contains(out, "fatal: config missing, exiting with 3") {
		t.Errorf("logs --previous = %q, want the line the container printed", out)
	}
	events := mustKubectl(t, "-n", ns, "get", "events", "--field-selector", "involvedObject.name="+pod, "-o", "jsonpath={range .items[*]}{.reason}{\"\\n\"}{end}")
	if !strings.Contains(events, "BackOff") {
		t.Errorf("no BackOff event for a crash-looping pod; events:\n%s", events)
	}
}

func TestExecIntoRunningPod(t *testing.T) {
	const ns = "it-exec"
	namespace(t, ns)
	apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: sleeper, namespace: %s}
spec:
  containers:
  - {name: app, image: %s, imagePullPolicy: Never, command: ["sleep", "3600"]}
`, ns, busyboxImage))
	mustKubectl(t, "-n", ns, "wait", "--for=condition=Ready", "pod/sleeper", "--timeout=60s")
	out := mustKubectl(t, "-n", ns, "exec", "sleeper", "--", "sh", "-c", "echo exec-ok from $(hostname)")
	if strings.TrimSpace(out) != "exec-ok from sleeper" {
		t.Errorf("exec output %q", out)
	}
	// Nothing leaves the machine: a pod has no route outside the pod network.
	// 192.0.2.1 is TEST-NET-1, reserved for documentation.
	_, errOut, err := kubectl(t, "admin", "-n", ns, "exec", "sleeper", "--", "nc", "-w", "2", "192.0.2.1", "80")
	if err == nil || !strings.Contains(errOut, "unreachable") {
		t.Errorf("a pod reached outside the pod network: err=%v stderr=%q", err, errOut)
	}
}

func TestRestrictedUsers(t *testing.T) {
	tests := []struct {
		user      string
		args      []string
		forbidden bool
	}{
		{"viewer-ns", []string{"get", "pods", "--all-namespaces"}, true},
		{"viewer-ns", []string{"-n", viewerNS, "get", "pods"}, false},
		{"viewer-ns", []string{"-n", "default", "get", "pods"}, true},
		{"no-logs", []string{"get", "pods", "--all-namespaces"}, false},
		{"no-logs", []string{"auth", "can-i", "get", "pods", "--subresource=log", "-n", "default"}, true},
		{"no-events", []string{"get", "events", "-n", "default"}, true},
		{"no-events", []string{"get", "events.events.k8s.io", "-n", "default"}, true},
		{"no-events", []string{"get", "pods", "--all-namespaces"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.user+" "+strings.Join(tc.args, " "), func(t *testing.T) {
			out, errOut, err := kubectl(t, tc.user, tc.args...)
			denied := strings.Contains(errOut, "Forbidden") || strings.TrimSpace(out) == "no"
			if denied != tc.forbidden {
				t.Errorf("forbidden=%v, want %v (err=%v stdout=%q stderr=%q)", denied, tc.forbidden, err, out, errOut)
			}
			if !tc.forbidden && err != nil {
				t.Errorf("allowed call failed: %v: %s", err, errOut)
			}
		})
	}
}
