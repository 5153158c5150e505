package ledger

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var t0 = time.Date(2026, 12, 1, 2, 10, 0, 0, time.UTC)

func crash(pod string, restart int32, finished time.Time) Crash {
	return Crash{ClusterServer: "https://127.0.0.1:16443", Context: "test", Namespace: "shop", Workload: "Deployment/api",
		Pod: pod, PodUID: "uid-" + pod, Container: "app", Restart: restart, StartedAt: finished.Add(-30 * time.Second),
		FinishedAt: finished, RunSeconds: 30, ExitCode: 137, Signal: "SIGKILL", Reason: "Error", Killer: "grace-period-sigkill",
		TopFinding: "liveness-kill", LogTail: fmt.Sprintf("run %d\nbye\n", restart)}
}

func open(t testing.TB, path string, o Options) *Ledger {
	t.Helper()
	l, err := Open(context.Background(), path, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestRecordAndHistory: a row per instance, newest first, a termination
// seen twice (by the watcher's two states of it, or two processes) once;
// the file is 0600 in a 0700 directory and at the current schema version.
func TestRecordAndHistory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "crashlens")
	path := filepath.Join(dir, "ledger.db")
	l := open(t, path, Options{})
	ctx := context.Background()
	for i := int32(1); i <= 3; i++ {
		if fresh, err := l.Record(ctx, crash("api-1", i, t0.Add(time.Duration(i)*time.Minute))); err != nil || !fresh {
			t.Fatalf("record %d: %v %v", i, fresh, err)
		}
	}
	if fresh, err := l.Record(ctx, crash("api-1", 2, t0.Add(2*time.Minute))); err != nil || fresh {
		t.Errorf("the same instance again: new=%v err=%v", fresh, err)
	}
	if _, err := l.Record(ctx, crash("api-2", 1, t0.Add(90*time.Second))); err != nil {
		t.Fatal(err)
	}
	rows, err := l.History(ctx, Query{Workload: "Deployment/api", Container: "app"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, fmt.Sprintf("%s#%d", r.Pod, r.Restart))
	}
	if strings.Join(got, " ") != "api-1#3 api-1#2 api-2#1 api-1#1" {
		t.Errorf("history %v", got)
	}
	if rows[0].LogTail != "run 3\nbye\n" || rows[0].ExitCode != 137 || !rows[0].FinishedAt.Equal(t0.Add(3*time.Minute)) || rows[0].Killer != "grace-period-sigkill" {
		t.Errorf("row %+v", rows[0])
	}
	if rows, _ := l.History(ctx, Query{Pod: "api-2"}); len(rows) != 1 {
		t.Errorf("by pod: %d rows", len(rows))
	}
	if rows, _ := l.History(ctx, Query{Since: t0.Add(150 * time.Second)}); len(rows) != 1 {
		t.Errorf("since: %d rows", len(rows))
	}
	for p, want := range map[string]os.FileMode{path: 0o600, dir: 0o700} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v, want %v (%v)", p, st.Mode().Perm(), want, err)
		}
	}
	var v int
	if err := l.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != SchemaVersion {
		t.Errorf("schema version %d, want %d (%v)", v, SchemaVersion, err)
	}
	var mode string
	if err := l.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q (%v)", mode, err)
	}
}

