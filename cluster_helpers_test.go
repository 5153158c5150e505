//go:build integration || fault

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/report"
)

// Helpers of the root package's tests that run on the real cluster
// (integration and fault): the real binary's TUI, `list --watch` and
// in-process runs, and the workloads they watch. The generic harness
// (kubeconfigs, kubectl, tmux, the audit log, the proxy, buffers, waits)
// is hack/clustertest.

// runCLI runs crashlens in-process as the cluster's admin.
func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"--kubeconfig", clustertest.Kubeconfig(t, "admin")}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// watchProc is `crashlens list --watch -o json` running as a child.
type watchProc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr *clustertest.Buffer
	debugLog       string // its CRASHLENS_DEBUG_LOG
}

func startWatch(t *testing.T, bin, kubeconfig string, args ...string) *watchProc {
	t.Helper()
	w := &watchProc{t: t, stdout: &clustertest.Buffer{}, stderr: &clustertest.Buffer{}}
	w.cmd = exec.Command(bin, append([]string{"--kubeconfig", kubeconfig, "list", "--watch", "-o", "json"}, args...)...)
	w.cmd.Stdout, w.cmd.Stderr = w.stdout, w.stderr
	w.debugLog = filepath.Join(t.TempDir(), "debug.log")
	w.cmd.Env = append(os.Environ(), kube.DebugLogEnv+"="+w.debugLog)
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = w.cmd.Process.Signal(os.Interrupt)
		_ = w.cmd.Wait()
	})
	return w
}

// waitState waits for the stderr line "crashlens: watch <state>" number n
// (counting from 1) of that state.
func (w *watchProc) waitState(timeout time.Duration, state string, n int) {
	w.t.Helper()
	if !clustertest.Poll(timeout, 100*time.Millisecond, func() bool { return strings.Count(w.stderr.String(), "crashlens: watch "+state) >= n }) {
		w.t.Fatalf("list --watch never said %q (%d times); stderr:\n%s", state, n, w.stderr.String())
	}
}

// groups replays the JSON lines into the set of groups the stream says
// exist, failing on a group added twice or changed or resolved unseen.
func (w *watchProc) groups() map[string]report.GroupJSON {
	w.t.Helper()
	set := map[string]report.GroupJSON{}
	sc := bufio.NewScanner(strings.NewReader(w.stdout.String()))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var l report.WatchLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			w.t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		k := jsonKey(l.Group)
		_, have := set[k]
		switch l.Event {
		case "added":
			if have {
				w.t.Errorf("group added twice: %s", k)
			}
			set[k] = l.Group
		case "changed":
			if !have {
				w.t.Errorf("group changed before it was added: %s", k)
			}
			set[k] = l.Group
		case "resolved":
			if !have {
				w.t.Errorf("group resolved that was never added: %s", k)
			}
			delete(set, k)
		default:
			w.t.Errorf("unknown event %q", l.Event)
		}
	}
	return set
}

// jsonKey is a group's identity: the watcher's own key
// (diagnose.CrashPod.GroupKey, which leaves a whole-pod restart's exit code
// out), readable.
func jsonKey(g report.GroupJSON) string {
	return groupKey(diagnose.CrashPod{Namespace: g.Namespace, Owner: g.Workload, Container: g.Container, Reason: g.Reason, ExitCode: g.ExitCode})
}

func groupKey(p diagnose.CrashPod) string { return strings.ReplaceAll(p.GroupKey(), "\x00", "/") }

// truth classifies every pod the API has, as the watcher would.
func truth(t *testing.T, cs kubernetes.Interface) map[string]int {
	t.Helper()
	groups, err := clustertest.FailingGroups(cs, groupKey)
	if err != nil {
		t.Fatal(err)
	}
	return groups
}

