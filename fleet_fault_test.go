//go:build fault

package main

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/hack/clustertest"
)

// TestFaultFleetClusterLost: the live view watches the full cluster
// ("here") and both control-plane-only clusters, each with a crash. One
// instance's kube-apiserver is stopped under it: that cluster says
// reconnecting within 2 s and its rows stay, marked stale; a crash written
// meanwhile to the other instance shows within 1 s; when the apiserver is
// back its rows are live again with none lost, and a crash written to it
// then shows too.
func TestFaultFleetClusterLost(t *testing.T) {
	f := fleetClusters(t)
	csA, csB := f.clientset(t, f.a), f.clientset(t, f.b)
	ns := fmt.Sprintf("fleet-fault-%d", time.Now().UnixNano()%100000)
	seedCrash(t, csA, ns, "lost")
	seedCrash(t, csB, ns, "steady")

	bin := clustertest.BuildCrashlens(t, "fleet-fault")
	x := clustertest.Tmux{TB: t, Session: fmt.Sprintf("crashlens-fleet-fault-%d", os.Getpid())}
	cmd := fmt.Sprintf("KUBECONFIG=%s %s --context here,%s,%s -n %s; echo CRASHLENS-EXITED-$?; sleep 60", f.kubeconfig, bin, f.a, f.b, ns)
	x.Run("new-session", "-d", "-s", x.Session, "-c", t.TempDir(), "-x", "160", "-y", "36", "-e", "XDG_STATE_HOME="+os.Getenv("XDG_STATE_HOME"), cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", x.Session).Run() })
	x.WaitFor(60*time.Second, f.a+" ✓ 1", f.b+" ✓ 1", "here ✓", "pod/lost", "pod/steady")

	stopping := time.Now()
	toggleInstance(t, f.a, "stop")
	stopped := time.Now()
	t.Cleanup(func() { toggleInstance(t, f.a, "start") }) // a no-op when it runs
	var s string
	if !clustertest.Poll(10*time.Second, 20*time.Millisecond, func() bool { s = x.Screen(); return strings.Contains(statusLine(s), f.a+" reconnecting") }) {
		t.Fatalf("%s never said reconnecting:\n%s", f.a, s)
	}
	took := time.Since(stopped)
	t.Logf("%s's apiserver took %s to stop; the view said reconnecting %s after it was gone", f.a, stopped.Sub(stopping).Round(10*time.Millisecond), took.Round(10*time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("%s said reconnecting %s after its apiserver stopped, want within 2 s", f.a, took.Round(10*time.Millisecond))
	}
	s = x.WaitFor(5*time.Second, f.a+" stale")
	if !rowOn(s, f.a, "pod/lost") {
		t.Errorf("the lost cluster's row is gone while it is down:\n%s", s)
	}

	seedCrash(t, csB, ns, "late")
	written := time.Now()
	if !clustertest.Poll(10*time.Second, 20*time.Millisecond, func() bool { s = x.Screen(); return rowOn(s, f.b, "pod/late") }) {
		t.Fatalf("the crash written to %s never showed:\n%s", f.b, s)
	}
	lag := time.Since(written)
	t.Logf("with %s down, a new crash on %s showed %s after it was written", f.a, f.b, lag.Round(10*time.Millisecond))
	if lag > time.Second {
		t.Errorf("the new crash on %s showed %s after it was written, want within 1 s", f.b, lag.Round(10*time.Millisecond))
	}
	if s := statusLine(x.Screen()); !strings.Contains(s, f.a+" reconnecting") {
		t.Errorf("%s came back while its apiserver is stopped? %q", f.a, s)
	}

	toggleInstance(t, f.a, "start")
	back := time.Now()
	s = x.WaitFor(60*time.Second, f.a+" ✓ 1")
	t.Logf("%s live again %s after its apiserver answered", f.a, time.Since(back).Round(100*time.Millisecond))
	if strings.Contains(s, "stale") {
		t.Errorf("rows still stale after %s came back:\n%s", f.a, s)
	}
	for cluster, pods := range map[string][]string{f.a: {"lost"}, f.b: {"steady", "late"}} {
		for _, pod := range pods {
			if !rowOn(s, cluster, "pod/"+pod) {
				t.Errorf("no %s row of %s after %s came back:\n%s", cluster, pod, f.a, s)
			}
		}
	}
	seedCrash(t, csA, ns, "after")
	x.WaitFor(10*time.Second, f.a+" ✓ 2")
	x.Keys("C-c")
	x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")
}

// rowOn reports whether the screen has a row of cluster that shows group.
func rowOn(screen, cluster, group string) bool {
	for _, l := range strings.Split(screen, "\n") {
		if strings.HasPrefix(l, cluster+" ") && strings.Contains(l, group) {
			return true
		}
	}
	return false
}
