package ledger

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seed writes n crashes of 100 workloads in one transaction, each with a
// 256-byte log tail (the query reads the index and the 200 rows it returns).
func seed(b *testing.B, l *Ledger, n int) {
	b.Helper()
	ctx := context.Background()
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO crashes (cluster_server, context, namespace, workload, pod, pod_uid, container, restart,
		started_at, finished_at, run_seconds, exit_code, log_tail, observed_at) VALUES ('s', 'test', 'shop', ?, ?, ?, 'app', ?, ?, ?, 30, 137, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	tail := strings.Repeat("2026-12-01T02:10:00Z INFO request served in 12ms path=/api/v1/orders\n", 4)[:256]
	for i := range n {
		w := "Deployment/api-" + strconv.Itoa(i%100)
		at := t0.Add(time.Duration(i) * time.Second).UnixMilli()
		if _, err := stmt.ExecContext(ctx, w, "pod-"+strconv.Itoa(i%1000), "uid-"+strconv.Itoa(i%1000), i, at-30000, at, tail, at); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRecord: one crash written (with its 4 KiB log tail), and the
// ledger's size per 10,000 crashes.
func BenchmarkRecord(b *testing.B) {
	l, err := Open(context.Background(), filepath.Join(b.TempDir(), "ledger.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	tail := strings.Repeat("2026-12-01T02:10:00Z INFO request served in 12ms path=/api/v1/orders\n", 60)[:4096]
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := crash("api-"+strconv.Itoa(i%1000), int32(i), t0.Add(time.Duration(i)*time.Second))
		c.LogTail = tail
		if _, err := l.Record(ctx, c); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if size, err := l.Size(ctx); err == nil && b.N >= 1000 {
		b.ReportMetric(float64(size)/float64(b.N)*10000/(1<<20), "MiB/10k-crashes")
	}
}

// BenchmarkHistory: the History pane's query (one workload and container,
// newest first) on a ledger of 1,000,000 crashes.
func BenchmarkHistory(b *testing.B) {
	l, err := Open(context.Background(), filepath.Join(b.TempDir(), "ledger.db"), Options{MaxBytes: 1 << 40})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	seed(b, l, 1_000_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rows, err := l.History(ctx, Query{Context: "test", Namespace: "shop", Workload: "Deployment/api-" + strconv.Itoa(i%100), Container: "app", Limit: 200})
		if err != nil || len(rows) != 200 {
			b.Fatalf("%d rows, %v", len(rows), err)
		}
	}
}
