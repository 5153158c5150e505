//go:build integration

package kube

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/hack/clustertest"
)

func TestDetailCalls(t *testing.T) {
	c := clustertest.ClientsetAs(t, "admin", NewClientset)
	clustertest.ScenariosOnce(t)
	ctx := context.Background()
	pod := clustertest.ScenarioPod(t, c, "probe-mixup-bad")
	owners, err := OwnerChain(ctx, c, pod)
	if err != nil {
		t.Fatal(err)
	}
	if len(owners.Chain) != 2 || owners.Chain[1] != "Deployment/probe-mixup-bad" || owners.Deployment == nil || len(owners.ReplicaSets) == 0 {
		t.Errorf("owners %+v", owners)
	}
	events, err := Events(ctx, c, pod.Namespace, pod.Name, owners.Chain)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range events {
		found = found || (e.Reason == "Killing" && strings.Contains(e.Message, "failed liveness probe"))
	}
	if !found {
		t.Errorf("no Killing event among %d", len(events))
	}
	log, err := PreviousLog(ctx, c, pod.Namespace, pod.Name, "app")
	if err != nil || !strings.Contains(log, "warming up for 30s") {
		t.Errorf("previous log %q, %v", log, err)
	}
	if d := BackoffCap(ctx, c, pod.Spec.NodeName); d != 10*time.Second {
		t.Errorf("back-off cap %s, want the node's 10s", d)
	}
	// list -o wide reads the instance that died, as the detail does: a
	// native sidecar's and a failed Job pod's log is not --previous.
	var groups []crash.Group
	for _, s := range []struct{ scenario, container string }{{"sidecar-crashloop", "log-shipper"}, {"job-backoff-limit", "import"}} {
		p := clustertest.ScenarioPod(t, c, s.scenario)
		groups = append(groups, crash.Group{Key: s.scenario, Pods: []diagnose.CrashPod{{Namespace: p.Namespace, Name: p.Name, Container: s.container}}})
	}
	firsts := FirstLogErrors(ctx, c, groups)
	if !strings.Contains(firsts["sidecar-crashloop"], "connection refused") || !strings.Contains(firsts["job-backoff-limit"], "No such file") {
		t.Errorf("first log errors of a sidecar and a failed Job's pod: %q", firsts)
	}
	healthy := clustertest.ScenarioPod(t, c, "healthy")
	if _, err := PreviousLog(ctx, c, healthy.Namespace, healthy.Name, "web"); !errors.Is(err, ErrNoPreviousLog) {
		t.Errorf("previous log of a container that never restarted: %v, want ErrNoPreviousLog", err)
	}
}

func TestArgvBuildersWork(t *testing.T) {
	c := clustertest.ClientsetAs(t, "admin", NewClientset)
	clustertest.ScenariosOnce(t)
	kubeconfig := clustertest.Kubeconfig(t, "admin")
	// A kubectl found through a relative PATH entry is refused (exec.ErrDot).
	t.Setenv("PATH", filepath.Join("..", "hack", "cluster", "bin"))
	if _, err := FindKubectl(); !errors.Is(err, ErrNoKubectl) {
		t.Errorf("kubectl through a relative PATH entry: %v, want refused", err)
	}
	bin, _ := filepath.Abs(filepath.Join("..", "hack", "cluster", "bin"))
	t.Setenv("PATH", bin)
	kc, err := FindKubectl()
	if err != nil {
		t.Fatal(err)
	}
	pod := clustertest.ScenarioPod(t, c, "healthy")
	k := KubectlArgs{Kubeconfig: kubeconfig}
	cmd := exec.Command(kc, k.Exec(pod.Namespace, pod.Name, "web")...)
	cmd.Stdin = strings.NewReader("echo argv-exec-ok from $(hostname)\nexit\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "argv-exec-ok from "+pod.Name) {
		t.Errorf("exec: %v: %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var logs bytes.Buffer
	cmd = exec.CommandContext(ctx, kc, k.Logs(pod.Namespace, pod.Name, "web")...)
	cmd.Stdout = &logs
	_ = cmd.Run() // killed by the timeout: logs -f follows until then
	if !strings.Contains(logs.String(), "serving on 8080") {
		t.Errorf("logs -f printed %q", logs.String())
	}
	if !strings.Contains(strings.Join(k.Describe("ns", "p"), " "), "--kubeconfig "+kubeconfig+" -n ns describe pod p") {
		t.Errorf("describe argv %v", k.Describe("ns", "p"))
	}
}
