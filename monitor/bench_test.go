package monitor

// The recorder's HTTP surface at the sizes of issue #28's "Scale and
// cost": the history API on a ledger of 1,000,000 crashes, and a /metrics
// scrape of a 50,000-pod cluster with 1% of its pods crash-looping. Both go
// through Handler on a real loopback server, so routing, the query, the
// encoding (JSON, or Prometheus's text with gzip) and HTTP are all counted.
// The figures are in BENCHMARKS.md.

import (
	"bytes"
	"compress/gzip"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube/clusters"
	"github.com/crashlens/crashlens/ledger"
)

// The shape of the benchmarks' cluster and ledger, in one place.
const (
	// benchLedgerRowsEnv overrides the ledger's size (default
	// defaultBenchLedgerRows): a quick run at 100,000 rows seeds in
	// seconds.
	benchLedgerRowsEnv     = "CRASHLENS_BENCH_LEDGER_ROWS"
	defaultBenchLedgerRows = 1_000_000
	// benchSeedVersion is part of the cached ledger's file name: bump it
	// when seedBenchLedger writes different rows, so no run measures a
	// file an older seeding wrote.
	benchSeedVersion = 1
	// benchWorkloads crash in the ledger, spread over benchNamespaces
	// (20 a namespace).
	benchWorkloads  = 1000
	benchNamespaces = 50
	// benchTailShare: one row in benchTailShare carries a 1-4 KiB log
	// tail; the rest have none (captured after the log was gone, or
	// while logs were forbidden). All 1,000,000 with 4 KiB tails would be
	// a 4 GB file, 20 times the ledger's default cap.
	benchTailShare = 10
	// benchSpan is the time the ledger's rows cover: the default
	// retention.
	benchSpan = ledger.DefaultMaxAge

	// historyPageLimit is the page the History pane asks the recorder
	// for (the goal's "last 100 crashes").
	historyPageLimit = 100
	// historyRequestsPerOp and scrapesPerOp make one benchmark op a round
	// of requests, so even a short run (-benchtime 20x) has enough
	// samples for its p99.
	historyRequestsPerOp = 100
	scrapesPerOp         = 10

	// The /metrics benchmark's cluster: scrapePods pods, one in 100
	// crash-looping, each a crash group of its own (as the scale
	// benchmark's pods are); scrapeResolvedWorkloads more workloads crashed
	// earlier in the recorder's life and recovered, and still have their
	// terminations counter.
	scrapePods              = 50_000
	scrapeCrashingPods      = scrapePods / 100
	scrapeResolvedWorkloads = 1000
)

// benchT0 is when the benchmark ledger's newest crash ended.
var benchT0 = time.Date(2026, 12, 1, 2, 10, 0, 0, time.UTC)

// benchNamespaceNames are benchNamespaces realistic namespaces: ten teams
// in five environments.
var benchNamespaceNames = func() []string {
	var names []string
	for _, team := range []string{"shop", "payments", "search", "identity", "media", "catalog", "billing", "ingest", "notify", "platform"} {
		for _, env := range []string{"prod", "staging", "dev", "canary", "perf"} {
			names = append(names, team+"-"+env)
		}
	}
	return names
}()

// benchWorkload is workload w of the benchmarks' cluster: its namespace,
// its owner as the ledger and the metrics name it (Kind/name), and how many
// replicas it runs. Most are Deployments; a bare pod's owner is itself.
func benchWorkload(w int) (namespace, owner string, replicas int) {
	roles := []string{"api", "worker", "web", "gateway", "indexer", "consumer", "scheduler", "cache", "auth", "export"}
	name := fmt.Sprintf("%s-%04d", roles[w%len(roles)], w)
	namespace = benchNamespaceNames[w%len(benchNamespaceNames)]
	switch w % 20 {
	case 14, 15, 16:
		return namespace, "StatefulSet/" + name, 3
	case 17:
		return namespace, "DaemonSet/" + name, 5
	case 18:
		return namespace, "CronJob/" + name, 1
	case 19:
		return namespace, "Pod/" + name, 1
	}
	return namespace, "Deployment/" + name, 1 + w%5
}