// TestRetention: rows past the maximum age go as rows are written, and the
// oldest go when the file passes its maximum size.
func TestRetention(t *testing.T) {
	ctx := context.Background()
	l := open(t, filepath.Join(t.TempDir(), "ledger.db"), Options{MaxAge: 24 * time.Hour, MaxBytes: 256 << 10})
	now := t0
	l.now = func() time.Time { return now }
	if _, err := l.Record(ctx, crash("old", 1, t0.Add(-48*time.Hour))); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 1000) + "\n"
	for i := range 2000 {
		c := crash("api-"+strconv.Itoa(i), 1, t0.Add(time.Duration(i)*time.Second))
		c.LogTail = strings.Repeat(big, 8)
		now = t0.Add(time.Duration(i) * time.Minute) // every write may prune
		if _, err := l.Record(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if rows, _ := l.History(ctx, Query{Pod: "old"}); len(rows) != 0 {
		t.Error("a row past the maximum age is kept")
	}
	size, err := l.Size(ctx)
	if err != nil || size > 256<<10+64<<10 {
		t.Errorf("live size %d bytes over the 256 KiB bound (%v)", size, err)
	}
	rows, _ := l.History(ctx, Query{Limit: 1})
	if len(rows) != 1 || rows[0].Pod != "api-1999" {
		t.Errorf("the newest row is gone: %+v", rows)
	}
}

func TestTailOf(t *testing.T) {
	var b strings.Builder
	for i := range 500 {
		fmt.Fprintf(&b, "line %d\n", i)
	}
	tail := TailOf(b.String())
	lines := strings.Split(strings.TrimSuffix(tail, "\n"), "\n")
	if len(lines) != MaxLogLines || lines[0] != "line 300" || lines[len(lines)-1] != "line 499" {
		t.Errorf("%d lines, %q .. %q", len(lines), lines[0], lines[len(lines)-1])
	}
	huge := strings.Repeat("y", 3*MaxLogBytes) + "\nlast words\n"
	if got := TailOf(huge); got != "last words\n" {
		t.Errorf("a huge line: %q", got[:min(len(got), 40)])
	}
}

// TestBrokenFile: a file that is not a ledger is an error on open, never a
// panic; the caller runs on without history.
func TestBrokenFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	if err := os.WriteFile(path, []byte(strings.Repeat("not sqlite ", 1000)), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), path, Options{}); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("open of a corrupt file: %v", err)
	}
	ro := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(ro, 0o500); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		if _, err := Open(context.Background(), filepath.Join(ro, "ledger.db"), Options{}); err == nil {
			t.Error("open in a read-only directory succeeded")
		}
	}
}

// The child half of the process tests: write rows until killed or done.
func TestMain(m *testing.M) {
	if path := os.Getenv("LEDGER_WRITER"); path != "" {
		os.Exit(writer(path, os.Getenv("LEDGER_WRITER_ID"), os.Getenv("LEDGER_WRITER_N")))
	}
	os.Exit(m.Run())
}

