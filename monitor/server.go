package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/report"
)

// Bounds of the history API, in one place.
const (
	// MaxHistoryLimit is the most rows one request may ask for: a page of
	// a workload's crashes, not a dump of the ledger.
	MaxHistoryLimit = 1000
	// defaultHistoryLimit is the page when no limit is given.
	defaultHistoryLimit = 100
	// historyTimeout bounds one history query.
	historyTimeout = 10 * time.Second
)

// historyParams are the query parameters the history API takes; any other
// is a 400, so a typo never silently widens an answer.
var historyParams = map[string]bool{"since": true, "namespace": true, "workload": true, "pod": true, "container": true, "context": true, "limit": true}

// Health is what /readyz reports: the first sync is done, the ledger is
// open and its last write did not fail. Each part says why it is not ready.
type Health struct {
	mu       sync.Mutex
	synced   func() bool
	ledger   error // why there is no ledger (nil: open)
	writeErr error // the last write's error, cleared by a good write
	waiting  string
}

// NewHealth starts with the ledger not open yet.
func NewHealth(synced func() bool) *Health {
	return &Health{synced: synced, ledger: errors.New("the crash ledger is not open yet")}
}

// LedgerOpen records the ledger's open, or why it could not.
func (h *Health) LedgerOpen(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ledger = err
}

// Written records a write's outcome.
func (h *Health) Written(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.writeErr = err
}

// Waiting says why the recorder has not started (another holds the lock);
// "" once it has.
func (h *Health) Waiting(why string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.waiting = why
}

// NotReady is why the recorder is not ready, "" when it is.
func (h *Health) NotReady() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.waiting != "":
		return h.waiting
	case h.ledger != nil:
		return "crash ledger: " + h.ledger.Error()
	case h.writeErr != nil:
		return "crash ledger cannot write: " + h.writeErr.Error()
	case !h.synced():
		return "the watcher has not synced with the API server yet"
	}
	return ""
}

// Handler serves /metrics, /healthz, /readyz and /api/v1/history. history
// reads the ledger; it answers 503 while there is none.
func Handler(m *Metrics, h *Health, history func(context.Context, ledger.Query) ([]ledger.Crash, error)) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if why := h.NotReady(); why != "" {
			http.Error(w, "not ready: "+why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/api/v1/history", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the history API is read-only: GET only", http.StatusMethodNotAllowed)
			return
		}
		q, err := HistoryQuery(r.URL.Query(), time.Now())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), historyTimeout)
		defer cancel()
		rows, err := history(ctx, q)
		if err != nil {
			http.Error(w, "history: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		report.HistoryJSON(w, rows)
	})
	return mux
}

// HistoryQuery reads the history API's parameters: since (a duration back
// from now, e.g. 24h, or an RFC 3339 time), namespace, workload
// (Kind/name), pod, container, context and limit (1 to MaxHistoryLimit,
// default 100). Anything else, or a value it cannot read, is an error
// that says which.
func HistoryQuery(v url.Values, now time.Time) (ledger.Query, error) {
	q := ledger.Query{Limit: defaultHistoryLimit}
	for k, vals := range v {
		if !historyParams[k] {
			return q, fmt.Errorf("unknown parameter %q: want since, namespace, workload, pod, container, context or limit", k)
		}
		if len(vals) != 1 {
			return q, fmt.Errorf("parameter %q given %d times", k, len(vals))
		}
	}
	q.Namespace, q.Workload, q.Pod, q.Container, q.Context = v.Get("namespace"), v.Get("workload"), v.Get("pod"), v.Get("container"), v.Get("context")
	if s := v.Get("since"); s != "" {
		if d, err := time.ParseDuration(s); err == nil && d > 0 {
			q.Since = now.Add(-d)
		} else if t, err := time.Parse(time.RFC3339, s); err == nil {
			q.Since = t
		} else {
			return q, fmt.Errorf("since %q: want a positive duration (24h) or an RFC 3339 time", s)
		}
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxHistoryLimit {
			return q, fmt.Errorf("limit %q: want 1 to %d", s, MaxHistoryLimit)
		}
		q.Limit = n
	}
	return q, nil
}
