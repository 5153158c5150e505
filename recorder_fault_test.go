//go:build fault

package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/ledger"
)

// recorderRows is the in-cluster recorder's rows of a namespace, through
// the apiserver's service proxy as admin; false while it does not answer
// (restarting, not ready yet).
func recorderRows(t *testing.T, ns string) ([]ledger.Crash, bool) {
	t.Helper()
	cmd := exec.Command(filepath.Join(clustertest.BinDir(t), "kubectl"), "--kubeconfig", clustertest.Kubeconfig(t, "admin"),
		"get", "--raw", "/api/v1/namespaces/crashlens/services/crashlens-recorder:http/proxy/api/v1/history?namespace="+ns+"&limit=1000")
	raw, err := cmd.Output()
	if err != nil {
		return nil, false
	}
	var doc struct{ Items []ledger.Crash }
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("history API: %v: %.300s", err, raw)
	}
	return doc.Items, true
}

// recorderReady waits until one recorder pod is ready and returns its name.
func recorderReady(t *testing.T) string {
	t.Helper()
	return recorderReadyWhere(t, func(*corev1.Pod) bool { return true })
}

// recorderReadyWhere waits until a recorder pod that keep accepts is ready
// and returns its name.
func recorderReadyWhere(t *testing.T, keep func(*corev1.Pod) bool) string {
	t.Helper()
	cs := clustertest.AdminClientset(t)
	var name string
	ready := func() bool {
		pods, err := cs.CoreV1().Pods("crashlens").List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=crashlens-recorder"})
		if err != nil {
			return false
		}
		for _, p := range pods.Items {
			if !keep(&p) {
				continue
			}
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
					name = p.Name
					return true
				}
			}
		}
		return false
	}
	if !clustertest.Poll(3*time.Minute, time.Second, ready) {
		t.Fatal("no recorder pod became ready within 3 minutes")
	}
	return name
}

