package clustertest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The in-cluster recorder (`crashlens monitor`) run from outside the
// cluster as the real binary, for the benchmarks that measure it: its
// ledger in a temporary directory, its port on loopback.

// monitorScrapes is how many times RunMonitor scrapes /metrics once the
// recorder idled: one scrape is at the mercy of the shared machine, and
// the slowest of a few says what Prometheus could see.
const monitorScrapes = 5

// prometheusAccept is what a Prometheus server's scrape asks for (its
// default scrape protocols); it also asks for gzip, as Go's client does.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// Monitor is a running recorder: StartMonitor returns it ready, and the
// test's cleanup kills it.
type Monitor struct {
	Base   string        // http://127.0.0.1:PORT
	Pid    int           // the process, for its CPU and memory
	Ready  time.Duration // from its start until /readyz answered 200
	Stderr *Buffer       // what it printed
	client *http.Client
}

// StartMonitor starts `crashlens monitor` on the cluster of kubeconfig and
// waits, at most 10 minutes, until its /readyz answers 200: the ledger
// open and the first sync with the apiserver done.
func StartMonitor(tb testing.TB, bin, kubeconfig string) *Monitor {
	tb.Helper()
	addr := freeLoopbackAddr(tb)
	m := &Monitor{Base: "http://" + addr, Stderr: &Buffer{}, client: &http.Client{Timeout: 10 * time.Second}}
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig, "monitor", "--ledger", filepath.Join(tb.TempDir(), "ledger.db"), "--listen", addr)
	cmd.Stdout, cmd.Stderr = m.Stderr, m.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	m.Pid = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(10 * time.Minute); m.Ready == 0; time.Sleep(50 * time.Millisecond) {
		select {
		case err := <-exited:
			exited <- err // for the cleanup's wait
			tb.Fatalf("crashlens monitor ended before it was ready (%v):\n%s", err, m.Stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			tb.Fatalf("crashlens monitor never became ready:\n%s", m.Stderr.String())
		}
		if resp, err := m.client.Get(m.Base + "/readyz"); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				m.Ready = time.Since(start)
			}
		}
	}
	return m
}

// RunMonitor runs the recorder as RunTUIUnderPty runs the TUI: time until
// it was ready, 5 s more, its captures of what the sync found drained and
// the apiserver settled, the share of a core it used over the next 30 s,
// then monitorScrapes scrapes of /metrics (the fastest and the slowest, to
// the response's last byte) and its peak RSS (KiB, VmHWM) after all of it.
//
// Nothing waits for a capture: on a control-plane-only cluster no kubelet
// serves the crashing pods' logs, so each capture records its row without
// one. How many captures ran during the idle window is logged.
func RunMonitor(tb testing.TB, bin, kubeconfig string) (ready time.Duration, rssKiB int64, idleCPU float64, scrapeBest, scrapeWorst time.Duration) {
	tb.Helper()
	m := StartMonitor(tb, bin, kubeconfig)
	time.Sleep(5 * time.Second) // the sync's own work settles
	drained(tb, func() float64 { return m.Captures(tb) })
	Settle(tb) // and the apiserver's after the sync's LIST
	capturesBefore := m.Captures(tb)
	cpu0 := ProcCPU(tb, m.Pid)
	time.Sleep(30 * time.Second)
	idleCPU = (ProcCPU(tb, m.Pid) - cpu0).Seconds() / 30
	tb.Logf("crashlens monitor: ready in %s; %.0f captures (and drops) during the 30 s idle window, %.0f before it",
		m.Ready.Round(10*time.Millisecond), m.Captures(tb)-capturesBefore, capturesBefore)
	for range monitorScrapes {
		_, took := m.Scrape(tb)
		if scrapeBest == 0 || took < scrapeBest {
			scrapeBest = took
		}
		scrapeWorst = max(scrapeWorst, took)
	}
	return m.Ready, PeakRSS(tb, m.Pid) >> 10, idleCPU, scrapeBest, scrapeWorst
}

// Scrape reads /metrics as Prometheus does (its Accept header, gzip):
// every unlabelled series by name, and the time to the response's last
// byte.
func (m *Monitor) Scrape(tb testing.TB) (series map[string]float64, took time.Duration) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, m.Base+"/metrics", nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("Accept", prometheusAccept)
	start := time.Now()
	resp, err := m.client.Do(req) // Go's client asks for gzip and decompresses as it reads
	if err != nil {
		tb.Fatalf("scraping crashlens monitor: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	took = time.Since(start)
	if err != nil || resp.StatusCode != http.StatusOK {
		tb.Fatalf("scraping crashlens monitor: %d %v", resp.StatusCode, err)
	}
	series = map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if ok && !strings.HasPrefix(name, "#") && !strings.Contains(name, "{") {
			series[name], _ = strconv.ParseFloat(value, 64)
		}
	}
	return series, took
}

// Captures is how many terminations the recorder has captured or dropped
// so far (crashlens_capture_latency_seconds_count plus
// crashlens_captures_dropped_total).
func (m *Monitor) Captures(tb testing.TB) float64 {
	tb.Helper()
	s, _ := m.Scrape(tb)
	return s["crashlens_capture_latency_seconds_count"] + s["crashlens_captures_dropped_total"]
}

// History reads the history API with the given parameters (namespace,
// limit, ...): its items (a CrashHistory document's), as JSON objects.
func (m *Monitor) History(tb testing.TB, params url.Values) []map[string]any {
	tb.Helper()
	resp, err := m.client.Get(m.Base + "/api/v1/history?" + params.Encode())
	if err != nil {
		tb.Fatalf("reading the recorder's history: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		tb.Fatalf("reading the recorder's history: %s: %s", resp.Status, body)
	}
	var doc struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		tb.Fatalf("reading the recorder's history: %v", err)
	}
	return doc.Items
}

// freeLoopbackAddr is a 127.0.0.1 address whose port was free a moment
// ago, for a child process to listen on.
func freeLoopbackAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
