//go:build fault

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Fault tests break the cluster (or the network to it) under a running
// crashlens: the TUI in tmux and `list --watch`, both the real binary.
// `make test` runs them on their own, after the integration tests, one
// package at a time.

// faultNamespace holds the fault tests' own pods. It exists from the
// cluster's start: after the apiserver restarts, the controllers' watches
// back off for up to 30 s, and a new namespace may wait that long for the
// default ServiceAccount its pods need.
const faultNamespace = "team-a"

func clusterctl(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(filepath.Join("hack", "cluster", "bin", "clusterctl"), args...).CombinedOutput()
	if err != nil {
		t.Fatalf("clusterctl %v: %v: %s", args, err, out)
	}
}

// procCPU is the CPU time a process used so far (utime+stime).
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// TestFaultAPIServerRestartUnderTUIAndWatch: the kube-apiserver stops for
// 10 s under a running TUI and `list --watch`. The TUI's status bar says so
// within 2 s, neither process spins while the server is gone, both recover
// by themselves, and afterwards the watch stream equals the API with no
// group lost or shown twice.
func TestFaultAPIServerRestartUnderTUIAndWatch(t *testing.T) {
	cs := demoScenarios(t)
	kc := clusterKubeconfig(t, "admin")
	bin := buildCrashlens(t, "fault")
	x := startTUI(t, bin, "--kubeconfig", kc)
	w := startWatch(t, bin, kc)
	x.waitStatus(30*time.Second, "synced")
	w.waitState(30*time.Second, "synced", 1)
	tuiPID, watchPID := pidOf(t, bin, "list"), pidOf(t, bin, "--watch")

	clusterctl(t, "stop", "kube-apiserver")
	stopped := time.Now()
	s := x.waitStatus(2*time.Second, "reconnecting")
	t.Logf("TUI status %s after the stop: %q", time.Since(stopped).Round(100*time.Millisecond), strings.TrimSpace(statusLine(s)))
	w.waitState(2*time.Second, "reconnecting", 1)

	cpuTUI, cpuWatch, wall := procCPU(t, tuiPID), procCPU(t, watchPID), time.Now()
	time.Sleep(8 * time.Second)
	for name, used := range map[string]time.Duration{"TUI": procCPU(t, tuiPID) - cpuTUI, "list --watch": procCPU(t, watchPID) - cpuWatch} {
		share := float64(used) / float64(time.Since(wall))
		t.Logf("%s used %.1f%% of a core while the server was down", name, share*100)
		if share > 0.05 {
			t.Errorf("%s used %.1f%% of a core while the server was down, want under 5%%", name, share*100)
		}
	}
	noLogNoise(t, x.screen())

	clusterctl(t, "start", "kube-apiserver")
	s = x.waitStatus(60*time.Second, "synced")
	noLogNoise(t, s)
	w.waitState(60*time.Second, "synced", 2)
	converges(t, w, cs, 20*time.Second)
	if strings.Contains(x.screen(), "CRASHLENS-EXITED") {
		t.Fatalf("the TUI exited during the restart:\n%s", x.screen())
	}
	x.keys("q")
	x.waitFor(10*time.Second, "CRASHLENS-EXITED-0")
}

// etcdCompact compacts etcd to its current revision, through etcd's HTTP
// gateway on loopback: every older resourceVersion is gone for good.
func etcdCompact(t *testing.T) int64 {
	t.Helper()
	post := func(path, body string) map[string]any {
		resp, err := http.Post("http://127.0.0.1:23790"+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("etcd %s: %s: %s", path, resp.Status, b)
		}
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return out
	}
	hdr, _ := post("/v3/kv/range", `{"key":"AA==","limit":1}`)["header"].(map[string]any)
	rev, _ := strconv.ParseInt(fmt.Sprint(hdr["revision"]), 10, 64)
	if rev == 0 {
		t.Fatalf("no etcd revision in %v", hdr)
	}
	post("/v3/kv/compaction", fmt.Sprintf(`{"revision":"%d","physical":true}`, rev))
	return rev
}

