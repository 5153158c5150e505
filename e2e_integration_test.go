//go:build integration

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

func TestTUIEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed for the end-to-end test (make deps installs it)")
	}
	kubeconfig := clustertest.Kubeconfig(t, "admin")
	clustertest.ScenariosOnce(t)
	// A pod that crashed once and now runs: listed as restarted, and
	// reliably running when the test opens a shell in it.
	ns := fmt.Sprintf("it-e2e-%d", time.Now().UnixNano()%1000000)
	clustertest.Kubectl(t, "", "create", "namespace", ns)
	defer clustertest.Kubectl(t, "", "delete", "namespace", ns, "--wait=false")
	clustertest.Kubectl(t, onceCrashed(ns, "once-crashed"), "apply", "-f", "-")

	bin := clustertest.BuildCrashlens(t, "e2e")
	kubectlDir := clustertest.BinDir(t)
	x := clustertest.Tmux{TB: t, Session: fmt.Sprintf("crashlens-e2e-%d", os.Getpid())}
	cmd := fmt.Sprintf("PATH=%s:$PATH %s --kubeconfig %s; echo CRASHLENS-EXITED-$?; tput cnorm >/dev/null 2>&1; sleep 60", kubectlDir, bin, kubeconfig)
	x.Run("new-session", "-d", "-s", x.Session, "-x", "120", "-y", "36", cmd)
	defer exec.Command("tmux", "kill-session", "-t", x.Session).Run()

	x.WaitFor(30*time.Second, "deploy/probe-mixup-bad", "synced")
	x.Keys("/")
	x.Keys("-l", "probe-mixup-bad")
	s := x.WaitForLine(5*time.Second, "/probe-mixup-bad")
	// The best match ranks first (the cursor is on it): the row under the
	// header.
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "NAMESPACE") && (i+1 >= len(lines) || !strings.Contains(lines[i+1], "deploy/probe-mixup-bad")) {
			t.Errorf("the best match is not first:\n%s", s)
		}
	}
	x.Keys("Enter")
	x.WaitFor(30*time.Second, "1. liveness-kill", "Killing", "failed liveness probe", "killed by grace-period", "warming up for 30s", "/readyz → /healthz")
	x.Keys("Escape")
	x.WaitFor(5*time.Second, "NAMESPACE", "WORKLOAD")
	x.Keys("Escape") // clears the filter
	x.WaitFor(5*time.Second, "deploy/report-builder")

	x.Keys("/")
	x.Keys("-l", "once-crashed")
	x.WaitForLine(5*time.Second, "/once-crashed")
	x.WaitFor(60*time.Second, "deploy/once-crashed", "Restarted")
	x.Keys("Enter")
	x.WaitFor(30*time.Second, "once-crashed", "Exit code")
	shellRoundTrip(x, "e2e-shell", "once-crashed")
	x.Keys("C-c")
	s = x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")
	if strings.Contains(s, "NAMESPACE") {
		t.Errorf("the alternate screen was left behind:\n%s", s)
	}
	if cursor := strings.TrimSpace(x.Run("display-message", "-p", "-t", x.Session, "#{cursor_flag}")); cursor != "1" {
		t.Errorf("cursor hidden after quit (cursor_flag=%s)", cursor)
	}
}