// benchFailure is one way a container fails, as the capture records it.
type benchFailure struct {
	exitCode                              int32
	signal, reason                        string
	killer, finding, category, cause      string
	firstError, lastLogLine, eventsFolded string
}

// benchFailures are the ledger's and the metrics' failure modes, the
// common ones first.
var benchFailures = []benchFailure{
	{137, "SIGKILL", "OOMKilled", diagnose.KillerOOM, diagnose.FindingOOMKilled, diagnose.CategoryResources, "OOM-killed at its 256Mi limit",
		"", "INFO cache warmed entries=1843211 heap=251Mi", "Warning BackOff: Back-off restarting failed container\nNormal Pulled: Container image already present on machine"},
	{2, "", "Error", diagnose.KillerApplication, "go-panic", diagnose.CategoryApplication, "Go panic: nil map",
		"panic: assignment to entry in nil map", "panic: assignment to entry in nil map", "Warning BackOff: Back-off restarting failed container"},
	{143, "SIGTERM", "Error", diagnose.KillerLiveness, diagnose.FindingLivenessKill, diagnose.CategoryConfiguration, "liveness kill",
		"", "INFO GC pause 1.8s", "Warning Unhealthy: Liveness probe failed: Get \"http://10.0.3.7:8080/healthz\": context deadline exceeded\nNormal Killing: Container app failed liveness probe, will be restarted"},
	{1, "", "Error", diagnose.KillerApplication, diagnose.FindingDependencyUnreachable, diagnose.CategoryEnvironment, "postgres unreachable",
		"dial tcp 10.96.14.2:5432: connect: connection refused", "FATAL dial tcp 10.96.14.2:5432: connect: connection refused", "Warning BackOff: Back-off restarting failed container"},
	{1, "", "Error", diagnose.KillerApplication, diagnose.FindingConfigError, diagnose.CategoryConfiguration, "invalid config",
		"config: yaml: line 14: did not find expected key", "ERROR config: yaml: line 14: did not find expected key", "Warning BackOff: Back-off restarting failed container"},
	{1, "", "Error", diagnose.KillerApplication, "java-exception", diagnose.CategoryApplication, "Java exception",
		"Exception in thread \"main\" java.lang.IllegalStateException: no broker", "Exception in thread \"main\" java.lang.IllegalStateException: no broker", "Warning BackOff: Back-off restarting failed container"},
	{137, "SIGKILL", "Error", diagnose.KillerOutside, diagnose.FindingExternalKill, diagnose.CategoryEnvironment, "SIGKILL from outside",
		"", "INFO request served in 12ms path=/api/v1/orders", "Normal Killing: Stopping container app"},
}

// benchLogTails are log tails of 1 to 4 KiB, each ending at a line start
// with its failure's last line (as ledger.TailOf cuts a capture's log).
var benchLogTails = func() [][]string {
	lines := []string{
		"2026-12-01T02:09:58.114Z INFO request served in 12ms method=GET path=/api/v1/orders status=200 bytes=1832",
		"2026-12-01T02:09:58.402Z INFO request served in 48ms method=POST path=/api/v1/orders status=201 bytes=211",
		"2026-12-01T02:09:58.911Z WARN slow query took 812ms table=order_items rows=14021",
		"2026-12-01T02:09:59.003Z INFO cache miss key=customer:88213 refilled in 3ms",
		"2026-12-01T02:09:59.640Z DEBUG pool stats open=24 idle=3 waiting=11",
	}
	var all []byte
	for i := 0; len(all) < 8<<10; i++ {
		all = append(all, lines[i%len(lines)]...)
		all = append(all, '\n')
	}
	tails := make([][]string, len(benchFailures))
	for f, failure := range benchFailures {
		for size := 1 << 10; size <= 4<<10; size += 256 {
			body := string(all[len(all)-size:])
			body = body[strings.IndexByte(body, '\n')+1:]
			tails[f] = append(tails[f], body+"2026-12-01T02:10:00.001Z "+failure.lastLogLine+"\n")
		}
	}
	return tails
}()