// TestFaultRecorder breaks the in-cluster recorder the ways a cluster
// does: its pod deleted mid-stream, then its process killed with SIGKILL;
// a second replica started by mistake; and checks that it only ever reads,
// that the apiserver (not crashlens) refuses a user without the proxy
// right, and that hostile log text is stored sanitized.
func TestFaultRecorder(t *testing.T) {
	mark := clustertest.AuditMark(t)
	withRecorder(t)
	cs := clustertest.AdminClientset(t)
	ctx := context.Background()
	ns := newNamespace(t, cs, "fault-recorder")
	// Each instance runs 45 s, prints who it is and hostile text, exits 1:
	// a crash every 55 s or so, longer than the recorder is ever down here
	// (a loaded CI machine took over 35 s to bring it back), so every
	// termination's status is still visible when it comes back.
	crashingDeployment(t, cs, ns, "slow-crasher",
		`echo "instance $(date +%s%N)"; printf '\033]0;owned\007\033[2Jerror: cannot reach the queue\n'; sleep 45; exit 1`)
	rowsAtLeast := func(n int, within time.Duration) []ledger.Crash {
		var rows []ledger.Crash
		if !clustertest.Poll(within, 2*time.Second, func() bool { rows, _ = recorderRows(t, ns); return len(rows) >= n }) {
			t.Fatalf("the recorder holds %d rows of %s, want %d", len(rows), ns, n)
		}
		return rows
	}
	rowsAtLeast(1, 2*time.Minute)

	// Deleted mid-stream, then killed with SIGKILL.
	before := recorderReady(t)
	clustertest.Kubectl(t, "", "-n", "crashlens", "delete", "pod", before, "--wait=true")
	recorderReady(t)
	n := len(rowsAtLeast(2, 2*time.Minute))
	out, err := exec.Command("pgrep", "-f", "^/crashlens monitor").Output()
	pids := strings.Fields(string(out))
	if err != nil || len(pids) != 1 {
		t.Fatalf("the recorder's process on the node: %q (%v)", out, err)
	}
	if err := exec.Command("kill", "-KILL", pids[0]).Run(); err != nil {
		t.Fatal(err)
	}
	recorderReady(t)
	rows := rowsAtLeast(n+1, 2*time.Minute)

	// Nothing lost, nothing twice: every instance from the first recorded
	// to the newest, once, each with its own log, sanitized.
	restarts := map[int32]int{}
	instances := map[string]bool{}
	for _, r := range rows {
		restarts[r.Restart]++
		instances[regexp.MustCompile(`instance \d+`).FindString(r.LogTail)] = true
		if strings.ContainsRune(r.LogTail, 0x1b) || strings.ContainsRune(r.LogTail, 0x07) || !strings.Contains(r.LogTail, "error: cannot reach the queue") {
			t.Errorf("row %d's log is not the sanitized instance log: %q", r.Restart, r.LogTail)
		}
	}
	var seen []int32
	for k, c := range restarts {
		seen = append(seen, k)
		if c != 1 {
			t.Errorf("instance %d recorded %d times", k, c)
		}
	}
	slices.Sort(seen)
	for i := 1; i < len(seen); i++ {
		if seen[i] != seen[i-1]+1 {
			t.Errorf("instances %v: a gap after %d (a termination lost while the recorder was down)", seen, seen[i-1])
		}
	}
	if len(instances) != len(rows) {
		t.Errorf("%d rows but %d distinct instance logs", len(rows), len(instances))
	}

	// A second recorder on the same ledger by mistake (in the demo
	// overlay the replicas share the host's network, so a second replica
	// would fail on its port before it reached the ledger: this starts the
	// second one on the node, on the very file the first holds). It waits
	// on the ledger's lock, unready, and says why; the first goes on.
	bin := clustertest.BuildCrashlens(t, "second-recorder")
	var errOut clustertest.Buffer
	second := exec.Command(bin, "--kubeconfig", clustertest.Kubeconfig(t, "admin"), "monitor", "--listen", "127.0.0.1:19091",
		"--ledger", filepath.Join(demo.RecorderLedgerDir, "ledger.db"))
	second.Stderr = &errOut
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = second.Process.Kill(); _ = second.Wait() })
	clustertest.WaitForText(t, &errOut, 30*time.Second, "another recorder holds the crash ledger")
	readyz, err := http.Get("http://127.0.0.1:19091/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(readyz.Body)
	readyz.Body.Close()
	if readyz.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "another recorder holds the crash ledger") {
		t.Errorf("the waiting recorder's /readyz: %d %q", readyz.StatusCode, body)
	}
	if got, ok := recorderRows(t, ns); !ok || len(got) < len(rows) {
		t.Errorf("with a second recorder waiting, the first serves %d rows (answered: %v), had %d", len(got), ok, len(rows))
	}

	// Read-only: the recorder's own requests never write (the audit log),
	// its API refuses writes, and a user without services/proxy is refused
	// by the apiserver itself.
	for _, e := range clustertest.AuditSince(t, mark, "crashlens/recorder", "crashlens/recorder capture") {
		if e.User.Username != "system:serviceaccount:crashlens:crashlens-recorder" {
			continue
		}
		if !slices.Contains([]string{"get", "list", "watch"}, e.Verb) && e.Resource() != "selfsubjectaccessreviews" {
			t.Errorf("the recorder sent %s %s", e.Verb, e.Resource())
		}
	}
	body, err = cs.CoreV1().RESTClient().Post().AbsPath("/api/v1/namespaces/crashlens/services/crashlens-recorder:http/proxy/api/v1/history").
		Body([]byte("{}")).DoRaw(ctx)
	if err == nil || !strings.Contains(string(body), "read-only") {
		t.Errorf("a POST to the history API: %v %s, want the recorder to refuse it as read-only", err, body)
	}
	viewer := exec.Command(filepath.Join(clustertest.BinDir(t), "kubectl"), "--kubeconfig", clustertest.Kubeconfig(t, "viewer-ns"),
		"get", "--raw", "/api/v1/namespaces/crashlens/services/crashlens-recorder:http/proxy/api/v1/history")
	if out, err := viewer.CombinedOutput(); err == nil || !strings.Contains(string(out), "Forbidden") && !strings.Contains(string(out), "forbidden") {
		t.Errorf("a user without services/proxy read the history: %v %s", err, out)
	}
	laptop := filepath.Join(t.TempDir(), "ledger.db")
	var stdout, stderr strings.Builder
	code := run(ctx, []string{"--kubeconfig", clustertest.Kubeconfig(t, "viewer-ns"), "--ledger", laptop, "history"}, &stdout, &stderr)
	if code != 0 || !strings.Contains(stderr.String(), "in-cluster recorder: forbidden") {
		t.Errorf("history as a user without the right: exit %d, stderr %q; want exit 0 and one line that says so", code, stderr.String())
	}
}

// recorderLocal is the demo recorder's own port (it shares the node's
// network, demo overlay): /readyz and /metrics straight from the process,
// whatever its readiness makes of the Service.
const recorderLocal = "http://127.0.0.1:19090"

// recorderGet is one of the recorder's endpoints: status and body; false
// while nothing answers.
func recorderGet(path string) (int, string, bool) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(recorderLocal + path)
	if err != nil {
		return 0, "", false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), true
}

