//go:build integration

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/report"
)

// TestLedgerRecordsEveryCrash: while `list --watch` runs, a Deployment's
// pod crashes again and again, is deleted, and its ReplicaSet's new pod
// crashes too. The ledger then holds one row per observed termination, each
// with its exit code and its own instance's log (not the latest one), for
// both pods under the one workload; `crashlens history` prints them. The
// TUI then shows them: the list's CAUSE refined from a capture, the History
// pane with both pods' crashes, a crash's stored log, the restart strip.
func TestLedgerRecordsEveryCrash(t *testing.T) {
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "it-ledger")
	path, _, stop := watchWithLedger(t, ns)
	defer stop()
	ctx := context.Background()
	// Each instance logs when it started (ms), then exits 3 a second later.
	clustertest.Kubectl(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: flapper, namespace: %s}
spec:
  selector: {matchLabels: {app: flapper}}
  template:
    metadata: {labels: {app: flapper}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: app
        image: crashlens.local/busybox:latest
        imagePullPolicy: Never
        command: [sh, -c, 'echo "instance started at $(date +%%s)"; sleep 1; echo "fatal: giving up"; exit 3']
`, ns), "apply", "-f", "-")
	restarts := func(min int32) string {
		var name string
		ok := clustertest.Poll(120*time.Second, 500*time.Millisecond, func() bool {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=flapper"})
			if err != nil || len(pods.Items) != 1 || len(pods.Items[0].Status.ContainerStatuses) == 0 || pods.Items[0].DeletionTimestamp != nil {
				return false
			}
			name = pods.Items[0].Name
			return pods.Items[0].Status.ContainerStatuses[0].RestartCount >= min
		})
		if !ok {
			t.Fatalf("the pod did not restart %d times", min)
		}
		return name
	}
	first := restarts(4)
	// Its four terminations are captured before it goes: on a loaded
	// machine a capture can trail the restart count by seconds, and a pod
	// deleted with a zero grace period takes its status with it. (The rows
	// are still counted below; this only orders the test's own steps.)
	fourRows := func() bool {
		rows, err := ledgerHistory(path, ledger.Query{Namespace: ns, Pod: first})
		return err == nil && len(rows) >= 4
	}
	clustertest.Poll(60*time.Second, time.Second, fourRows)
	clustertest.Kubectl(t, "", "-n", ns, "delete", "pod", first, "--wait=false")
	second := ""
	clustertest.Poll(60*time.Second, 500*time.Millisecond, func() bool { second = restarts(0); return second != first })
	restarts(2)
	time.Sleep(6 * time.Second) // the capture of the last one (it settles 2 s)
	stop()

	l, err := ledger.Open(context.Background(), path, ledger.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rows, err := l.History(context.Background(), ledger.Query{Namespace: ns, Workload: "Deployment/flapper", Container: "app"})
	if err != nil {
		t.Fatal(err)
	}
	pods := map[string]int{}
	started := regexp.MustCompile(`instance started at (\d+)`)
	seen := map[string]bool{}
	for _, r := range rows {
		pods[r.Pod]++
		if r.ExitCode != 3 || r.Killer != "application" || r.FirstError != "fatal: giving up" {
			t.Errorf("row %s#%d: exit %d, killer %q, first error %q", r.Pod, r.Restart, r.ExitCode, r.Killer, r.FirstError)
		}
		m := started.FindStringSubmatch(r.LogTail)
		if m == nil {
			t.Errorf("row %s#%d has no log of its own: %q (%s)", r.Pod, r.Restart, r.LogTail, r.LogNote)
			continue
		}
		at, _ := strconv.ParseInt(m[1], 10, 64)
		if d := r.StartedAt.Sub(time.Unix(at, 0)); d < -2*time.Second || d > 2*time.Second {
			t.Errorf("row %s#%d started %s but its log says %s: another instance's log", r.Pod, r.Restart, r.StartedAt, time.Unix(at, 0).UTC())
		}
		if seen[r.Pod+m[1]] {
			t.Errorf("two rows with the same log (%s)", m[0])
		}
		seen[r.Pod+m[1]] = true
	}
	t.Logf("%d rows in the ledger, per pod: %v", len(rows), pods)
	if pods[first] < 4 || pods[second] < 2 {
		t.Errorf("rows per pod %v: want at least 4 for %s and 2 for %s (the replaced pod's history stays)", pods, first, second)
	}
	out, errOut, code := runCLI(t, "--ledger", path, "-n", ns, "history", "deploy/flapper", "-o", "json")
	var doc struct {
		Kind  string
		Items []ledger.Crash
	}
	if code != 0 || json.Unmarshal([]byte(out), &doc) != nil || doc.Kind != "CrashHistory" || len(doc.Items) != len(rows) {
		t.Errorf("history -o json: exit %d, %d items of %d, %s %s", code, len(doc.Items), len(rows), out[:min(len(out), 200)], errOut)
	}
	table, _, _ := runCLI(t, "--ledger", path, "history", ns+"/"+second)
	if !strings.Contains(table, "KILLER") || strings.Count(table, second) < 2 {
		t.Errorf("history table:\n%s", table)
	}

	// The TUI on the same ledger, while the second pod keeps crashing.
	bin := clustertest.BuildCrashlens(t, "ledger")
	x := startTUI(t, bin, "--kubeconfig", clustertest.Kubeconfig(t, "admin"), "-n", ns, "--ledger", path)
	// The status cause is "app exit 3"; the capture's log makes it the
	// rulebook's "exit 3 (unknown): fatal: giving up" (no class names it,
	// and the CAUSE says so).
	x.WaitFor(60*time.Second, "CAUSE", "deploy/flapper", "exit 3 (unknown): fatal")
	x.Keys("enter")
	x.WaitFor(30*time.Second, " Events ", "crashes ×", "back-off")
	x.Keys("BTab") // History is the last pane: it takes the events' row
	x.WaitFor(10*time.Second, " History ")
	x.Keys("z")
	// Zoomed: the History pane alone under the panes' tab strip, with room
	// for every row.
	var screen string
	zoomed := func() bool {
		screen = x.Screen()
		return clustertest.ContainsAll(screen, "Exit code │ Events", " History ", "this pod", first, "exit 3 (unknown): fatal: givin")
	}
	if !clustertest.Poll(10*time.Second, 100*time.Millisecond, zoomed) {
		t.Fatalf("the History pane never showed zoomed:\n%s", screen)
	}
	if n := strings.Count(screen, first); n < 4 {
		t.Errorf("the History pane shows %d crashes of the replaced pod %s, want 4 or more:\n%s", n, first, screen)
	}
	x.Keys("G", "Enter")
	x.WaitFor(10*time.Second, "restart ", "instance started at", "events then")
	x.Keys("Escape")
	x.WaitFor(10*time.Second, "this pod", first)

	// With --no-ledger the capture still runs: the row's status cause
	// ("app exit 3") becomes the one its log gives, as with a ledger; only
	// the history is off.
	y := startTUI(t, bin, "--kubeconfig", clustertest.Kubeconfig(t, "admin"), "-n", ns, "--no-ledger")
	y.WaitFor(60*time.Second, "CAUSE", "deploy/flapper", "exit 3 (unknown): fatal")
}

// TestLedgerRecordsWholePodRestart: a pod whose trainer's exit 3 fires a
// RestartAllContainers rule restarts as a whole, in place. The kubelet
// shows the exit for seconds, then a placeholder on every container and no
// --previous log. The ledger holds one row per exit of the trainer (same
// pod UID, each instance its own restart number, exit 3 by the
// application), none for the cache container removed around it, and the
// list names the trainer with the rule as its cause.
func TestLedgerRecordsWholePodRestart(t *testing.T) {
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "it-wholepod")
	path, stdout, stop := watchWithLedger(t, ns)
	defer stop()
	ctx := context.Background()
	clustertest.Kubectl(t, fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: trainer, namespace: %s}
spec:
  selector: {matchLabels: {app: trainer}}
  template:
    metadata: {labels: {app: trainer}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: cache
        image: crashlens.local/busybox:latest
        imagePullPolicy: Never
        command: [sh, -c, 'exec sleep 3600']
      - name: trainer
        image: crashlens.local/busybox:latest
        imagePullPolicy: Never
        restartPolicy: Always
        restartPolicyRules:
        - action: RestartAllContainers
          exitCodes: {operator: In, values: [3]}
        command: [sh, -c, 'echo "trainer started at $(date +%%s)"; sleep 4; echo "fatal: checkpoint checksum mismatch"; exit 3']
`, ns), "apply", "-f", "-")
	var uid, pod string
	var exited int32 // the trainer's instances that had ended by then
	if !clustertest.Poll(150*time.Second, 500*time.Millisecond, func() bool {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=trainer"})
		if err != nil || len(pods.Items) != 1 || len(pods.Items[0].Status.ContainerStatuses) != 2 {
			return false
		}
		p := pods.Items[0]
		uid, pod = string(p.UID), p.Name
		for _, c := range p.Status.ContainerStatuses {
			if c.Name == "cache" && c.RestartCount < 3 {
				return false // the cache restarts with the pod: the rule fired
			}
			if c.Name == "trainer" {
				exited = c.RestartCount
			}
		}
		return true
	}) {
		t.Fatal("the pod did not restart as a whole three times")
	}
	time.Sleep(6 * time.Second) // the last exit's capture (it settles 2 s)
	listed := stdout.String()
	stop()

	rows, err := ledgerHistory(path, ledger.Query{Namespace: ns, Pod: pod})
	if err != nil {
		t.Fatal(err)
	}
	instances := map[int32]bool{}
	for _, r := range rows {
		if r.Container != "trainer" || r.PodUID != uid {
			t.Errorf("row %s/%s#%d (uid %s): only the trainer's exits of pod %s are crashes", r.Pod, r.Container, r.Restart, r.PodUID, uid)
			continue
		}
		if r.ExitCode != 3 || r.Killer != "application" || r.FinishedAt.IsZero() {
			t.Errorf("row #%d: exit %d, killer %q, finished %v: want the exit the kubelet showed, not its placeholder", r.Restart, r.ExitCode, r.Killer, r.FinishedAt)
		}
		if !strings.Contains(r.LogTail, "checksum mismatch") && !strings.Contains(r.LogNote, "RestartAllContainers") {
			t.Errorf("row #%d: neither its log nor why it has none: %q / %q", r.Restart, r.LogTail, r.LogNote)
		}
		if instances[r.Restart] {
			t.Errorf("two rows for instance %d", r.Restart)
		}
		instances[r.Restart] = true
	}
	t.Logf("%d rows, instances %v; %d had ended", len(rows), instances, exited)
	// The watch began before the pod: every instance that ended has its
	// row, each under its own restart number.
	for i := int32(0); i < exited; i++ {
		if !instances[i] {
			t.Errorf("instance %d of the trainer ended but has no row", i)
		}
	}
	if !regexp.MustCompile(`"container":\s*"trainer"`).MatchString(listed) || !strings.Contains(listed, "restarts the whole pod") {
		t.Errorf("list --watch never named the trainer and the rule: %s", listed[:min(len(listed), 600)])
	}
}

