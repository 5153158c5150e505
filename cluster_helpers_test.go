//go:build integration || fault

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/report"
)

// Helpers of the tests that run on the real cluster (integration and fault).

// clusterKubeconfig is the test cluster's kubeconfig for user; integration
// tests fail, never skip, without one (run them through `make test`).
func clusterKubeconfig(t *testing.T, user string) string {
	t.Helper()
	admin := os.Getenv("CRASHLENS_KUBECONFIG")
	if admin == "" {
		t.Fatal("CRASHLENS_KUBECONFIG is not set: run integration tests through `make test`")
	}
	if user == "admin" {
		return admin
	}
	return filepath.Join(filepath.Dir(admin), "kubeconfig-"+user)
}

func kubectlAdmin(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join("hack", "cluster", "bin", "kubectl"), append([]string{"--kubeconfig", clusterKubeconfig(t, "admin")}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v: %s", args, err, out)
	}
	return string(out)
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"--kubeconfig", clusterKubeconfig(t, "admin")}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// tmux drives a real terminal: the real binary, keys sent as a user types
// them, the screen read back as the user sees it.
type tmux struct {
	t       *testing.T
	session string
}

func (x tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", args...).CombinedOutput()
	// A tmux server exits with its last session: a new session asked of a
	// server that is exiting (another test just killed its session) fails
	// with "server exited unexpectedly"; the next one starts a new server.
	for try := 0; err != nil && args[0] == "new-session" && strings.Contains(string(out), "server exited unexpectedly") && try < 5; try++ {
		time.Sleep(200 * time.Millisecond)
		out, err = exec.Command("tmux", args...).CombinedOutput()
	}
	if err != nil {
		x.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (x tmux) keys(keys ...string) { x.run(append([]string{"send-keys", "-t", x.session}, keys...)...) }

func (x tmux) screen() string { return x.run("capture-pane", "-p", "-t", x.session) }

// poll calls check every interval until it reports true or timeout has
// passed, and says whether it did: the one wait loop of these tests.
func poll(timeout, interval time.Duration, check func() bool) bool {
	for deadline := time.Now().Add(timeout); time.Now().Before(deadline); time.Sleep(interval) {
		if check() {
			return true
		}
	}
	return false
}

func containsAll(s string, want ...string) bool {
	for _, w := range want {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// waitFor polls the screen until it shows all of want.
func (x tmux) waitFor(timeout time.Duration, want ...string) string {
	x.t.Helper()
	var s string
	if !poll(timeout, 200*time.Millisecond, func() bool { s = x.screen(); return containsAll(s, want...) }) {
		x.t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
	}
	return s
}

// waitForLine polls until a screen line starts with prefix (the filter
// prompt, not a workload name that contains the same text).
func (x tmux) waitForLine(timeout time.Duration, prefix string) string {
	x.t.Helper()
	var s string
	starts := func() bool {
		s = x.screen()
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, prefix) {
				return true
			}
		}
		return false
	}
	if !poll(timeout, 200*time.Millisecond, starts) {
		x.t.Fatalf("no screen line starts with %q; last screen:\n%s", prefix, s)
	}
	return s
}

// waitForText polls a child's output until it shows all of want.
func waitForText(t *testing.T, b *lockedBuffer, timeout time.Duration, want ...string) {
	t.Helper()
	if !poll(timeout, 200*time.Millisecond, func() bool { return containsAll(b.String(), want...) }) {
		t.Fatalf("output never showed %q:\n%s", want, b.String())
	}
}

// pidOf finds the process whose argv[0] is bin and whose argv has none of
// the words in not.
func pidOf(t *testing.T, bin string, not ...string) int {
	t.Helper()
	pid := 0
	find := func() bool {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil {
				continue
			}
			args := strings.Split(string(b), "\x00")
			if args[0] == bin && !slices.ContainsFunc(args, func(a string) bool { return slices.Contains(not, a) }) {
				pid, _ = strconv.Atoi(e.Name())
				return pid > 0
			}
		}
		return false
	}
	if !poll(10*time.Second, 100*time.Millisecond, find) {
		t.Fatalf("no process runs %s", bin)
	}
	return pid
}

// buildCrashlens builds the real binary; version names it in the API
// server's audit log (its user agent is crashlens/<version>).
func buildCrashlens(t *testing.T, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashlens")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	return bin
}

// demoScenarios applies the demo catalogue (reusing what exists) and waits
// until every scenario is in its declared state; it returns a clientset.
func demoScenarios(t *testing.T) kubernetes.Interface {
	t.Helper()
	root, _ := filepath.Abs(".")
	if _, err := demo.Up(context.Background(), demo.Options{Root: root, BackoffCap: "10s", Fast: true}); err != nil {
		t.Fatal(err)
	}
	cs := adminClientset(t)
	if pending := demo.Wait(context.Background(), cs, demo.Catalogue, 4*time.Minute, nil); len(pending) > 0 {
		t.Fatalf("scenarios not ready: %v", pending)
	}
	return cs
}

// auditEvent is the part of a kube-apiserver audit record the tests read.
type auditEvent struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
	User       struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
		Namespace   string `json:"namespace"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

func (e auditEvent) resource() string {
	if e.ObjectRef == nil {
		return e.RequestURI
	}
	r := e.ObjectRef.Resource
	if e.ObjectRef.Subresource != "" {
		r += "/" + e.ObjectRef.Subresource
	}
	return r
}

func (e auditEvent) code() int {
	if e.ResponseStatus == nil {
		return 0
	}
	return e.ResponseStatus.Code
}

// auditLog is the test apiserver's audit log (every request, Metadata
// level; see hack/cluster/configs.go).
func auditLog(t *testing.T) string {
	return filepath.Join(filepath.Dir(clusterKubeconfig(t, "admin")), "logs", "audit.log")
}

// auditMark is where the audit log ends now.
func auditMark(t *testing.T) int64 {
	t.Helper()
	fi, err := os.Stat(auditLog(t))
	if err != nil {
		t.Fatalf("the test cluster writes no audit log: %v", err)
	}
	return fi.Size()
}

// auditSince returns the requests logged after mark whose user agent is
// one of userAgents, one per request (a watch logs when it starts and when
// it ends).
func auditSince(t *testing.T, mark int64, userAgents ...string) []auditEvent {
	t.Helper()
	f, err := os.Open(auditLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	byID := map[string]auditEvent{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(userAgents[0])) {
			continue // every agent starts with the first: crashlens/VERSION
		}
		var e auditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || !slices.Contains(userAgents, e.UserAgent) {
			continue
		}
		if _, ok := byID[e.AuditID]; !ok {
			order = append(order, e.AuditID)
		}
		if prev, ok := byID[e.AuditID]; !ok || prev.ResponseStatus == nil || e.Stage == "ResponseComplete" {
			byID[e.AuditID] = e
		}
	}
	out := make([]auditEvent, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out
}

// lockedBuffer is a bytes.Buffer a child process and the test share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// watchProc is `crashlens list --watch -o json` running as a child.
type watchProc struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr *lockedBuffer
	debugLog       string // its CRASHLENS_DEBUG_LOG
}

func startWatch(t *testing.T, bin, kubeconfig string, args ...string) *watchProc {
	t.Helper()
	w := &watchProc{t: t, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
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
	if !poll(timeout, 100*time.Millisecond, func() bool { return strings.Count(w.stderr.String(), "crashlens: watch "+state) >= n }) {
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

func jsonKey(g report.GroupJSON) string {
	return fmt.Sprintf("%s/%s/%s/%s/%d", g.Namespace, g.Workload, g.Container, g.Reason, g.ExitCode)
}

// truth classifies every pod the API has, as the watcher would.
func truth(t *testing.T, cs kubernetes.Interface) map[string]int {
	t.Helper()
	pods, err := cs.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	now := time.Now()
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if v := diagnose.Classify(p, now); v.Failing {
			cp := v.Pod
			g := report.ToJSON(crash.Group{Namespace: cp.Namespace, Owner: cp.Owner, Container: cp.Container, Reason: cp.Reason, ExitCode: cp.ExitCode})
			out[jsonKey(g)]++
		}
	}
	return out
}

// converges polls until the stream's groups equal the API's, and reports
// the difference when they never do.
func converges(t *testing.T, w *watchProc, cs kubernetes.Interface, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var diff []string
	for time.Now().Before(deadline) {
		diff = diff[:0]
		shown, want := w.groups(), truth(t, cs)
		for k, n := range want {
			g, ok := shown[k]
			switch {
			case !ok:
				diff = append(diff, "missing "+k)
			case len(g.Pods) != n:
				diff = append(diff, fmt.Sprintf("%s has %d pods, the API %d", k, len(g.Pods), n))
			}
		}
		for k := range shown {
			if _, ok := want[k]; !ok {
				diff = append(diff, "shown but gone "+k)
			}
		}
		if len(diff) == 0 {
			t.Logf("list --watch equals the API: %d groups", len(want))
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Errorf("list --watch never matched the API within %s: %v", timeout, diff)
}

// startTUI runs the real binary in a tmux session of 120x45.
func startTUI(t *testing.T, bin string, args ...string) tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is needed (make deps installs it)")
	}
	x := tmux{t: t, session: fmt.Sprintf("crashlens-fault-%d-%d", os.Getpid(), time.Now().UnixNano()%100000)}
	cmd := fmt.Sprintf("%s %s; echo CRASHLENS-EXITED-$?; sleep 60", bin, strings.Join(args, " "))
	// In a scratch directory: the report key writes its file there.
	// The tmux server may be older than this test binary: hand the TUI the
	// test's own state directory (TestMain), not the one the server has.
	x.run("new-session", "-d", "-s", x.session, "-c", t.TempDir(), "-x", "120", "-y", "45", "-e", "XDG_STATE_HOME="+os.Getenv("XDG_STATE_HOME"), cmd)
	t.Cleanup(func() { _ = exec.Command("tmux", "kill-session", "-t", x.session).Run() })
	return x
}

// shellRoundTrip presses s on an open detail screen, runs a command in
// the shell kubectl exec opens, leaves it, and waits until the TUI is back
// with after on screen.
func (x tmux) shellRoundTrip(marker, after string) {
	x.t.Helper()
	x.keys("s")
	x.waitFor(30*time.Second, "#")
	x.keys("-l", "echo "+marker+"-$((6*7))")
	x.keys("Enter")
	x.waitFor(10*time.Second, marker+"-42")
	x.keys("-l", "exit")
	x.keys("Enter")
	x.waitFor(15*time.Second, "exec ended", after)
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
func (x tmux) waitStatus(timeout time.Duration, want string) string {
	x.t.Helper()
	var s string
	if !poll(timeout, 100*time.Millisecond, func() bool { s = x.screen(); return strings.Contains(statusLine(s), want) }) {
		x.t.Fatalf("the status bar never showed %q; last screen:\n%s", want, s)
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

// adminClientset is a client of the real cluster as its admin.
func adminClientset(t *testing.T) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", clusterKubeconfig(t, "admin"))
	return clientsetFor(t, cfg, err)
}

// clientsetFor is a client of cfg, failing the test when cfg could not be
// built (err) or the client cannot.
func clientsetFor(t *testing.T, cfg *rest.Config, err error) kubernetes.Interface {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
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
	if !poll(90*time.Second, 500*time.Millisecond, crashing) {
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
	if !poll(90*time.Second, 100*time.Millisecond, hasSA) {
		t.Fatalf("namespace %s has no default ServiceAccount after 90 s", ns)
	}
	return ns
}
