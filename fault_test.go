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
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/hack/clustertest"
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

// TestFaultAPIServerRestartUnderTUIAndWatch: the kube-apiserver stops for
// 10 s under a running TUI and `list --watch`. The TUI's status bar says so
// within 2 s, neither process spins while the server is gone, both recover
// by themselves, and afterwards the watch stream equals the API with no
// group lost or shown twice.
func TestFaultAPIServerRestartUnderTUIAndWatch(t *testing.T) {
	cs := clustertest.Scenarios(t)
	kc := clustertest.Kubeconfig(t, "admin")
	bin := clustertest.BuildCrashlens(t, "fault")
	x := startTUI(t, bin, "--kubeconfig", kc)
	w := startWatch(t, bin, kc)
	waitStatus(x, 30*time.Second, "synced")
	w.waitState(30*time.Second, "synced", 1)
	tuiPID, watchPID := clustertest.PidOf(t, bin, "list"), clustertest.PidOf(t, bin, "--watch")

	clustertest.Clusterctl(t, "stop", "kube-apiserver")
	stopped := time.Now()
	s := waitStatus(x, 2*time.Second, "reconnecting")
	t.Logf("TUI status %s after the stop: %q", time.Since(stopped).Round(100*time.Millisecond), strings.TrimSpace(statusLine(s)))
	w.waitState(2*time.Second, "reconnecting", 1)

	cpuTUI, cpuWatch, wall := clustertest.ProcCPU(t, tuiPID), clustertest.ProcCPU(t, watchPID), time.Now()
	time.Sleep(8 * time.Second)
	for name, used := range map[string]time.Duration{"TUI": clustertest.ProcCPU(t, tuiPID) - cpuTUI, "list --watch": clustertest.ProcCPU(t, watchPID) - cpuWatch} {
		share := float64(used) / float64(time.Since(wall))
		t.Logf("%s used %.1f%% of a core while the server was down", name, share*100)
		if share > 0.05 {
			t.Errorf("%s used %.1f%% of a core while the server was down, want under 5%%", name, share*100)
		}
	}
	noLogNoise(t, x.Screen())

	clustertest.Clusterctl(t, "start", "kube-apiserver")
	s = waitStatus(x, 60*time.Second, "synced")
	noLogNoise(t, s)
	w.waitState(60*time.Second, "synced", 2)
	converges(t, w, cs, 20*time.Second)
	if strings.Contains(x.Screen(), "CRASHLENS-EXITED") {
		t.Fatalf("the TUI exited during the restart:\n%s", x.Screen())
	}
	x.Keys("q")
	x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")
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
	cs := clustertest.Scenarios(t)
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
	p := clustertest.StartProxy(t)
	w := startWatch(t, clustertest.BuildCrashlens(t, "fault"), p.Kubeconfig(t))
	w.waitState(30*time.Second, "synced", 1)
	clustertest.WaitForText(t, w.stdout, 60*time.Second, `"workload":"Pod/gone-while-away"`)

	// A watch cut in its first second is relisted anyway ("very short
	// watch"); an older one resumes from its resourceVersion.
	time.Sleep(2 * time.Second)
	p.Set("cut")
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
	clustertest.Clusterctl(t, "stop", "kube-apiserver")
	clustertest.Clusterctl(t, "start", "kube-apiserver")
	p.Set("pass")
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
	cs := clustertest.Scenarios(t)
	p := clustertest.StartProxy(t)
	x := startTUI(t, clustertest.BuildCrashlens(t, "fault"), "--kubeconfig", p.Kubeconfig(t), "--request-timeout", "3s")
	waitStatus(x, 30*time.Second, "synced")
	x.Keys("/")
	x.Keys("-l", "probe-mixup-bad")
	x.WaitForLine(5*time.Second, "/probe-mixup-bad")

	p.Set("stall")
	stalled := time.Now()
	x.Keys("Enter")
	x.WaitFor(time.Second, "probe-mixup-bad", "loading")
	// Keys work while the calls hang: the help opens and closes.
	x.Keys("?")
	x.WaitFor(time.Second, "crashlens keys")
	x.Keys("Escape") // any key closes the help
	x.WaitFor(time.Second, "probe-mixup-bad", "loading")
	s := x.WaitFor(10*time.Second, "did not answer within 3s")
	t.Logf("per-pane error %s after the stall:\n%s", time.Since(stalled).Round(100*time.Millisecond), s)
	noLogNoise(t, s)
	x.Keys("Escape")
	x.WaitFor(time.Second, "NAMESPACE", "WORKLOAD")
	x.Keys("Escape") // clears the filter

	// When the network returns, the list is live again by itself: a new
	// crash shows up.
	p.Set("pass")
	ctx := context.Background()
	ns := faultNamespace
	t.Cleanup(func() {
		_ = cs.CoreV1().Pods(ns).Delete(context.Background(), "after-the-stall", metav1.DeleteOptions{GracePeriodSeconds: new(int64)})
	})
	if _, err := cs.CoreV1().Pods(ns).Create(ctx, crashingPod(ns, "after-the-stall"), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	x.WaitFor(90*time.Second, "after-the-stall")
	waitStatus(x, 10*time.Second, "synced")
	x.Keys("q")
	x.WaitFor(10*time.Second, "CRASHLENS-EXITED-0")
}