func writer(path, id, count string) int {
	ctx := context.Background()
	l, err := Open(ctx, path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("open") // the parent kills a writer only once it writes
	n, _ := strconv.Atoi(count)
	for i := 0; n == 0 || i < n; i++ {
		// Both writers observe the same terminations (the same cluster):
		// each must land once.
		c := crash("api-"+strconv.Itoa(i%50), int32(i), t0.Add(time.Duration(i)*time.Second))
		c.LogTail = strings.Repeat("log line of writer "+id+"\n", 50)
		if _, err := l.Record(ctx, c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

func child(t *testing.T, path, id string, n int) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "LEDGER_WRITER="+path, "LEDGER_WRITER_ID="+id, "LEDGER_WRITER_N="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// TestConcurrentWriters: two processes record the same 2,000 terminations
// at once: every one lands exactly once and the file stays sound.
func TestConcurrentWriters(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	var wg sync.WaitGroup
	for _, id := range []string{"a", "b"} {
		cmd := child(t, path, id, 2000)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				t.Errorf("writer %s: %v", id, err)
			}
		}()
	}
	wg.Wait()
	l := open(t, path, Options{})
	var n, distinct int
	if err := l.db.QueryRow("SELECT count(*), count(DISTINCT pod_uid || '/' || restart) FROM crashes").Scan(&n, &distinct); err != nil {
		t.Fatal(err)
	}
	if n != 2000 || distinct != 2000 {
		t.Errorf("%d rows (%d distinct), want 2000", n, distinct)
	}
	if err := l.Check(context.Background()); err != nil {
		t.Error(err)
	}
}

// TestKilledWhileWriting: a writer killed with SIGKILL mid-write, 20 times
// over: the file passes the integrity check and no row is half written.
func TestKilledWhileWriting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	for i := range 20 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "LEDGER_WRITER="+path, "LEDGER_WRITER_ID=k", "LEDGER_WRITER_N=0")
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Past its open (a loaded machine may take long to get there),
		// then a few milliseconds into its writes: killed mid-write.
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "open\n" {
			t.Fatalf("writer %d did not open the ledger: %q %v", i, line, err)
		}
		time.Sleep(time.Duration(5+i*3) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}
	l := open(t, path, Options{})
	if err := l.Check(context.Background()); err != nil {
		t.Fatal(err)
	}
	rows, err := l.History(context.Background(), Query{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 {
		t.Fatal("no row written in 20 runs")
	}
	for _, r := range rows {
		if r.LogTail != strings.Repeat("log line of writer k\n", 50) || r.Killer == "" || r.FinishedAt.IsZero() {
			t.Fatalf("a half-written row: %+v", r)
		}
	}
}

// TestIsBusy: a write refused because another connection holds the lock is
// told apart by SQLite's code (what Open retries), other errors are not.
func TestIsBusy(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	l := open(t, path, Options{})
	ctx := context.Background()
	holder, err := l.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(ctx, "ROLLBACK")
	other, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, err = other.ExecContext(ctx, "BEGIN IMMEDIATE")
	if err == nil || !isBusy(err) || !isBusy(fmt.Errorf("migration 1: %w", err)) {
		t.Errorf("a locked write: %v, isBusy=%v", err, isBusy(err))
	}
	if isBusy(errors.New("database is locked (5) (SQLITE_BUSY)")) {
		t.Error("isBusy matched a message, not a code")
	}
}

// TestMigratesAnOlderFile: a file at schema version 1 (before the cause
// column) keeps its rows when a newer crashlens opens it, and takes the
// new column.
func TestMigratesAnOlderFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(migrations[0] + "; PRAGMA user_version = 1"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO crashes (cluster_server, context, namespace, workload, pod, pod_uid, container, restart, finished_at,
		run_seconds, exit_code, observed_at) VALUES ('s', 'test', 'shop', 'Deployment/api', 'api-1', 'uid-1', 'app', 3, ?, 30, 1, ?)`,
		t0.UnixMilli(), t0.UnixMilli()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l := open(t, path, Options{})
	c := crash("api-1", 4, t0.Add(time.Minute))
	c.Cause = "liveness kill"
	if _, err := l.Record(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	rows, err := l.History(context.Background(), Query{})
	if err != nil || len(rows) != 2 {
		t.Fatalf("%d rows after the migration, want 2 (%v)", len(rows), err)
	}
	if rows[0].Cause != "liveness kill" || rows[1].Cause != "" || rows[1].Restart != 3 {
		t.Errorf("rows after the migration: %+v", rows)
	}
}

// TestMerge: the same container instance from both ledgers is one row;
// the rest interleave newest first, within the limit.
func TestMerge(t *testing.T) {
	at := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	row := func(uid string, restart int32, min int, ctx string) Crash {
		return Crash{PodUID: uid, Container: "app", Restart: restart, FinishedAt: at.Add(time.Duration(min) * time.Minute), Context: ctx}
	}
	local := []Crash{row("u1", 3, 30, "local"), row("u1", 2, 20, "local")}
	remote := []Crash{row("u1", 3, 30, "recorder"), row("u1", 2, 20, "recorder"), row("u1", 1, 10, "recorder"), row("u0", 0, 5, "recorder")}
	got := Merge(local, remote, 0)
	var ids []string
	for _, r := range got {
		ids = append(ids, fmt.Sprintf("%s/%d@%s", r.PodUID, r.Restart, r.Context))
	}
	if want := "u1/3@local u1/2@local u1/1@recorder u0/0@recorder"; strings.Join(ids, " ") != want {
		t.Errorf("merged %v, want %s", ids, want)
	}
	if got := Merge(local, remote, 2); len(got) != 2 || got[0].Restart != 3 {
		t.Errorf("limit 2: %+v", got)
	}
	if got := Merge(nil, nil, 10); len(got) != 0 {
		t.Errorf("nothing merged: %+v", got)
	}
}

// TestHistoryUsesTheWorkloadIndex: every query the History pane, `history`
// and the recorder's API make is served by an index, with or without a
// context (the recorder is asked without one); a full scan of a ledger of a
// million rows took 0.7 s for a workload that rarely crashes.
func TestHistoryUsesTheWorkloadIndex(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, filepath.Join(t.TempDir(), "ledger.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, tc := range []struct {
		name string
		q    Query
	}{
		{"the History pane", Query{Context: "prod", Namespace: "shop", Workload: "Deployment/api", Container: "app", Limit: 200}},
		{"the recorder's API: no context", Query{Namespace: "shop", Workload: "Deployment/api", Limit: 100}},
		{"a namespace, no context", Query{Namespace: "shop", Limit: 100}},
		{"a pod, no context", Query{Namespace: "shop", Pod: "api-7d9f-x2", Limit: 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			query, args := historySQL(tc.q)
			rows, err := l.db.QueryContext(ctx, "EXPLAIN QUERY PLAN "+query, args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			joined := strings.Join(plan, "; ")
			if !strings.Contains(joined, "SEARCH crashes USING INDEX crashes_by_workload") {
				t.Errorf("plan %q: the workload index is not used", joined)
			}
			for _, step := range plan {
				if strings.HasPrefix(step, "SCAN crashes") {
					t.Errorf("plan %q: a step reads the whole table or index (%s)", joined, step)
				}
			}
		})
	}
}