// recorderRestarts is the recorder container's restart count.
func recorderRestarts(t *testing.T, pod string) int32 {
	t.Helper()
	p, err := clustertest.AdminClientset(t).CoreV1().Pods("crashlens").Get(context.Background(), pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, cs := range p.Status.ContainerStatuses {
		if cs.Name == "recorder" {
			return cs.RestartCount
		}
	}
	t.Fatalf("pod %s has no recorder container", pod)
	return 0
}

// TestFaultRecorderVolume: the ledger's volume fills up, and separately is
// mounted read-only. Each time /readyz fails and says why, /metrics is
// still served, a full volume's failed writes are counted, and the
// recorder's process never restarts.
func TestFaultRecorderVolume(t *testing.T) {
	withRecorder(t)
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "fault-volume")
	// The ledger on a 4 MiB tmpfs (a memory emptyDir is mounted with its
	// sizeLimit as its size, so a write past it fails with ENOSPC), and a
	// container beside the recorder to fill it.
	clustertest.Kubectl(t, "", "-n", "crashlens", "patch", "deployment", "crashlens-recorder", "--type", "strategic", "-p", `{"spec":{"template":{"spec":{
		"volumes":[{"name":"ledger","persistentVolumeClaim":null,"emptyDir":{"medium":"Memory","sizeLimit":"4Mi"}}],
		"containers":[{"name":"filler","image":"crashlens.local/busybox:latest","imagePullPolicy":"Never","command":["sleep","3600"],
			"securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}},
			"resources":{"requests":{"cpu":"5m","memory":"8Mi"},"limits":{"memory":"32Mi"}},
			"volumeMounts":[{"name":"ledger","mountPath":"/var/lib/crashlens"}]}]}}}}`)
	// The new pod (with the filler), not the one the patch replaces, which
	// may still be ready for a moment.
	pod := recorderReadyWhere(t, func(p *corev1.Pod) bool {
		return slices.ContainsFunc(p.Spec.Containers, func(c corev1.Container) bool { return c.Name == "filler" })
	})
	crashingDeployment(t, cs, ns, "crasher", `echo "instance $(date +%s%N)"; echo "error: cannot reach the queue"; sleep 3; exit 1`)
	if !clustertest.Poll(2*time.Minute, 2*time.Second, func() bool { rows, _ := recorderRows(t, ns); return len(rows) >= 1 }) {
		t.Fatal("the recorder recorded no crash before the volume filled")
	}

	// Full: dd stops at ENOSPC (and says so); the next captures fail to write.
	if out, _ := exec.Command(filepath.Join(clustertest.BinDir(t), "kubectl"), "--kubeconfig", clustertest.Kubeconfig(t, "admin"),
		"-n", "crashlens", "exec", pod, "-c", "filler", "--", "dd", "if=/dev/zero", "of=/var/lib/crashlens/fill", "bs=64k").CombinedOutput(); !strings.Contains(string(out), "No space left on device") {
		t.Fatalf("filling the volume: %s", out)
	}
	var ready, metrics string
	full := func() bool {
		code, body, ok := recorderGet("/readyz")
		ready = body
		if !ok || code != http.StatusServiceUnavailable || !strings.Contains(body, "cannot write") {
			return false
		}
		code, body, ok = recorderGet("/metrics")
		metrics = body
		errs := regexp.MustCompile(`(?m)^crashlens_ledger_write_errors_total ([0-9.e+]+)$`).FindStringSubmatch(body)
		return ok && code == http.StatusOK && errs != nil && errs[1] != "0"
	}
	if !clustertest.Poll(2*time.Minute, 2*time.Second, full) {
		t.Fatalf("with the volume full: /readyz %q, /metrics write errors %q", ready, grepLines(metrics, "crashlens_ledger_write_errors_total"))
	}
	t.Logf("volume full: /readyz says %q", strings.TrimSpace(ready))
	if !strings.Contains(ready, "full") {
		t.Errorf("/readyz %q does not say the volume is full", ready)
	}
	if n := recorderRestarts(t, pod); n != 0 {
		t.Errorf("the recorder restarted %d times on a full volume", n)
	}

	// Read-only: a new pod whose ledger volume is mounted read-only.
	clustertest.Kubectl(t, "", "-n", "crashlens", "patch", "deployment", "crashlens-recorder", "--type", "strategic", "-p", `{"spec":{"template":{"spec":{
		"containers":[{"name":"recorder","volumeMounts":[{"name":"ledger","mountPath":"/var/lib/crashlens","readOnly":true}]}]}}}}`)
	var roPod string
	readOnly := func() bool {
		pods, err := cs.CoreV1().Pods("crashlens").List(context.Background(), metav1.ListOptions{LabelSelector: "app.kubernetes.io/name=crashlens-recorder"})
		if err != nil || len(pods.Items) != 1 || pods.Items[0].Name == pod || pods.Items[0].Status.Phase != corev1.PodRunning {
			return false
		}
		roPod = pods.Items[0].Name
		code, body, ok := recorderGet("/readyz")
		ready = body
		if !ok || code != http.StatusServiceUnavailable || !strings.Contains(body, "read-only") {
			return false
		}
		code, metrics, ok = recorderGet("/metrics")
		return ok && code == http.StatusOK && strings.Contains(metrics, "crashlens_watched_pods")
	}
	if !clustertest.Poll(3*time.Minute, 2*time.Second, readOnly) {
		t.Fatalf("with the volume read-only: /readyz %q, /metrics served: %v", ready, strings.Contains(metrics, "crashlens_watched_pods"))
	}
	t.Logf("volume read-only: /readyz says %q", strings.TrimSpace(ready))
	time.Sleep(10 * time.Second) // long enough for a crash on start to show as a restart
	if n := recorderRestarts(t, roPod); n != 0 {
		t.Errorf("the recorder restarted %d times on a read-only volume", n)
	}
}
