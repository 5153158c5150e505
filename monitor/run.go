package monitor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/crashlens/crashlens/kube/capture"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/sanitize"
)

// Options are the recorder's: where it listens, where its ledger is.
type Options struct {
	Listen string // host:port of /metrics, the health checks and the history API
	// LedgerPath is the ledger file, on the recorder's volume; "" records
	// nothing (metrics only).
	LedgerPath string
	Ledger     ledger.Options
	Log        io.Writer // one line per event worth a look (stderr: the pod's log)
}

// lockRetry is how often a second recorder on the same ledger asks for
// the lock again.
const lockRetry = 5 * time.Second

// Run serves, then opens the ledger (waiting while another recorder holds
// it), then runs the fleet with every crash captured into the ledger and
// counted into the metrics, until ctx ends. It fails only when it cannot
// listen; a ledger that cannot open or write makes it unready, with the
// reason, and it goes on counting.
func Run(ctx context.Context, fleet *clusters.Fleet, o Options) error {
	m := NewMetrics()
	h := NewHealth(m.Synced)
	var mu sync.Mutex
	var l *ledger.Ledger
	history := func(ctx context.Context, q ledger.Query) ([]ledger.Crash, error) {
		mu.Lock()
		open := l
		mu.Unlock()
		if open == nil {
			return nil, errors.New("the crash ledger is not open: see /readyz")
		}
		return open.History(ctx, q)
	}
	ln, err := net.Listen("tcp", o.Listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: Handler(m, h, history), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	fmt.Fprintf(o.Log, "crashlens monitor: serving /metrics, /healthz, /readyz and /api/v1/history on %s\n", ln.Addr())

	if o.LedgerPath == "" {
		h.LedgerOpen(nil)
	} else {
		unlock, err := lockLedger(ctx, o.LedgerPath, h, o.Log)
		if err != nil {
			return nil // ctx ended while waiting
		}
		defer unlock()
		opened, err := ledger.Open(ctx, o.LedgerPath, o.Ledger)
		h.LedgerOpen(err)
		if err != nil {
			fmt.Fprintf(o.Log, "crashlens monitor: crash ledger off: %s\n", sanitize.Line(err.Error()))
		} else {
			mu.Lock()
			l = opened
			mu.Unlock()
			m.SetLedgerSize(opened.Size)
		}
	}
	hooks, recording := m.Hooks(), l != nil
	counted := hooks.Captured
	hooks.Captured = func(row ledger.Crash, latency time.Duration, writeErr error) {
		counted(row, latency, writeErr)
		if recording {
			h.Written(writeErr)
		}
	}
	capture.Start(ctx, fleet, capture.Options{Ledger: l, Warn: o.Log, Hooks: hooks})
	for b := range fleet.Batches() {
		m.Observe(b)
	}
	return nil
}

// lockLedger takes the ledger's lock file (an flock beside it): a second
// recorder started by mistake on the same volume waits, unready and saying
// why, instead of writing beside the first. The lock goes with the
// process, so a killed recorder never leaves it held.
func lockLedger(ctx context.Context, path string, h *Health, log io.Writer) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return func() {}, nil // Open will say why
	}
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return func() {}, nil // a read-only volume: Open says why, and nothing is written
	}
	said := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			h.Waiting("")
			return func() { f.Close() }, nil
		}
		if !said {
			why := "another recorder holds the crash ledger " + path + " (is a second replica running?); waiting for it"
			h.Waiting(why)
			fmt.Fprintf(log, "crashlens monitor: %s\n", why)
			said = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(lockRetry):
		}
	}
}