// TestFaultRelistAfterCompaction: while `list --watch` is cut off from the
// server, a crashing pod is deleted and another created, etcd is compacted
// past everything the watch saw and the apiserver restarts (its watch cache
// starts over). The watch's resourceVersion is now too old (410 Gone): it
// relists and shows the true state.
func TestFaultRelistAfterCompaction(t *testing.T) {
	cs := demoScenarios(t)
	ctx := context.Background()
	ns := faultNamespace
	now := metav1.DeleteOptions{GracePeriodSeconds: new(int64)}
	for _, name := range []string{"gone-while-away", "born-while-away"} { // from an earlier run
		_ = cs.CoreV1().Pods(ns).Delete(ctx, name, now)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Pods(ns).Delete(context.Background(), "born-while-away", now) })
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, crashingPod(ns, "gone-while-away"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t)
	w := startWatch(t, buildCrashlens(t, "fault"), p.kubeconfig(t))
	w.waitState(30*time.Second, "synced", 1)
	waitForText(t, w.stdout, 60*time.Second, `"workload":"Pod/gone-while-away"`)

	// A watch cut in its first second is relisted anyway ("very short
	// watch"); an older one resumes from its resourceVersion.
	time.Sleep(2 * time.Second)
	p.set("cut")
	w.waitState(5*time.Second, "reconnecting", 1)
	if err := cs.CoreV1().Pods(ns).Delete(ctx, "gone-while-away", now); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, crashingPod(ns, "born-while-away"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitCrashing(t, cs, ns+"/Pod/born-while-away/")
	rev := etcdCompact(t)
	t.Logf("etcd compacted at revision %d", rev)
	clusterctl(t, "stop", "kube-apiserver")
	clusterctl(t, "start", "kube-apiserver")
	p.set("pass")
	// The relist is quicker than a batch (100 ms): the stream may go from
	// reconnecting to synced; the debug log has every state.
	w.waitState(60*time.Second, "synced", 2)
	converges(t, w, cs, 20*time.Second)
	debug, _ := os.ReadFile(w.debugLog)
	after := string(debug)[bytes.Index(debug, []byte("watcher: reconnecting")):]
	// The apiserver's watch cache answers a too old resourceVersion with a
	// 410 in the stream (or as the response).
	gone := strings.Index(after, "watch: error event 410")
	if gone < 0 {
		gone = strings.Index(after, "watch=true 410")
	}
	relisted := gone >= 0 && strings.Contains(after[gone:], "watcher: relisting") && relistRequest.MatchString(after[gone:])
	if !relisted {
		t.Errorf("no 410 Gone then relist (a LIST of pods) after the reconnect; debug log:\n%s", debug)
	}
	shown := w.groups()
	for k := range shown {
		if strings.HasPrefix(k, ns+"/Pod/gone-while-away/") {
			t.Errorf("the pod deleted while the watch was away is still shown: %s", k)
		}
	}
	t.Logf("stderr of list --watch:\n%s", w.stderr.String())
}

// relistRequest is a debug log line of the watcher's LIST (not a watch).
var relistRequest = regexp.MustCompile(`(?m)GET /api/v1/pods\?fieldSelector=[^ ]*&limit=500 200 `)

// TestFaultStalledAPI: the network to the server stalls (connections open,
// no byte moves). The TUI keeps answering keys at once, the detail panes
// show a per-pane timeout error after --request-timeout, and when the
// network returns the list reconnects by itself.
func TestFaultStalledAPI(t *testing.T) {
	cs := demoScenarios(t)
	p := startProxy(t)
	x := startTUI(t, buildCrashlens(t, "fault"), "--kubeconfig", p.kubeconfig(t), "--request-timeout", "3s")
	x.waitStatus(30*time.Second, "synced")
	x.keys("/")
	x.keys("-l", "probe-mixup-bad")
	x.waitForLine(5*time.Second, "/probe-mixup-bad")

	p.set("stall")
	stalled := time.Now()
	x.keys("Enter")
	x.waitFor(time.Second, "probe-mixup-bad", "loading")
	// Keys work while the calls hang: the help opens and closes.
	x.keys("?")
	x.waitFor(time.Second, "crashlens keys")
	x.keys("Escape") // any key closes the help
	x.waitFor(time.Second, "probe-mixup-bad", "loading")
	s := x.waitFor(10*time.Second, "did not answer within 3s")
	t.Logf("per-pane error %s after the stall:\n%s", time.Since(stalled).Round(100*time.Millisecond), s)
	noLogNoise(t, s)
	x.keys("Escape")
	x.waitFor(time.Second, "NAMESPACE", "WORKLOAD")
	x.keys("Escape") // clears the filter

	// When the network returns, the list is live again by itself: a new
	// crash shows up.
	p.set("pass")
	ctx := context.Background()
	ns := faultNamespace
	t.Cleanup(func() {
		_ = cs.CoreV1().Pods(ns).Delete(context.Background(), "after-the-stall", metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	})
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, crashingPod(ns, "after-the-stall"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	x.waitFor(90*time.Second, "after-the-stall")
	x.waitStatus(10*time.Second, "synced")
	x.keys("q")
	x.waitFor(10*time.Second, "CRASHLENS-EXITED-0")
}