// converges polls until the stream's groups equal the API's, and reports
// the difference when they never do.
func converges(t *testing.T, w *watchProc, cs kubernetes.Interface, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var diff []string
	for time.Now().Before(deadline) {
		shown, want := map[string]int{}, truth(t, cs)
		for k, g := range w.groups() {
			shown[k] = len(g.Pods)
		}
		if diff = clustertest.GroupDiff(shown, want); len(diff) == 0 {
			t.Logf("list --watch equals the API: %d groups", len(want))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Errorf("list --watch never matched the API within %s: %v", timeout, diff)
}

// startTUI runs the real binary in a tmux session of 120x45.
func startTUI(t *testing.T, bin string, args ...string) clustertest.Tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed (make deps installs it)")
	}
	x := clustertest.Tmux{TB: t, Session: fmt.Sprintf("crashlens-fault-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)}
	cmd := fmt.Sprintf("%s %s; echo CRASHLENS-EXITED-$?; sleep 60", bin, strings.Join(args, " "))
	// In a scratch directory: the report key writes its file there.
	// The tmux server may be older than this test binary: hand the TUI the
	// test's own state directory (TestMain), not the one the server has.
	x.Run("new-session", "-d", "-s", x.Session, "-c", t.TempDir(), "-x", "120", "-y", "45", "-e", "XDG_STATE_HOME="+os.Getenv("XDG_STATE_HOME"), cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", x.Session).Run() })
	return x
}

// shellRoundTrip presses s on an open detail screen, runs a command in
// the shell kubectl exec opens, leaves it, and waits until the TUI is back
// with after on screen.
func shellRoundTrip(x clustertest.Tmux, marker, after string) {
	x.TB.Helper()
	x.Keys("s")
	x.WaitFor(30*time.Second, "#")
	x.Keys("-l", "echo "+marker+"-$((6*7))")
	x.Keys("Enter")
	x.WaitFor(10*time.Second, marker+"-42")
	x.Keys("-l", "exit")
	x.Keys("Enter")
	x.WaitFor(15*time.Second, "exec ended", after)
}

// statusLine is the TUI's status bar (the line above the help bar).
func statusLine(screen string) string {
	lines := strings.Split(strings.TrimRight(screen, "\n"), "\n")
	if len(lines) < 2 {
		return ""
	}
	return lines[len(lines)-2]
}

// waitStatus polls until the status bar contains want.
func waitStatus(x clustertest.Tmux, timeout time.Duration, want string) string {
	x.TB.Helper()
	var s string
	if !clustertest.Poll(timeout, 100*time.Millisecond, func() bool { s = x.Screen(); return strings.Contains(statusLine(s), want) }) {
		x.TB.Fatalf("the status bar never showed %q; last screen:\n%s", want, s)
	}
	return s
}

// noLogNoise fails when client-go's logging or a panic reached the screen.
func noLogNoise(t *testing.T, screen string) {
	t.Helper()
	for _, bad := range []string{"reflector.go", "Unhandled Error", "panic:", "goroutine ", "W1121", "E1121", "I1121"} {
		if strings.Contains(screen, bad) {
			t.Errorf("the screen shows %q:\n%s", bad, screen)
		}
	}
}

// onceCrashed is a Deployment whose container crashes on its first start
// and then runs: listed as restarted, and reliably running when a test
// opens a shell in it.
func onceCrashed(ns, name string) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  selector: {matchLabels: {app: %[2]s}}
  template:
    metadata: {labels: {app: %[2]s}}
    spec:
      terminationGracePeriodSeconds: 0
      volumes: [{name: state, emptyDir: {}}]
      containers:
      - name: app
        image: crashlens.local/busybox:latest
        imagePullPolicy: Never
        volumeMounts: [{name: state, mountPath: /state}]
        command: [sh, -c, "if [ -e /state/crashed ]; then echo back up; sleep 3600; else touch /state/crashed; echo 'fatal: first start'; exit 1; fi"]
`, ns, name)
}

// crashingPod is a bare pod whose container exits 1 at once.
func crashingPod(ns, name string) *corev1.Pod {
	return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{TerminationGracePeriodSeconds: new(int64), Containers: []corev1.Container{{
			Name: "app", Image: "crashlens.local/busybox:latest", ImagePullPolicy: corev1.PullNever,
			Command: []string{"sh", "-c", "echo fatal: " + name + "; exit 1"}}}}}
}

// waitCrashing waits until the API has a crash group whose key starts
// with prefix.
func waitCrashing(t *testing.T, cs kubernetes.Interface, prefix string) {
	t.Helper()
	crashing := func() bool {
		for k := range truth(t, cs) {
			if strings.HasPrefix(k, prefix) {
				return true
			}
		}
		return false
	}
	if !clustertest.Poll(90*time.Second, 500*time.Millisecond, crashing) {
		t.Fatalf("no crash group %s* within 90 s (the kubelet may still back off after an apiserver restart)", prefix)
	}
}

// newNamespace creates a namespace named prefix-<n>, deleted when the test
// ends, and waits for its default ServiceAccount: until the controller has
// made it, pods in the namespace are refused.
func newNamespace(t *testing.T, cs kubernetes.Interface, prefix string) string {
	t.Helper()
	ctx := context.Background()
	ns := fmt.Sprintf("%s-%d", prefix, time.Now().UnixNano()%100000)
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{}) })
	hasSA := func() bool {
		_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	}
	if !clustertest.Poll(90*time.Second, 100*time.Millisecond, hasSA) {
		t.Fatalf("namespace %s has no default ServiceAccount after 90 s", ns)
	}
	return ns
}

// withRecorder deploys the in-cluster recorder (deploy/demo, the image
// built from the checkout) for the test and removes it after.
func withRecorder(t *testing.T) {
	t.Helper()
	o := demo.Options{Root: clustertest.RepoRoot(t)}
	if err := demo.DeployRecorder(o); err != nil {
		t.Fatalf("deploying the recorder: %v", err)
	}
	t.Cleanup(func() {
		if err := demo.RemoveRecorder(o); err != nil {
			t.Errorf("removing the recorder: %v", err)
		}
	})
}

// crashingDeployment creates a one-replica Deployment whose container runs
// script (sh -c) and crashes when it ends.
func crashingDeployment(t *testing.T, cs kubernetes.Interface, ns, name, script string) {
	t.Helper()
	one := int32(1)
	labels := map[string]string{"app": name}
	spec := crashingPod(ns, name).Spec
	spec.Containers[0].Command = []string{"sh", "-c", script}
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: spec}}}
	if _, err := cs.AppsV1().Deployments(ns).Create(context.Background(), dep, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// grepLines is the lines of s that start with prefix (a metric's series).
func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
