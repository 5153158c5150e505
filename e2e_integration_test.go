//go:build integration

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestTUIEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed for the end-to-end test (make deps installs it)")
	}
	kubeconfig := clusterKubeconfig(t, "admin")
	demoScenarios(t)
	// A pod that crashed once and now runs: listed as restarted, and
	// reliably running when the test opens a shell in it.
	ns := fmt.Sprintf("it-e2e-%d", time.Now().UnixNano()%1000000)
	kubectlAdmin(t, "", "create", "namespace", ns)
	defer kubectlAdmin(t, "", "delete", "namespace", ns, "--wait=false")
	kubectlAdmin(t, onceCrashed(ns, "once-crashed"), "apply", "-f", "-")

	bin := buildCrashlens(t, "e2e")
	kubectlDir, _ := filepath.Abs(filepath.Join("hack", "cluster", "bin"))
	x := tmux{t: t, session: fmt.Sprintf("crashlens-e2e-%d", os.Getpid())}
	cmd := fmt.Sprintf("PATH=%s:$PATH %s --kubeconfig %s; echo CRASHLENS-EXITED-$?; tput cnorm >/dev/null 2>&1; sleep 60", kubectlDir, bin, kubeconfig)
	x.run("new-session", "-d", "-s", x.session, "-x", "120", "-y", "36", cmd)
	defer exec.Command("tmux", "kill-session", "-t", x.session).Run()

	x.waitFor(30*time.Second, "deploy/probe-mixup-bad", "synced")
	x.keys("/")
	x.keys("-l", "probe-mixup-bad")
	s := x.waitForLine(5*time.Second, "/probe-mixup-bad")
	// The best match ranks first (the cursor is on it): the row under the
	// header.
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "NAMESPACE") && (i+1 >= len(lines) || !strings.Contains(lines[i+1], "deploy/probe-mixup-bad")) {
			t.Errorf("the best match is not first:\n%s", s)
		}
	}
	x.keys("Enter")
	x.waitFor(30*time.Second, "1. liveness-kill", "Killing", "failed liveness probe", "killed by grace-period", "warming up for 30s", "/readyz → /healthz")
	x.keys("Escape")
	x.waitFor(5*time.Second, "NAMESPACE", "WORKLOAD")
	x.keys("Escape") // clears the filter
	x.waitFor(5*time.Second, "deploy/report-builder")

	x.keys("/")
	x.keys("-l", "once-crashed")
	x.waitForLine(5*time.Second, "/once-crashed")
	x.waitFor(60*time.Second, "deploy/once-crashed", "Restarted")
	x.keys("Enter")
	x.waitFor(30*time.Second, "once-crashed", "Exit code")
	x.shellRoundTrip("e2e-shell", "once-crashed")
	x.keys("C-c")
	s = x.waitFor(10*time.Second, "CRASHLENS-EXITED-0")
	if strings.Contains(s, "NAMESPACE") {
		t.Errorf("the alternate screen was left behind:\n%s", s)
	}
	if cursor := strings.TrimSpace(x.run("display-message", "-p", "-t", x.session, "#{cursor_flag}")); cursor != "1" {
		t.Errorf("cursor hidden after quit (cursor_flag=%s)", cursor)
	}
}
