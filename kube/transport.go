package kube

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"os"
	"sync"
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
	debugMu  sync.Mutex
	debugLog *log.Logger // nil: off
)

// StartDebugLog routes client-go's logging to the debug log file named by
// path, or nowhere when path is empty, and returns the function that
// closes the file.
func StartDebugLog(path string) (func(), error) {
	var out io.Writer = io.Discard
	closeFn := func() {}
	if path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return closeFn, fmt.Errorf("%s: %v", DebugLogEnv, err)
		}
		out = f
		debugMu.Lock()
		debugLog = log.New(f, "", log.LstdFlags|log.Lmicroseconds)
		debugMu.Unlock()
		closeFn = func() {
			debugMu.Lock()
			debugLog = nil
			debugMu.Unlock()
			_ = f.Close()
		}
	}
	// klog writes to stderr by default, errors even when told to write to
	// a file: under a TUI that is garbage on the screen. A logger takes all
	// of it.
	klog.SetSlogLogger(slog.New(slog.NewTextHandler(out, nil)))
	return closeFn, nil
}

// debugf writes one line to the debug log when it is on.
func debugf(format string, args ...any) {
	debugMu.Lock()
	l := debugLog
	debugMu.Unlock()
	if l != nil {
		l.Printf(format, args...)
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
	if t.timeout > 0 {
		var ctx context.Context
		ctx, cancel = context.WithCancel(req.Context())
		timer := time.AfterFunc(t.timeout, cancel)
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
		cancel()
		if req.Context().Err() != nil && t.timeout > 0 {
			err = fmt.Errorf("%w (no answer within %s)", context.DeadlineExceeded, t.timeout)
		}
		debugf("%s %s error after %s: %v", req.Method, req.URL.RequestURI(), time.Since(start).Round(time.Millisecond), err)
		return nil, err
	}
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
