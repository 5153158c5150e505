package diagnose

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func at(sec int) metav1.Time { return metav1.NewTime(t0.Add(time.Duration(sec) * time.Second)) }

func killing(sec int, probe string) corev1.Event {
	return corev1.Event{Reason: "Killing", Type: "Normal", Count: 1,
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p", FieldPath: "spec.containers{app}"},
		Message:        "Container app failed " + probe + " probe, will be restarted", FirstTimestamp: at(sec), LastTimestamp: at(sec)}
}

func podWith(term corev1.ContainerStateTerminated, policy corev1.RestartPolicy, grace int64) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"},
		Spec: corev1.PodSpec{RestartPolicy: policy, TerminationGracePeriodSeconds: &grace,
			Containers: []corev1.Container{{Name: "app", Image: "img"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{Name: "app", RestartCount: 3,
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
			LastTerminationState: corev1.ContainerState{Terminated: &term}}}},
	}
}

// TestExitInContext: the same exit code means different things depending on
// the reason and the events around it.
func TestExitInContext(t *testing.T) {
	run := func(code int32, reason string, start, end int) corev1.ContainerStateTerminated {
		return corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: at(start), FinishedAt: at(end)}
	}
	tests := []struct {
		name    string
		term    corev1.ContainerStateTerminated
		policy  corev1.RestartPolicy
		events  []corev1.Event
		killer  string
		meaning string
		explain string
	}{
		{"137 OOMKilled is an OOM", run(137, "OOMKilled", 0, 40), "", nil, KillerOOM, "OOM killed", "OOM killer"},
		{"137 after a liveness Killing is the grace-period SIGKILL", run(137, "Error", 0, 45), "", []corev1.Event{killing(15, "liveness")}, KillerGracePeriod, "SIGKILL", "Not an OOM"},
		{"137 with neither is an outside SIGKILL", run(137, "Error", 0, 200), "", nil, KillerOutside, "SIGKILL", "Not an OOM"},
		{"143 after a liveness Killing is the probe", run(143, "Error", 0, 16), "", []corev1.Event{killing(15, "liveness")}, KillerLiveness, "SIGTERM", "not the application"},
		{"startup probe kill", run(143, "Error", 0, 31), "", []corev1.Event{killing(30, "startup")}, KillerStartup, "SIGTERM", "startup probe"},
		{"a Killing event outside the run does not count without one", run(137, "Error", 100, 200), "", nil, KillerOutside, "SIGKILL", "outside"},
		{"earlier liveness kills explain a 137 when the event budget is spent", run(137, "Error", 100, 125), "", []corev1.Event{killing(15, "liveness")}, KillerGracePeriod, "SIGKILL", "stops recording a pod's events"},
		{"an exit 1 is not attributed to an old kill", run(1, "Error", 100, 101), "", []corev1.Event{killing(15, "liveness")}, KillerApplication, "", "exited with code 1"},
		{"128 StartError permission denied", corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: `failed to create containerd task: exec: "/app/run.sh": permission denied`, FinishedAt: at(1)}, "", nil, KillerRuntime, "never started", "not executable"},
		{"128 StartError not found", corev1.ContainerStateTerminated{ExitCode: 128, Reason: "StartError", Message: `exec: "/usr/local/bin/api-server": stat /usr/local/bin/api-server: no such file or directory`, FinishedAt: at(1)}, "", nil, KillerRuntime, "never started", "does not exist"},
		{"0 under Always should not exit", run(0, "Completed", 0, 2), corev1.RestartPolicyAlways, nil, KillerCompleted, "", "should not exit"},
		{"0 under Never is fine", run(0, "Completed", 0, 2), corev1.RestartPolicyNever, nil, KillerCompleted, "", "finished normally"},
		{"139 is a segfault", run(139, "Error", 0, 1), "", nil, KillerApplication, "SIGSEGV", "Segmentation fault"},
		{"134 is an abort", run(134, "Error", 0, 1), "", nil, KillerApplication, "SIGABRT", "abort()"},
		{"127 is command not found", run(127, "Error", 0, 0), "", nil, KillerApplication, "not found", "not found"},
		{"126 is not executable", run(126, "Error", 0, 0), "", nil, KillerApplication, "not executable", "not executable"},
		{"130 names SIGINT", run(130, "Error", 0, 5), "", nil, KillerOutside, "SIGINT", "signal 2"},
		{"1 is the application, and EXIT says only the number", run(1, "Error", 0, 3), "", nil, KillerApplication, "", "exited with code 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith(tc.term, tc.policy, 30)
			e := explainExit(pod, pod.Status.ContainerStatuses[0], tc.events)
			if e == nil {
				t.Fatal("no explanation")
			}
			if e.Killer != tc.killer || e.Meaning != tc.meaning {
				t.Errorf("killer=%s meaning=%q, want %s %q", e.Killer, e.Meaning, tc.killer, tc.meaning)
			}
			if !strings.Contains(e.Explanation, tc.explain) {
				t.Errorf("explanation %q lacks %q", e.Explanation, tc.explain)
			}
			if tc.killer != KillerOOM && strings.Contains(strings.ToLower(e.Meaning), "oom") {
				t.Errorf("called an OOM without OOMKilled: %+v", e)
			}
		})
	}
}

