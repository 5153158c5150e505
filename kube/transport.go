package kube

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/klog/v2"
)

// DebugLogEnv names the environment variable that turns on the debug log:
// the path of a file crashlens appends to. It holds one line per API request
// (method, path and query, status, duration), the watcher's connection
// changes and client-go's own messages, which would otherwise land on the
// terminal under the TUI. It never holds request headers (tokens) or
// response bodies (logs, events).
const DebugLogEnv = "CRASHLENS_DEBUG_LOG"

var (
	debugMu   sync.Mutex
	debugFile io.Writer // nil: off
	klogOnce  sync.Once
)

// StartDebugLog routes client-go's logging to the debug log file named by
// path, or nowhere when path is empty, and returns the function that
// closes the file.
func StartDebugLog(path string) (func(), error) {
	// klog writes to stderr by default, errors even when told to write to
	// a file: under a TUI that is garbage on the screen. A logger takes all
	// of it; klog allows setting one only before its first use.
	klogOnce.Do(func() { klog.SetSlogLogger(slog.New(slog.NewTextHandler(debugSink{}, nil))) })
	if path == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return func() {}, fmt.Errorf("%s: %v", DebugLogEnv, err)
	}
	debugMu.Lock()
	debugFile = f
	debugMu.Unlock()
	return func() {
		debugMu.Lock()
		debugFile = nil
		debugMu.Unlock()
		_ = f.Close()
	}, nil
}

// debugSink writes to the debug log file when there is one.
type debugSink struct{}

func (debugSink) Write(p []byte) (int, error) {
	debugMu.Lock()
	defer debugMu.Unlock()
	if debugFile != nil {
		return debugFile.Write(p)
	}
	return len(p), nil
}

// debugf writes one line to the debug log when it is on.
func debugf(format string, args ...any) {
	debugMu.Lock()
	defer debugMu.Unlock()
	if debugFile != nil {
		fmt.Fprintf(debugFile, "%s %s\n", time.Now().Format("2006/01/02 15:04:05.000000"), fmt.Sprintf(format, args...))
	}
}

// requestTransport bounds each request by the --request-timeout and logs it
// to the debug log. Watches and log follows are streams that live for the
// session: the timeout bounds only their start (headers), never their body,
// where http.Client.Timeout would cut them every few seconds.
type requestTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (t *requestTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	stream := isStream(req)
	var cancel context.CancelFunc = func() {}
	var expired atomic.Bool
	if t.timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithCancel(req.Context())
		stop := cancel
		timer := time.AfterFunc(t.timeout, func() { expired.Store(true); stop() })
		req = req.WithContext(ctx)
		if stream {
			// Headers within the timeout; after that the stream is the
			// caller's to end.
			defer timer.Stop()
		} else {
			prev := cancel
			cancel = func() { timer.Stop(); prev() }
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		if expired.Load() {
			err = timeoutError{t.timeout}
		}
		if expired.Load() || req.Context().Err() == nil { // not the caller giving up
			observed(req, err)
		}
		cancel()
		debugf("%s %s error after %s: %v", req.Method, req.URL.RequestURI(), time.Since(start).Round(time.Millisecond), err)
		return nil, err
	}
	observed(req, nil)
	debugf("%s %s %d %s", req.Method, req.URL.RequestURI(), resp.StatusCode, time.Since(start).Round(time.Millisecond))
	if !stream {
		resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	}
	return resp, nil
}

// isStream tells a watch or a followed log from a request that ends.
func isStream(req *http.Request) bool {
	q := req.URL.Query()
	return q.Get("watch") == "true" || q.Get("watch") == "1" || q.Get("follow") == "true"
}

// cancelOnClose releases a request's timer when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

type attemptObserverKey struct{}

// observeAttempts returns a ctx whose requests report each attempt to fn:
// its transport error, or nil when the server answered. client-go retries
// a GET on a reset connection up to ten times inside one call; the watcher
// must say it lost the server at the first failure, not after the retries.
func observeAttempts(ctx context.Context, fn func(error)) context.Context {
	return context.WithValue(ctx, attemptObserverKey{}, fn)
}

func observed(req *http.Request, err error) {
	if fn, ok := req.Context().Value(attemptObserverKey{}).(func(error)); ok {
		fn(err)
	}
}

// timeoutError is a request the server did not answer within the
// --request-timeout.
type timeoutError struct{ d time.Duration }

func (e timeoutError) Error() string {
	return fmt.Sprintf("the API server did not answer within %s", e.d)
}
func (e timeoutError) Unwrap() error { return context.DeadlineExceeded }
func (e timeoutError) Timeout() bool { return true }