// watchWithLedger runs `list --watch` on the namespace with a ledger of
// its own until stop (which waits for it to end; calling it twice is
// fine): the ledger's path and the watch's output.
func watchWithLedger(t *testing.T, ns string) (string, *clustertest.Buffer, func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr clustertest.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--kubeconfig", clustertest.Kubeconfig(t, "admin"), "-n", ns, "--ledger", path, "list", "--watch", "-o", "json"}, &stdout, &stderr)
	}()
	clustertest.WaitForText(t, &stderr, 30*time.Second, "watch synced")
	var once sync.Once
	return path, &stdout, func() { once.Do(func() { cancel(); <-done }) }
}

// TestLedgerRecordsFailedJob: a Job whose attempts fail until its
// backoffLimit leaves failed pods that nothing restarts. Each attempt is a
// ledger row of its own pod (restart 0, its own log), and the list shows
// the Job as one group of its failed pods, which stays after the Job has
// failed.
func TestLedgerRecordsFailedJob(t *testing.T) {
	cs := clustertest.AdminClientset(t)
	ns := newNamespace(t, cs, "it-job")
	path, stdout, stop := watchWithLedger(t, ns)
	defer stop()
	ctx := context.Background()
	clustertest.Kubectl(t, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: import, namespace: %s}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 0
      containers:
      - name: work
        image: crashlens.local/busybox:latest
        imagePullPolicy: Never
        command: [sh, -c, 'echo "attempt in $(hostname)"; sleep 1; cat /etc/import/manifest.yaml']
`, ns), "apply", "-f", "-")
	failed := func() bool {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, "import", metav1.GetOptions{})
		return err == nil && j.Status.Failed == 2 && slices.ContainsFunc(j.Status.Conditions, func(c batchv1.JobCondition) bool {
			return c.Type == batchv1.JobFailed && c.Status == corev1.ConditionTrue
		})
	}
	if !clustertest.Poll(150*time.Second, time.Second, failed) {
		t.Fatal("the Job did not fail after two attempts")
	}
	var rows []ledger.Crash
	recorded := func() bool {
		var err error
		rows, err = ledgerHistory(path, ledger.Query{Namespace: ns, Workload: "Job/import"})
		return err == nil && len(rows) >= 2
	}
	clustertest.Poll(30*time.Second, time.Second, recorded)
	time.Sleep(3 * time.Second) // a batch after the Job failed
	listed := stdout.String()
	stop()
	pods := map[string]bool{}
	for _, r := range rows {
		if r.Restart != 0 || r.ExitCode != 1 || !strings.Contains(r.LogTail, "attempt in "+r.Pod) || r.TopFinding != "missing-file" {
			t.Errorf("row %s#%d: exit %d, finding %q, log %q", r.Pod, r.Restart, r.ExitCode, r.TopFinding, r.LogTail)
		}
		pods[r.Pod] = true
	}
	if len(rows) != 2 || len(pods) != 2 {
		t.Errorf("%d rows for %d pods, want one row for each of the 2 attempts", len(rows), len(pods))
	}
	var job *report.WatchLine // the Job's group as the watch last said it
	for _, line := range strings.Split(strings.TrimSpace(listed), "\n") {
		var w report.WatchLine
		if json.Unmarshal([]byte(line), &w) == nil && w.Group.Workload == "Job/import" {
			job = &w
		}
	}
	if job == nil || job.Event == "resolved" || len(job.Group.Pods) != 2 || job.Group.State != "Error" {
		t.Errorf("list --watch: the Job's group last %+v, want its two failed pods, not resolved", job)
	}
}

// ledgerHistory opens the ledger at path, reads q's rows and closes it,
// beside a crashlens process that writes to it.
func ledgerHistory(path string, q ledger.Query) ([]ledger.Crash, error) {
	l, err := ledger.Open(context.Background(), path, ledger.Options{})
	if err != nil {
		return nil, err
	}
	defer l.Close()
	return l.History(context.Background(), q)
}
