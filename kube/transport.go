package kube

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

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
		Debugf("%s %s error after %s: %v", req.Method, req.URL.RequestURI(), time.Since(start).Round(time.Millisecond), err)
		return nil, err
	}
	observed(req, nil)
	Debugf("%s %s %d %s", req.Method, req.URL.RequestURI(), resp.StatusCode, time.Since(start).Round(time.Millisecond))
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

// ObserveAttempts returns a ctx whose requests report each attempt to fn:
// its transport error, or nil when the server answered. client-go retries
// a GET on a reset connection up to ten times inside one call; the watcher
// must say it lost the server at the first failure, not after the retries.
func ObserveAttempts(ctx context.Context, fn func(error)) context.Context {
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
