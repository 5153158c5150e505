package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
)

// klog takes its logger before first use only: set it before any test
// starts a reflector, as main does before any command runs.
func init() { _, _ = StartDebugLog("") }

// fakeAPI answers just enough of the API for the transport's tests: a pod
// GET that hangs when asked to, a watch that streams for 1.5 s, a log.
func fakeAPI(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("watch") == "true":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(200)
			w.(http.Flusher).Flush()
			for i := 0; i < 3; i++ {
				select {
				case <-r.Context().Done():
					return
				case <-time.After(500 * time.Millisecond):
				}
				fmt.Fprintf(w, `{"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p%d","namespace":"ns","resourceVersion":"%d"}}}`+"\n", i, i+1)
				w.(http.Flusher).Flush()
			}
		case strings.HasSuffix(r.URL.Path, "/log"):
			fmt.Fprint(w, "LOG-CONTENT-MARKER password=hunter2\n")
		case strings.HasSuffix(r.URL.Path, "/hang"):
			<-r.Context().Done()
		default:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"kind":"Pod","apiVersion":"v1","metadata":{"name":"ok","namespace":"ns"}}`)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRequestTimeoutBoundsRequestsNotStreams(t *testing.T) {
	srv := fakeAPI(t)
	c, err := NewClientset(&rest.Config{Host: srv.URL, Timeout: time.Second}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	start := time.Now()
	_, err = c.CoreV1().Pods("ns").Get(ctx, "hang", metav1.GetOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a hung GET returned %v, want a deadline error", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("a hung GET took %s with a 1 s timeout", took)
	}
	if _, err := c.CoreV1().Pods("ns").Get(ctx, "ok", metav1.GetOptions{}); err != nil {
		t.Errorf("a quick GET: %v", err)
	}

	// The watch outlives the timeout and delivers all three events.
	w, err := c.CoreV1().Pods("ns").Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	got := 0
	for ev := range w.ResultChan() {
		if _, ok := ev.Object.(*corev1.Pod); !ok {
			t.Fatalf("watch event %v: %v", ev.Type, ev.Object)
		}
		got++
	}
	if got != 3 {
		t.Errorf("the watch delivered %d of 3 events before it was cut", got)
	}
}

func TestDebugLogHasRequestsButNoTokensOrContent(t *testing.T) {
	srv := fakeAPI(t)
	path := filepath.Join(t.TempDir(), "debug.log")
	stop, err := StartDebugLog(path)
	if err != nil {
		t.Fatal(err)
	}
	const token = "s3cr3t-bearer-token-0123456789"
	c, err := NewClientset(&rest.Config{Host: srv.URL, BearerToken: token, Timeout: 5 * time.Second}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CoreV1().Pods("ns").Get(context.Background(), "ok", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := readLog(context.Background(), c, "ns", "ok", &corev1.PodLogOptions{}, 10); err != nil {
		t.Fatal(err)
	}
	stop()
	if _, err := StartDebugLog(""); err != nil { // back to discarding
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{"GET /api/v1/namespaces/ns/pods/ok 200", "GET /api/v1/namespaces/ns/pods/ok/log?limitBytes=262144&tailLines=10 200"} {
		if !strings.Contains(log, want) {
			t.Errorf("debug log lacks %q:\n%s", want, log)
		}
	}
	for _, secret := range []string{token, "LOG-CONTENT-MARKER", "hunter2", "Bearer"} {
		if strings.Contains(log, secret) {
			t.Errorf("debug log contains %q:\n%s", secret, log)
		}
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("debug log mode %v, want 0600", fi.Mode().Perm())
	}
}

// TestLogReadIsBoundedWhenTheServerIgnoresLimits: a server that ignores
// limitBytes and streams 100 MB, with a 1 MB line, costs crashlens at most
// LogLimitBytes of log, each line cut at MaxLogLineBytes, and returns
// without reading the rest.
func TestLogReadIsBoundedWhenTheServerIgnoresLimits(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := []byte(strings.Repeat("x", 1<<20) + "\n")
		for sent := 0; sent < 100<<20 && r.Context().Err() == nil; sent += len(line) {
			if _, err := w.Write(line); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	c, err := NewClientset(&rest.Config{Host: srv.URL}, "test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := readLog(context.Background(), c, "ns", "p", &corev1.PodLogOptions{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > LogLimitBytes {
		t.Errorf("read %d bytes, want at most %d", len(b), LogLimitBytes)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if len(l) > MaxLogLineBytes+len(" [line truncated]") {
			t.Fatalf("a line of %d bytes came through", len(l))
		}
	}
}

// TestLogEndSurvivesAHugeLine: a 1 MB line near the end of the tail window
// fills limitBytes (which counts from the window's start, as the kubelet
// does); the log's last lines are still read.
func TestLogEndSurvivesAHugeLine(t *testing.T) {
	var lines []string
	for i := 0; i < 100; i++ {
		lines = append(lines, fmt.Sprintf("early line %d", i))
	}
	lines = append(lines, strings.Repeat("x", 1<<20), "END-1", "END-2", "fatal: the crash's last words")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tail, _ := strconv.Atoi(r.URL.Query().Get("tailLines"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limitBytes"))
		body := strings.Join(lines[max(len(lines)-tail, 0):], "\n") + "\n"
		fmt.Fprint(w, body[:min(len(body), limit)])
	}))
	defer srv.Close()
	c, err := NewClientset(&rest.Config{Host: srv.URL}, "test")
	if err != nil {
		t.Fatal(err)
	}
	b, err := readLog(context.Background(), c, "ns", "p", &corev1.PodLogOptions{}, 500)
	if err != nil {
		t.Fatal(err)
	}
	log := string(b)
	for _, want := range []string{"early line 0", "[line truncated]", "[… cut at 256 KiB; the last 2 lines:]", "fatal: the crash's last words"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	if len(b) > 2*LogLimitBytes {
		t.Errorf("read %d bytes", len(b))
	}
}

// TestMemoAsksLastingQuestionsOnce: a forbidden configz and an absent
// metrics API are asked once per session; a server error is asked again.
func TestMemoAsksLastingQuestionsOnce(t *testing.T) {
	var configz, metrics, flaky atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch {
		case strings.HasPrefix(r.URL.Path, "/api/v1/nodes/locked/"):
			configz.Add(1)
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"Forbidden","code":403}`)
		case strings.HasPrefix(r.URL.Path, "/api/v1/nodes/flaky/"):
			flaky.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		case strings.HasPrefix(r.URL.Path, "/apis/metrics.k8s.io/"):
			metrics.Add(1)
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404}`)
		}
	}))
	defer srv.Close()
	c, err := NewClientset(&rest.Config{Host: srv.URL}, "test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	memo := NewMemo()
	for i := 0; i < 3; i++ {
		if d := memo.backoffCap(ctx, c, "locked"); d != 0 {
			t.Errorf("cap %s from a forbidden configz", d)
		}
		memo.backoffCap(ctx, c, "flaky")
		if _, err := memo.usage(ctx, c, "ns", "p"); err == nil || !strings.Contains(err.Error(), "metrics not available") {
			t.Errorf("usage without a metrics API: %v", err)
		}
	}
	if configz.Load() != 1 || metrics.Load() != 1 {
		t.Errorf("asked configz %d and metrics %d times, want once each", configz.Load(), metrics.Load())
	}
	if flaky.Load() < 3 {
		t.Errorf("a server error was remembered: asked %d times in 3 fetches", flaky.Load())
	}
}