func TestParseBackoffMessage(t *testing.T) {
	tests := []struct {
		msg  string
		want time.Duration
		ok   bool
	}{
		{"back-off 2m40s restarting failed container=app pod=ns/p_uid", 160 * time.Second, true},
		{"back-off 10s restarting failed container=api pod=cloud/api-1_8263", 10 * time.Second, true},
		{"back-off 5m0s restarting failed container=x pod=y", 5 * time.Minute, true},
		{"Back-off pulling image \"x\"", 0, false},
		{"back-off banana restarting failed container=x", 0, false},
		{"back-off -5s restarting failed container=x", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := parseBackoffMessage(tc.msg)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseBackoffMessage(%q) = %s %v, want %s %v", tc.msg, got, ok, tc.want, tc.ok)
		}
	}
}

func TestEstimateBackoff(t *testing.T) {
	tests := []struct {
		restarts int32
		cap      time.Duration
		want     time.Duration
	}{
		{0, 0, 10 * time.Second}, {1, 0, 10 * time.Second}, {2, 0, 20 * time.Second}, {3, 0, 40 * time.Second},
		{5, 0, 160 * time.Second}, {6, 0, 300 * time.Second}, {40, 0, 300 * time.Second},
		{6, 60 * time.Second, 60 * time.Second}, {3, 10 * time.Second, 10 * time.Second},
	}
	for _, tc := range tests {
		if got := EstimateBackoff(tc.restarts, tc.cap); got != tc.want {
			t.Errorf("EstimateBackoff(%d, %s) = %s, want %s", tc.restarts, tc.cap, got, tc.want)
		}
	}
}

// TestBackoffNeverResets: seed 04, a container killed every 3-4 minutes
// keeps the ceiling; so does one that runs half a minute and exits; one that
// ran past 10 minutes starts over, and an app that dies at once is explained
// by its crash alone. The back-off is a consequence: the cause ranks first,
// and the fix names what ends the run.
func TestBackoffNeverResets(t *testing.T) {
	for _, tc := range []struct {
		name    string
		code    int32
		ran     int
		reset   bool
		finding bool
		top     string
		fix     string // in the back-off finding's fix
	}{
		{"killed after 3.5 minutes", 137, 210, false, true, FindingExternalKill, "Stop whatever kills it"},
		{"killed after 2 seconds", 137, 2, false, true, FindingExternalKill, "Stop whatever kills it"},
		{"exits 1 after 30 seconds", 1, 30, false, true, FindingAppErrorExit, "The app ends each run by itself"},
		{"exits 1 after 5 seconds", 1, 5, false, false, FindingAppErrorExit, ""},
		{"ran 11 minutes", 137, 660, true, false, FindingExternalKill, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pod := podWith(corev1.ContainerStateTerminated{ExitCode: tc.code, Reason: "Error", StartedAt: at(0), FinishedAt: at(tc.ran)}, "", 30)
			cs := &pod.Status.ContainerStatuses[0]
			cs.RestartCount = 7
			cs.State.Waiting.Message = "back-off 5m0s restarting failed container=app pod=ns/p_uid"
			r := Diagnose(Input{Pod: pod, Now: t0.Add(time.Duration(tc.ran+60) * time.Second)})
			if r.Backoff == nil || r.Backoff.WillReset != tc.reset || r.Backoff.DelaySource != "waiting-message" || r.Backoff.DelaySeconds != 300 {
				t.Fatalf("timeline %+v", r.Backoff)
			}
			if want := t0.Add(time.Duration(tc.ran+300) * time.Second); !r.Backoff.NextRestart.Equal(want) || r.Backoff.NextRestartIn != 240 {
				t.Errorf("next restart %s in %vs, want %s in 240s", r.Backoff.NextRestart, r.Backoff.NextRestartIn, want)
			}
			if r.Findings[0].ID != tc.top {
				t.Errorf("top finding %s, want %s (%v)", r.Findings[0].ID, tc.top, ids(r))
			}
			var backoff *Finding
			for i := range r.Findings {
				if r.Findings[i].ID == FindingBackoffNeverResets {
					backoff = &r.Findings[i]
				}
			}
			if (backoff != nil) != tc.finding {
				t.Fatalf("backoff-never-resets found: %v, want %v (%v)", backoff != nil, tc.finding, ids(r))
			}
			if backoff != nil && !strings.Contains(backoff.Fix.Text, tc.fix) {
				t.Errorf("fix %q does not say %q", backoff.Fix.Text, tc.fix)
			}
		})
	}
}