// benchLedgerRows is the history benchmark's ledger size.
func benchLedgerRows(b *testing.B) int {
	s := os.Getenv(benchLedgerRowsEnv)
	if s == "" {
		return defaultBenchLedgerRows
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < benchWorkloads {
		b.Fatalf("%s=%q: want a number of rows, at least %d", benchLedgerRowsEnv, s, benchWorkloads)
	}
	return n
}

// benchLedger is the path of a ledger of rows crashes: seeded once, then
// cached in the temporary directory under a name that holds the row count,
// the schema version and benchSeedVersion, so the next run (and the
// benchmark's own second call, with the real b.N) skips the minutes of
// seeding.
func benchLedger(b *testing.B, rows int) string {
	b.Helper()
	path := filepath.Join(os.TempDir(), fmt.Sprintf("crashlens-bench-history-%d-rows-schema-%d-seed-%d.db", rows, ledger.SchemaVersion, benchSeedVersion))
	if _, err := os.Stat(path); err == nil {
		return path
	} else if !errors.Is(err, fs.ErrNotExist) {
		b.Fatal(err)
	}
	// Seeded beside it and renamed when complete: an interrupted run
	// leaves no half-seeded file under the cached name.
	seeding := path + ".seeding"
	for _, suffix := range []string{"", "-wal", "-shm", "-journal"} {
		_ = os.Remove(seeding + suffix)
	}
	start := time.Now()
	seedBenchLedger(b, seeding, rows)
	if err := os.Rename(seeding, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d rows in %s into %s", rows, time.Since(start).Round(time.Second), path)
	return path
}

// seedBenchLedger writes rows crashes into a new ledger at path: ledger.Open
// makes the file and its schema, then the rows go in in one transaction
// through database/sql with the same INSERT as Ledger.Record: Record
// commits each row, 0.17-0.21 ms apiece on the benchmark machine, so 3 to
// 4 minutes for 1,000,000 rows against about 35 s in one transaction.
// There is no journal while seeding (the file is renamed into place only
// when complete); the file is in WAL mode after, as every ledger is.
//
// The rows: benchWorkloads workloads in benchNamespaces namespaces, their
// share of the crashes skewed (Zipf: a few crash-loop for days, most crash
// now and then), each workload's pods replaced every 50 restarts, evenly
// over benchSpan, newest benchT0. One in benchTailShare carries a 1-4 KiB
// log tail. All share one context, as an in-cluster recorder's ledger does.
func seedBenchLedger(b *testing.B, path string, rows int) {
	b.Helper()
	ctx := context.Background()
	l, err := ledger.Open(ctx, path, ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(OFF)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the pragmas are the connection's
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO crashes (cluster_server, context, namespace, workload, pod, pod_uid, container, restart,
		started_at, finished_at, run_seconds, exit_code, signal, reason, message, killer, top_finding, cause, first_error, events, log_tail, log_note, observed_at, category)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	popularity := rand.NewZipf(rand.New(rand.NewPCG(28, 5)), 1.1, 20, benchWorkloads-1)
	crashesOf := make([]int, benchWorkloads) // rows written so far, by workload
	step := benchSpan / time.Duration(rows)
	for i := range rows {
		// Ranks are spread over the workloads so the hot ones are in
		// different namespaces.
		w := int(popularity.Uint64()*7919) % benchWorkloads
		n := crashesOf[w]
		crashesOf[w]++
		namespace, owner, replicas := benchWorkload(w)
		replica, generation := n%replicas, n/(replicas*50)
		restart := int32(n / replicas % 50)
		kind, name, _ := strings.Cut(owner, "/")
		pod := name
		if kind != "Pod" {
			pod = fmt.Sprintf("%s-%08x-%05x", name, generation*7919+w, replica)
		}
		uid := fmt.Sprintf("%08x-%04x-4000-8000-%012x", w, replica, generation)
		container := "app"
		if w%4 == 0 && n%10 == 9 {
			container = "proxy"
		}
		failure := (w*31 + n/500) % len(benchFailures)
		f := benchFailures[failure]
		finished := benchT0.Add(-time.Duration(rows-1-i) * step)
		run := time.Duration(30+i%600) * time.Second
		var tail, note string
		if i%benchTailShare == 0 {
			tails := benchLogTails[failure]
			tail = tails[i/benchTailShare%len(tails)]
		} else if i%3 == 0 {
			note = "the previous log was gone before the capture (the container restarted again)"
		}
		message := ""
		if f.reason == "Error" && f.firstError != "" {
			message = f.firstError
		}
		if _, err := stmt.ExecContext(ctx, "https://10.96.0.1:443", clusters.InClusterContext, namespace, owner, pod, uid, container, restart,
			finished.Add(-run).UnixMilli(), finished.UnixMilli(), run.Seconds(), f.exitCode, f.signal, f.reason, message, f.killer, f.finding,
			f.cause, f.firstError, f.eventsFolded, tail, note, finished.Add(2500*time.Millisecond).UnixMilli(), f.category); err != nil {
			b.Fatalf("row %d: %v", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
		b.Fatal(err)
	}
	slices.Sort(crashesOf)
	b.Logf("crashes per workload: fewest %d, median %d, most %d; %d of %d workloads have at least %d",
		crashesOf[0], crashesOf[len(crashesOf)/2], crashesOf[len(crashesOf)-1],
		len(crashesOf)-sortedIndexAtLeast(crashesOf, historyPageLimit), benchWorkloads, historyPageLimit)
}

// sortedIndexAtLeast is the index of the first of sorted that is at least n.
func sortedIndexAtLeast(sorted []int, n int) int {
	i, _ := slices.BinarySearch(sorted, n)
	return i
}

// BenchmarkHistoryAPI: GET /api/v1/history for one workload's newest 100
// crashes (namespace, workload and limit; the History pane and explain,
// which ask the recorder through the apiserver's service proxy, also name
// the container, and neither names the context) on a ledger of
// 1,000,000 crashes (CRASHLENS_BENCH_LEDGER_ROWS), timed from the request
// to the response's last byte on a loopback server. Each op is
// historyRequestsPerOp requests, the workloads taken in turn so the hot
// and the rare are both asked; p50-ms and p99-ms are per request.
func BenchmarkHistoryAPI(b *testing.B) {
	rows := benchLedgerRows(b)
	path := benchLedger(b, rows)
	ctx := context.Background()
	l, err := ledger.Open(ctx, path, ledger.Options{MaxAge: 100 * 365 * 24 * time.Hour, MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	m := NewMetrics()
	srv := httptest.NewServer(Handler(m, NewHealth(m.Synced), l.History))
	defer srv.Close()
	client := srv.Client()
	latencies := make([]time.Duration, 0, b.N*historyRequestsPerOp)
	var bodyBytes, rowsReturned int
	b.ResetTimer()
	for op := range b.N {
		for j := range historyRequestsPerOp {
			// 7 is prime to benchWorkloads' factors: every workload
			// comes up once in benchWorkloads requests.
			namespace, owner, _ := benchWorkload((op*historyRequestsPerOp + j) * 7 % benchWorkloads)
			target := srv.URL + "/api/v1/history?" + url.Values{"namespace": {namespace}, "workload": {owner}, "limit": {strconv.Itoa(historyPageLimit)}}.Encode()
			start := time.Now()
			resp, err := client.Get(target)
			if err != nil {
				b.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			latencies = append(latencies, time.Since(start))
			if err != nil || resp.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d %v: %.300s", target, resp.StatusCode, err, body)
			}
			bodyBytes += len(body)
			rowsReturned += bytes.Count(body, []byte(`"podUID"`))
		}
	}
	b.StopTimer()
	requests := float64(len(latencies))
	b.ReportMetric(percentileMillis(latencies, 0.50), "p50-ms")
	b.ReportMetric(percentileMillis(latencies, 0.99), "p99-ms")
	b.ReportMetric(float64(bodyBytes)/requests/1024, "KiB/response")
	b.ReportMetric(float64(rowsReturned)/requests, "rows/response")
}

// percentileMillis is the p-th quantile of ds (nearest rank), in
// milliseconds. It sorts ds.
func percentileMillis(ds []time.Duration, p float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(float64(len(ds))*p+0.999999) - 1
	return float64(ds[max(i, 0)]) / float64(time.Millisecond)
}

// prometheusAccept is what a Prometheus server's scrape asks for
// (Prometheus 2.x's scrape_protocols default); the handler has OpenMetrics
// off, so it answers the text format either way.
const prometheusAccept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

// BenchmarkMetricsScrape: a full /metrics scrape of the recorder watching
// 50,000 pods of which 1% crash-loop (scrapeMetrics), timed from the
// request to the response's last byte on a loopback server, the process
// and Go collectors and the ledger's size included as the real server has
// them. As Prometheus scrapes (its Accept header, gzip) and as curl does
// (no compression). Each op is scrapesPerOp scrapes; p50-ms and p99-ms
// are per scrape, wire-bytes what went over the connection and
// text-bytes the exposition uncompressed.
func BenchmarkMetricsScrape(b *testing.B) {
	m, series := scrapeMetrics(b)
	b.Logf("%d crash groups of %d pods watched; %d terminations series", scrapeCrashingPods, scrapePods, series)
	srv := httptest.NewServer(Handler(m, NewHealth(m.Synced), nil))
	defer srv.Close()
	for _, tc := range []struct{ name, accept, encoding string }{
		{"prometheus", prometheusAccept, "gzip"},
		{"plain", "", "identity"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			client := srv.Client()
			latencies := make([]time.Duration, 0, b.N*scrapesPerOp)
			var last []byte
			var contentType, contentEncoding string
			b.ResetTimer()
			for range b.N * scrapesPerOp {
				req, err := http.NewRequest(http.MethodGet, srv.URL+"/metrics", nil)
				if err != nil {
					b.Fatal(err)
				}
				if tc.accept != "" {
					req.Header.Set("Accept", tc.accept)
				}
				// Set, so the client hands over the bytes as they came
				// and does not decompress them inside the timing.
				req.Header.Set("Accept-Encoding", tc.encoding)
				start := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				last, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				latencies = append(latencies, time.Since(start))
				if err != nil || resp.StatusCode != http.StatusOK {
					b.Fatalf("/metrics: %d %v", resp.StatusCode, err)
				}
				contentType, contentEncoding = resp.Header.Get("Content-Type"), resp.Header.Get("Content-Encoding")
			}
			b.StopTimer()
			text := last
			if contentEncoding == "gzip" {
				zr, err := gzip.NewReader(bytes.NewReader(last))
				if err != nil {
					b.Fatal(err)
				}
				if text, err = io.ReadAll(zr); err != nil {
					b.Fatal(err)
				}
			}
			if !bytes.Contains(text, []byte("crashlens_crashlooping_containers{")) || !bytes.Contains(text, []byte("process_resident_memory_bytes")) ||
				!bytes.Contains(text, []byte("go_goroutines")) || !bytes.Contains(text, []byte("crashlens_ledger_size_bytes")) {
				b.Fatalf("the scrape lacks a family:\n%.2000s", text)
			}
			b.Logf("%s: Content-Type %q, Content-Encoding %q, %d lines", tc.name, contentType, contentEncoding, bytes.Count(text, []byte("\n")))
			b.ReportMetric(percentileMillis(latencies, 0.50), "p50-ms")
			b.ReportMetric(percentileMillis(latencies, 0.99), "p99-ms")
			b.ReportMetric(float64(len(last)), "wire-bytes")
			b.ReportMetric(float64(len(text)), "text-bytes")
		})
	}
}

// scrapeMetrics is the recorder's metrics after it synced with a cluster
// of scrapePods pods of which scrapeCrashingPods crash-loop, one crash
// group each (as the watcher would deliver them), the crashes captured:
// the crash-looping gauge has a series per group, the terminations counter
// a series per (workload, container, killer, finding) that terminated, one
// in five of the crashing workloads with a second cause, plus
// scrapeResolvedWorkloads workloads that crashed earlier and recovered
// (the counter keeps their series for the process's life). Workloads that
// cannot start (image pulls, missing config) are never captured, so their
// gauge has no finding. It returns the metrics and how many terminations
// series they hold.
func scrapeMetrics(b *testing.B) (*Metrics, int) {
	b.Helper()
	m := NewMetrics()
	l, err := ledger.Open(context.Background(), filepath.Join(b.TempDir(), "ledger.db"), ledger.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	m.SetLedgerSize(l.Size)
	hooks := m.Hooks()
	at := benchT0
	series := map[[4]string]bool{}
	capture := func(namespace, owner, container string, f benchFailure, times int) {
		for range times {
			hooks.Captured(ledger.Crash{Namespace: namespace, Workload: owner, Container: container, Killer: f.killer,
				TopFinding: f.finding, Category: f.category}, time.Duration(2+times%5)*time.Second, nil)
		}
		series[[4]string{namespace, owner, container, f.finding}] = true
	}
	// The crash-looping pods' reasons, the common ones first: most
	// terminate (and are captured), a few never start.
	type stuck struct{ reason, state string }
	notStarting := []stuck{{"ImagePullBackOff", "ImagePullBackOff"}, {"CreateContainerConfigError", "CreateContainerConfigError"}}
	var groups []crash.Group
	for i := range scrapeCrashingPods {
		// The cluster's 50,000 pods are about 10,000 workloads'
		// (benchWorkload's replicas average 3 to 5); the crashing ones
		// are spread over them, every kind and namespace.
		w := i*20 + i%20
		namespace, owner, _ := benchWorkload(w)
		container := "app"
		if i%7 == 3 {
			container = "proxy"
		}
		kind, name, _ := strings.Cut(owner, "/")
		podName := name
		if kind != "Pod" {
			podName = fmt.Sprintf("%s-7d9f8c6b5-%05x", name, i)
		}
		p := diagnose.CrashPod{Namespace: namespace, Name: podName, UID: fmt.Sprintf("%08x-0000-4000-8000-%012x", w, i), Node: fmt.Sprintf("node-%03d", i%120),
			Owner: owner, Container: container, Restarts: int32(3 + i%40), LastStart: at.Add(-90 * time.Second), LastFinish: at.Add(-30 * time.Second),
			NextRestart: at.Add(2 * time.Minute)}
		if i%10 == 9 {
			s := notStarting[i/10%len(notStarting)]
			p.Reason, p.State, p.ExitCode, p.Restarts, p.LastFinish, p.NextRestart = s.reason, s.state, -1, 0, time.Time{}, time.Time{}
		} else {
			f := benchFailures[i%len(benchFailures)]
			p.Reason, p.State, p.ExitCode, p.Signal, p.Cause = f.reason, "CrashLoopBackOff", f.exitCode, f.signal, f.cause
			if i%5 == 0 { // it failed another way before
				capture(namespace, owner, container, benchFailures[(i+3)%len(benchFailures)], 4)
			}
			capture(namespace, owner, container, f, int(p.Restarts))
		}
		groups = append(groups, crash.NewGroup([]diagnose.CrashPod{p}))
	}
	for i := range scrapeResolvedWorkloads {
		namespace, owner, _ := benchWorkload(i*10 + 5)
		capture(namespace, owner, "app", benchFailures[i%len(benchFailures)], 1+i%6)
	}
	for range 12 {
		hooks.Dropped()
	}
	m.Observe(crash.TagBatch(clusters.InClusterContext, crash.Batch{Upserted: groups, Watched: scrapePods, Crashing: scrapeCrashingPods,
		State: crash.ConnState{Phase: crash.PhaseSynced}, At: at}))
	if !m.Synced() {
		b.Fatal("the metrics' only cluster synced, but Synced says no")
	}
	return m, len(series)
}
