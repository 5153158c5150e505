package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/hack/clustertest"
)

// hook is a local webhook that records posts and answers with the status
// of each call in turn.
type hook struct {
	srv      *httptest.Server
	mu       sync.Mutex
	bodies   []map[string]any
	statuses []int
	calls    atomic.Int32
	hang     time.Duration
}

func newHook(t *testing.T, statuses ...int) *hook { return newSlowHook(t, 0, statuses...) }

func newSlowHook(t *testing.T, hang time.Duration, statuses ...int) *hook {
	h := &hook{statuses: statuses, hang: hang}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(h.calls.Add(1)) - 1
		if h.hang > 0 {
			time.Sleep(h.hang)
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		h.mu.Lock()
		h.bodies = append(h.bodies, body)
		h.mu.Unlock()
		status := http.StatusOK
		if n < len(h.statuses) {
			status = h.statuses[n]
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func group(ns string, restarts int32) crash.Group {
	return crash.Group{Key: ns + "/api", Namespace: ns, Owner: "Deployment/api", Container: "app", State: "CrashLoopBackOff",
		ExitCode: 137, Meaning: "SIGKILL", Restarts: restarts, Pods: []diagnose.CrashPod{{Name: "api-1"}}}
}

func waitCalls(t *testing.T, h *hook, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.calls.Load() < n && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // and no more arrive
	if got := h.calls.Load(); got != n {
		t.Fatalf("%d posts, want %d", got, n)
	}
}

func TestThresholdMuteAndIgnore(t *testing.T) {
	h := newHook(t)
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	var log bytes.Buffer
	a := New(Config{URL: h.srv.URL + "/services/T000/B000/secret-token", RestartThreshold: 3, MuteFor: 10 * time.Minute,
		IgnoreNamespaces: []string{"kube-system"}, Now: func() time.Time { return now }, Log: &log,
		Explain: func(context.Context, crash.Group) (diagnose.Finding, bool) {
			return diagnose.Finding{ID: "liveness-kill", Verdict: "killed by <@here> probe", Fix: diagnose.Fix{Text: "fix the probe"}}, true
		}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	a.Observe(group("shop", 2))        // under the threshold
	a.Observe(group("kube-system", 9)) // ignored namespace
	a.Observe(group("shop", 3))        // crosses: alert
	a.Observe(group("shop", 4))        // muted
	waitCalls(t, h, 1)
	now = now.Add(11 * time.Minute)
	a.Observe(group("shop", 5)) // mute window over
	waitCalls(t, h, 2)
	h.mu.Lock()
	body, _ := json.Marshal(h.bodies[0])
	h.mu.Unlock()
	text := strings.ReplaceAll(string(body), `\u0026`, "&")
	for _, want := range []string{"shop/Deployment/api", "137 SIGKILL", "liveness-kill", "fix the probe", "&lt;@here&gt;"} {
		if !strings.Contains(text, want) {
			t.Errorf("payload lacks %q: %s", want, text)
		}
	}
	if strings.Contains(text, "<@here>") {
		t.Error("a mention from cluster text reached Slack unescaped")
	}
}

// TestFailuresAreRetriedAndNeverStopTheWatch: a 500 then a 200 is one
// alert with a retry; a dead webhook is logged with a masked URL.
func TestFailuresAreRetriedAndNeverStopTheWatch(t *testing.T) {
	h := newHook(t, 500, 503, 200)
	var log clustertest.Buffer
	a := New(Config{URL: h.srv.URL + "/services/T000/B000/secret-token", RestartThreshold: 1, MuteFor: time.Hour, BaseDelay: 10 * time.Millisecond, Log: &log})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go a.Run(ctx)
	start := time.Now()
	a.Observe(group("shop", 1))
	if time.Since(start) > 10*time.Millisecond {
		t.Error("Observe blocked")
	}
	waitCalls(t, h, 3)
	if strings.Contains(log.String(), "secret-token") || !strings.Contains(log.String(), "/services/****") {
		t.Errorf("log shows the token or not the masked URL: %s", log.String())
	}
	// A webhook that hangs past the timeout: logged, retried, the caller
	// goes on.
	slow := newSlowHook(t, 200*time.Millisecond)
	b := New(Config{URL: slow.srv.URL + "/x/secret", RestartThreshold: 1, MuteFor: time.Hour, BaseDelay: time.Millisecond,
		Client: &http.Client{Timeout: 50 * time.Millisecond}, Log: &log})
	go b.Run(ctx)
	b.Observe(group("shop", 1))
	b.Observe(group("other", 1))
	// The 50 ms client timeout fires within a moment; on a loaded machine
	// that moment can be long, so wait for the line rather than a fixed time.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(log.String(), "Client.Timeout") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(log.String(), "Client.Timeout") || strings.Contains(log.String(), "/x/secret") {
		t.Errorf("timeout not logged, or the URL leaked: %s", log.String())
	}
}

func TestMaskURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T000/B000/XXXX": "https://hooks.slack.com/services/****",
		"http://127.0.0.1:9999/hook?token=abc":            "http://127.0.0.1:9999/hook/****",
		"not a url":                                       "<webhook>",
	} {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestMessageNamesTheCluster: a watch of several contexts alerts for all
// of them, so each message says which cluster, in its title and a field.
func TestMessageNamesTheCluster(t *testing.T) {
	g := group("shop", 5)
	g.Cluster = "prod-eu"
	b, err := json.Marshal(Message(g, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"text":"prod-eu: shop/Deployment/api is failing: CrashLoopBackOff, exit 137`, `*Cluster*\nprod-eu`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the message lacks %q: %s", want, b)
		}
	}
}