func ids(r Report) []string {
	out := make([]string, len(r.Findings))
	for i, f := range r.Findings {
		out[i] = f.ID
	}
	return out
}

func TestClassifyLog(t *testing.T) {
	tests := []struct {
		line, kind, detail string
	}{
		{`2026/11/21 attempt 1/3: dial tcp 127.0.0.1:5432: connect: connection refused`, LogConnRefused, "127.0.0.1:5432"},
		{`cat: can't open '/etc/orders/config.yaml': No such file or directory`, LogNoSuchFile, "/etc/orders/config.yaml"},
		{`Error: connect ECONNREFUSED 10.0.0.5:6379`, LogConnRefused, ""},
		{`dial tcp: lookup postgres.db.svc on 10.96.0.10:53: no such host`, LogNoSuchHost, "postgres.db.svc"},
		{`error: cannot open index: open /var/lib/orders/index.db: permission denied`, LogPermissionDenied, "/var/lib/orders/index.db"},
		{`touch: /etc/app.conf: Read-only file system`, LogReadOnlyFS, ""},
		{`{"message":"no such file or directory: /Users/my_user/bin/currency_script.sh","severity":"error"}`, LogNoSuchFile, "/Users/my_user/bin/currency_script.sh"},
		{`listen tcp :8080: bind: address already in use`, LogAddressInUse, ":8080"},
		{`panic: runtime error: invalid memory address or nil pointer dereference`, LogCodeBug, "invalid memory address or nil pointer dereference"},
		{`panic: unexpected state`, LogGoPanic, ""},
		{`Exception in thread "main" java.lang.IllegalStateException: boom`, LogJavaException, ""},
		{`Traceback (most recent call last):`, LogPythonTraceback, ""},
		{`java.lang.OutOfMemoryError: Java heap space`, LogOOM, ""},
		{`FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory`, LogOOM, ""},
		{`flag provided but not defined: -listen-addr`, LogConfigError, ""},
		{`sh: exec: line 0: /app/bin/start-worker: not found`, LogNotFound, "/app/bin/start-worker"},
		{`Error: read ECONNRESET`, LogConnReset, ""},
		{`level=error msg="shutting down"`, LogError, ""},
	}
	for _, tc := range tests {
		s := ClassifyLog(strings.NewReader("starting\n" + tc.line + "\n"))
		if s.FirstError == nil || s.FirstError.Kind != tc.kind || s.FirstError.Line != 2 {
			t.Errorf("%q: first error %+v, want kind %s on line 2", tc.line, s.FirstError, tc.kind)
			continue
		}
		if tc.detail != "" && s.FirstError.Detail != tc.detail {
			t.Errorf("%q: detail %q, want %q", tc.line, s.FirstError.Detail, tc.detail)
		}
	}
	if s := ClassifyLog(strings.NewReader("")); !s.Empty || s.FirstError != nil {
		t.Errorf("empty log: %+v", s)
	}
	if s := ClassifyLog(strings.NewReader("listening on 8080\nready\n")); s.FirstError != nil {
		t.Errorf("a clean log has an error: %+v", s.FirstError)
	}
}

// TestClassifyLogIsBounded: a 3 MB single line and 5,000 lines are read
// within the bounds.
func TestClassifyLogIsBounded(t *testing.T) {
	huge := strings.Repeat("x", 3<<20) + "\nerror: after the long line\n"
	s := ClassifyLog(strings.NewReader(huge))
	if s.Lines > MaxLogLines || s.FirstError == nil {
		t.Fatalf("summary %+v", s)
	}
	for _, m := range s.Matches {
		if len(m.Text) > MaxLogLineBytes {
			t.Errorf("match of %d bytes", len(m.Text))
		}
	}
	s = ClassifyLog(strings.NewReader(strings.Repeat("error: x\n", 5000)))
	if s.Lines != MaxLogLines || len(s.Matches) != maxLogMatches {
		t.Errorf("lines=%d matches=%d, want %d and %d", s.Lines, len(s.Matches), MaxLogLines, maxLogMatches)
	}
}

func TestLoadTemplateErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"unknown field", "livenessProbe: {periodSeconds: 10}\nlivenesProbe: {}\n", "line 2: unknown field \"livenesProbe\""},
		{"wrong type", "terminationGracePeriodSeconds: 30\nreadinessProbe:\n  periodSeconds: often\n", "line 3: readinessProbe"},
		{"not a mapping", "- a\n- b\n", "line 1: want a mapping"},
		{"broken yaml", "livenessProbe: {periodSeconds: 10\n", "probe template: yaml: line"},
		{"empty", "", "empty"},
		{"factor below 1", "startupBudgetFactor: 0.5\n", "at least 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadTemplate([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want it to contain %q", err, tc.want)
			}
		})
	}
	tmpl, err := LoadTemplate([]byte("livenessProbe: {httpGet: {path: /livez, port: 9000}, periodSeconds: 20}\n"))
	if err != nil || tmpl.LivenessProbe.HTTPGet.Path != "/livez" || tmpl.StartupBudgetFactor != 1.5 {
		t.Errorf("team template: %+v %v", tmpl, err)
	}
}

