//go:build fault

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestFaultFleetClusterLost: the live view watches "here" (the real
// cluster) and "edge" (the same cluster through a proxy). The proxy goes
// down under it: edge says reconnecting within 2 s and its rows stay,
// marked stale; a crash that starts meanwhile shows on "here" within 1 s of
// the API having it; when the proxy is back edge is live again with every
// row, the new crash included.
func TestFaultFleetClusterLost(t *testing.T) {
	cs := adminClientset(t)
	path, proxy := fleetKubeconfig(t)
	ns := faultNamespace
	ctx := context.Background()
	name := func(s string) string { return fmt.Sprintf("%s-%d", s, time.Now().UnixNano()%100000) }
	lost, late := name("fleet-lost"), name("fleet-late")
	for _, pod := range []string{lost, late} {
		t.Cleanup(func() { _ = cs.CoreV1().Pods(ns).Delete(ctx, pod, metav1.DeleteOptions{}) })
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, crashingPod(ns, lost), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCrashing(t, cs, ns+"/Pod/"+lost)

	bin := buildCrashlens(t, "fleet-fault")
	x := tmux{t: t, session: fmt.Sprintf("crashlens-fleet-fault-%d", os.Getpid())}
	cmd := fmt.Sprintf("%s --kubeconfig %s --context here,edge -n %s; echo CRASHLENS-EXITED-$?; sleep 60", bin, path, ns)
	x.run("new-session", "-d", "-s", x.session, "-c", t.TempDir(), "-x", "140", "-y", "36", "-e", "XDG_STATE_HOME="+os.Getenv("XDG_STATE_HOME"), cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", x.session).Run() })
	x.waitFor(60*time.Second, "edge ✓", "here ✓", lost)

	proxy.set("cut")
	down := time.Now()
	var s string
	if !poll(10*time.Second, 20*time.Millisecond, func() bool { s = x.screen(); return strings.Contains(statusLine(s), "edge reconnecting") }) {
		t.Fatalf("edge never said reconnecting:\n%s", s)
	}
	took := time.Since(down)
	t.Logf("edge said reconnecting %s after its connection was cut", took.Round(10*time.Millisecond))
	if took > 2*time.Second {
		t.Errorf("edge said reconnecting after %s, want within 2 s", took.Round(10*time.Millisecond))
	}
	x.waitFor(5*time.Second, "edge stale")

	if _, err := cs.CoreV1().Pods(ns).Create(ctx, crashingPod(ns, late), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// When the API has the crash, and when "here" shows it: polled together.
	var inAPI, onScreen time.Time
	shownOnHere := func(screen string) bool {
		for _, l := range strings.Split(screen, "\n") {
			if strings.HasPrefix(l, "here ") && strings.Contains(l, late) {
				return true
			}
		}
		return false
	}
	poll(90*time.Second, 50*time.Millisecond, func() bool {
		if inAPI.IsZero() {
			for k := range truth(t, cs) {
				if strings.HasPrefix(k, ns+"/Pod/"+late) {
					inAPI = time.Now()
				}
			}
		}
		if onScreen.IsZero() && shownOnHere(x.screen()) {
			onScreen = time.Now()
		}
		return !inAPI.IsZero() && !onScreen.IsZero()
	})
	if inAPI.IsZero() || onScreen.IsZero() {
		t.Fatalf("the new crash: in the API at %v, on here's rows at %v:\n%s", inAPI, onScreen, x.screen())
	}
	lag := onScreen.Sub(inAPI)
	t.Logf("with edge down, a new crash showed on here %s after the API had it", lag.Round(10*time.Millisecond))
	if lag > time.Second {
		t.Errorf("the new crash showed on here %s after the API had it, want within 1 s", lag.Round(10*time.Millisecond))
	}
	if s := statusLine(x.screen()); !strings.Contains(s, "edge reconnecting") {
		t.Errorf("edge came back while its proxy is down? %q", s)
	}

	proxy.set("pass")
	back := time.Now()
	s = x.waitFor(60*time.Second, "edge ✓ 2")
	t.Logf("edge live again %s after its proxy came back", time.Since(back).Round(100*time.Millisecond))
	if strings.Contains(s, "stale") {
		t.Errorf("rows still stale after edge came back:\n%s", s)
	}
	for _, pod := range []string{lost, late} {
		for _, cluster := range []string{"here", "edge"} {
			found := false
			for _, l := range strings.Split(s, "\n") {
				found = found || strings.HasPrefix(l, cluster+" ") && strings.Contains(l, pod)
			}
			if !found {
				t.Errorf("no %s row of %s after edge came back:\n%s", cluster, pod, s)
			}
		}
	}
	x.keys("C-c")
	x.waitFor(10*time.Second, "CRASHLENS-EXITED-0")
}
