package monitor

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/kube/capture"
	"github.com/crashlens/crashlens/ledger"
)

// Label sets, in one place. Every label's values are bounded by the
// cluster's workloads, not by its pods: no pod name, no exit message. A
// bare pod's owner_name is empty for that reason (its owner is itself).
var (
	terminationLabels = []string{"namespace", "owner_kind", "owner_name", "container", "killer", "finding", "category"}
	loopingLabels     = []string{"namespace", "owner_kind", "owner_name", "container", "reason", "finding"}
	clusterLabels     = []string{"cluster"}
)

// Metrics are the recorder's Prometheus metrics, on a registry of their
// own (with the process and Go collectors).
type Metrics struct {
	Registry     *prometheus.Registry
	terminations *prometheus.CounterVec
	dropped      prometheus.Counter
	latency      prometheus.Histogram
	writeErrors  prometheus.Counter

	mu       sync.Mutex
	view     *crash.View
	lastSync map[string]time.Time                 // cluster -> last batch that said synced
	findings map[workloadKey]string               // the last capture's finding of each workload's container
	ledger   func(context.Context) (int64, error) // the ledger's size; nil without one
}

// workloadKey names one container of one workload.
type workloadKey struct{ namespace, kind, name, container string }

// NewMetrics registers the recorder's metrics.
func NewMetrics() *Metrics {
	m := &Metrics{Registry: prometheus.NewRegistry(), view: crash.NewView(), lastSync: map[string]time.Time{},
		findings: map[workloadKey]string{}}
	m.terminations = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "crashlens_container_terminations_total",
		Help: "Container terminations the recorder captured, by workload, container and why: the killer (oom-killer, liveness-probe, application, outside-sigkill, ...), the rulebook's top finding and its category."},
		terminationLabels)
	m.dropped = prometheus.NewCounter(prometheus.CounterOpts{Name: "crashlens_captures_dropped_total",
		Help: "Terminations not captured because the capture queue was full (their status is still counted in the ledger's next capture of the instance, if any)."})
	m.latency = prometheus.NewHistogram(prometheus.HistogramOpts{Name: "crashlens_capture_latency_seconds",
		Help:    "Time from a container's termination to the end of its capture (log tail, events, diagnosis, ledger write).",
		Buckets: []float64{1, 2, 3, 5, 10, 20, 30, 60, 120, 300}})
	m.writeErrors = prometheus.NewCounter(prometheus.CounterOpts{Name: "crashlens_ledger_write_errors_total",
		Help: "Captures the ledger could not write (a full or read-only volume, a broken file)."})
	m.Registry.MustRegister(m.terminations, m.dropped, m.latency, m.writeErrors, viewCollector{m},
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), collectors.NewGoCollector())
	return m
}

// SetLedgerSize sets what reports the ledger's bytes at scrape time, once
// it is open.
func (m *Metrics) SetLedgerSize(size func(context.Context) (int64, error)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ledger = size
}

// Hooks are the capture's hooks that count into the metrics.
func (m *Metrics) Hooks() capture.Hooks {
	return capture.Hooks{
		Captured: func(row ledger.Crash, latency time.Duration, writeErr error) {
			kind, name := ownerLabels(row.Workload)
			m.terminations.WithLabelValues(row.Namespace, kind, name, row.Container, row.Killer, row.TopFinding, row.Category).Inc()
			m.latency.Observe(latency.Seconds())
			if writeErr != nil {
				m.writeErrors.Inc()
			}
			m.mu.Lock()
			m.findings[workloadKey{row.Namespace, kind, name, row.Container}] = row.TopFinding
			m.mu.Unlock()
		},
		Dropped: m.dropped.Inc,
	}
}

// Observe folds a batch into the view the gauges are read from.
func (m *Metrics) Observe(b crash.Batch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.view.Apply(b)
	if b.State.Phase == crash.PhaseSynced {
		m.lastSync[b.Cluster] = b.At
	}
}

// Synced says whether every cluster has synced once (for /readyz).
func (m *Metrics) Synced() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.lastSync) > 0 && len(m.lastSync) == len(m.view.Clusters)
}

// ownerLabels splits "Deployment/api" into kind and name; a bare pod's
// name is dropped (see the label sets).
func ownerLabels(workload string) (kind, name string) {
	kind, name, _ = strings.Cut(workload, "/")
	if kind == "Pod" {
		name = ""
	}
	return kind, name
}

var (
	loopingDesc = prometheus.NewDesc("crashlens_crashlooping_containers",
		"Containers failing now (crash-looping, or stuck failing to start), by workload, container, the kubelet's reason and the last capture's top finding.",
		loopingLabels, nil)
	watchedDesc  = prometheus.NewDesc("crashlens_watched_pods", "Pods the recorder's watcher holds (not finished).", clusterLabels, nil)
	stateDesc    = prometheus.NewDesc("crashlens_watch_state", "The watcher's connection phase: 1 for the current one (synced, relisting, reconnecting, forbidden, unauthorized, syncing).", []string{"cluster", "phase"}, nil)
	lastSyncDesc = prometheus.NewDesc("crashlens_watch_last_sync_timestamp_seconds", "When the watcher last said it was synced with the API server.", clusterLabels, nil)
	ledgerDesc   = prometheus.NewDesc("crashlens_ledger_size_bytes", "Bytes the crash ledger's live pages take.", nil, nil)
)

// viewCollector reads the gauges off the view at scrape time: no series
// outlives the group or cluster it describes.
type viewCollector struct{ m *Metrics }

func (c viewCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{loopingDesc, watchedDesc, stateDesc, lastSyncDesc, ledgerDesc} {
		ch <- d
	}
}

func (c viewCollector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	m.mu.Lock()
	counts := map[[6]string]int{}
	for _, g := range m.view.Groups() {
		kind, name := ownerLabels(g.Owner)
		finding := m.findings[workloadKey{g.Namespace, kind, name, g.Container}]
		counts[[6]string{g.Namespace, kind, name, g.Container, g.Reason, finding}] += len(g.Pods)
	}
	for cluster, s := range m.view.Clusters {
		ch <- prometheus.MustNewConstMetric(watchedDesc, prometheus.GaugeValue, float64(s.Watched), cluster)
		ch <- prometheus.MustNewConstMetric(stateDesc, prometheus.GaugeValue, 1, cluster, s.State.Phase)
		if t, ok := m.lastSync[cluster]; ok {
			ch <- prometheus.MustNewConstMetric(lastSyncDesc, prometheus.GaugeValue, float64(t.UnixMilli())/1000, cluster)
		}
	}
	size := m.ledger
	m.mu.Unlock()
	for l, n := range counts {
		ch <- prometheus.MustNewConstMetric(loopingDesc, prometheus.GaugeValue, float64(n), l[:]...)
	}
	if size != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if b, err := size(ctx); err == nil {
			ch <- prometheus.MustNewConstMetric(ledgerDesc, prometheus.GaugeValue, float64(b))
		}
	}
}