func TestProbeFindingsStatic(t *testing.T) {
	http := func(path string, port intstr.IntOrString) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: port}}, PeriodSeconds: 5}
	}
	ports := []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}
	tests := []struct {
		name string
		c    corev1.Container
		want map[string]string // id -> severity
	}{
		{"same endpoint through a named port", corev1.Container{Name: "a", Ports: ports,
			LivenessProbe: http("/status", intstr.FromString("http")), ReadinessProbe: http("/status", intstr.FromInt32(8080))},
			map[string]string{FindingLivenessSharesReadiness: SeverityError}},
		{"same endpoint, other thresholds, is weaker", corev1.Container{Name: "a", Ports: ports,
			LivenessProbe: func() *corev1.Probe {
				p := http("/status", intstr.FromString("http"))
				p.FailureThreshold = 6
				return p
			}(),
			ReadinessProbe: http("/status", intstr.FromString("http"))},
			map[string]string{FindingLivenessSharesReadiness: SeverityWarning}},
		{"liveness on a dependency check", corev1.Container{Name: "a", Ports: ports,
			LivenessProbe: http("/health/db", intstr.FromString("http")), ReadinessProbe: http("/readyz", intstr.FromString("http"))},
			map[string]string{FindingLivenessChecksDeps: SeverityError}},
		{"liveness without readiness", corev1.Container{Name: "a", Ports: ports, LivenessProbe: http("/healthz", intstr.FromString("http"))},
			map[string]string{FindingLivenessNoReadiness: SeverityWarning}},
		{"undeclared port name", corev1.Container{Name: "a", Ports: ports,
			LivenessProbe: http("/healthz", intstr.FromString("metrics")), ReadinessProbe: http("/readyz", intstr.FromString("http"))},
			map[string]string{FindingProbePortNotDeclared: SeverityError}},
		{"undeclared port number", corev1.Container{Name: "a", Ports: ports,
			LivenessProbe: http("/healthz", intstr.FromInt32(9090)), ReadinessProbe: http("/readyz", intstr.FromString("http"))},
			map[string]string{FindingProbePortNotDeclared: SeverityWarning}},
		{"seed 01's fix has none", corev1.Container{Name: "a", Ports: ports,
			StartupProbe: http("/healthz", intstr.FromString("http")), LivenessProbe: http("/healthz", intstr.FromString("http")), ReadinessProbe: http("/readyz", intstr.FromString("http"))},
			map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]string{}
			for _, f := range probeFindings(&tc.c, probeEvidence{}) {
				got[f.ID] = f.Severity
			}
			if len(got) != len(tc.want) {
				t.Errorf("findings %v, want %v", got, tc.want)
			}
			for id, sev := range tc.want {
				if got[id] != sev {
					t.Errorf("%s: severity %q, want %q (all: %v)", id, got[id], sev, got)
				}
			}
		})
	}
}

func TestUnifiedDiff(t *testing.T) {
	a := "a: 1\nb: 2\nc: 3\n"
	b := "a: 1\nb: 5\nc: 3\nd: 4\n"
	want := "--- x\n+++ y\n@@ -1,3 +1,4 @@\n a: 1\n-b: 2\n+b: 5\n c: 3\n+d: 4\n"
	if got := unifiedDiff(a, b, "x", "y"); got != want {
		t.Errorf("diff:\n%s\nwant:\n%s", got, want)
	}
	if unifiedDiff(a, a, "x", "y") != "" {
		t.Error("diff of equal texts is not empty")
	}
}

func TestFoldEvents(t *testing.T) {
	ev := func(reason, msg string, count int32, first, last int) corev1.Event {
		return corev1.Event{Reason: reason, Message: msg, Count: count, Type: "Warning",
			InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "p"}, FirstTimestamp: at(first), LastTimestamp: at(last)}
	}
	got := FoldEvents([]corev1.Event{
		ev("BackOff", "Back-off restarting failed container", 20, 0, 1000),
		ev("BackOff", "Back-off restarting failed container", 19, 1200, 2220),
		ev("Unhealthy", "Liveness probe failed", 1, 100, 100),
	})
	if len(got) != 2 || got[0].Reason != "BackOff" || got[0].Count != 39 || got[0].Repeat() != "(x39 over 37m)" {
		t.Errorf("folded %+v", got)
	}
}
