// Package ledger is crashlens's crash ledger: every termination crashlens
// observes while it runs, kept in a local SQLite file past the kubelet's one
// previous log and the events' one hour, so a replaced pod's history stays.
//
// It is storage only: no API calls (kube captures what it records). The
// driver is modernc.org/sqlite, SQLite translated to Go, so the binary
// stays CGO_ENABLED=0 and one static file; the file is a plain SQLite
// database a user can open with sqlite3. Several processes may write at
// once (WAL, a busy timeout, one row per termination by its key); a
// broken file is reported and the caller runs on without history.
package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

// Defaults of retention, enforced as rows are written.
const (
	DefaultMaxAge   = 14 * 24 * time.Hour
	DefaultMaxBytes = 200 << 20
	// busyTimeout: how long a writer waits for another process's lock.
	busyTimeout = 5 * time.Second
	// pruneEvery: retention runs at most this often (it scans an index).
	pruneEvery = time.Minute
)

// Bounds on what one row holds: logs and events are attacker-controlled and
// can be huge; the caller sanitizes, the ledger cuts.
const (
	MaxLogLines   = 200
	MaxLogBytes   = 64 << 10
	MaxEventBytes = 16 << 10
	maxTextBytes  = 4 << 10
)

// Crash is one termination of one container instance.
type Crash struct {
	ID            int64     `json:"id"`
	ClusterServer string    `json:"clusterServer"`
	Context       string    `json:"context"`
	Namespace     string    `json:"namespace"`
	Workload      string    `json:"workload"` // owner kind/name: a Deployment's replaced pods share it
	Pod           string    `json:"pod"`
	PodUID        string    `json:"podUID"`
	Container     string    `json:"container"`
	Restart       int32     `json:"restart"` // the instance: its restart count while it ran
	StartedAt     time.Time `json:"startedAt,omitzero"`
	FinishedAt    time.Time `json:"finishedAt"`
	RunSeconds    float64   `json:"runSeconds"`
	ExitCode      int32     `json:"exitCode"`
	Signal        string    `json:"signal,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Message       string    `json:"message,omitempty"`
	Killer        string    `json:"killer,omitempty"`     // as diagnose judged it
	TopFinding    string    `json:"topFinding,omitempty"` // diagnose's first finding id
	Category      string    `json:"category,omitempty"`   // that finding's category
	Cause         string    `json:"cause,omitempty"`      // that finding in a few words (the list's CAUSE)
	FirstError    string    `json:"firstError,omitempty"`
	Events        string    `json:"events,omitempty"` // folded, one per line
	LogTail       string    `json:"logTail,omitempty"`
	LogNote       string    `json:"logNote,omitempty"` // why there is no log (forbidden, gone)
	ObservedAt    time.Time `json:"observedAt"`
}

// Ledger is an open ledger file.
type Ledger struct {
	db        *sql.DB
	path      string
	maxAge    time.Duration
	maxBytes  int64
	lastPrune time.Time
	now       func() time.Time
}

// Options configure retention; zero values take the defaults.
type Options struct {
	MaxAge   time.Duration
	MaxBytes int64
}

// DefaultPath is $XDG_STATE_HOME/crashlens/ledger.db, or
// ~/.local/state/crashlens/ledger.db.
func DefaultPath() (string, error) {
	dir := os.Getenv("XDG_STATE_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no state directory: %v", err)
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "crashlens", "ledger.db"), nil
}

// Open opens (creating when missing) the ledger at path, mode 0600 in a
// 0700 directory, and brings its schema up to date.
func Open(ctx context.Context, path string, o Options) (*Ledger, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("ledger %s: %v", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %v", path, err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("ledger %s: %v", path, err)
	}
	dsn := "file:" + path + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=synchronous(NORMAL)&_txlock=immediate", busyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("ledger %s: %v", path, err)
	}
	l := &Ledger{db: db, path: path, maxAge: o.MaxAge, maxBytes: o.MaxBytes, now: time.Now}
	if l.maxAge <= 0 {
		l.maxAge = DefaultMaxAge
	}
	if l.maxBytes <= 0 {
		l.maxBytes = DefaultMaxBytes
	}
	// Switching to WAL and migrating take locks SQLite does not always
	// wait for (a second process opening the same new file gets BUSY at
	// once): retry them within the busy timeout.
	err = retryBusy(ctx, func() error {
		if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
			return err
		}
		return migrate(ctx, db)
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("ledger %s: %v", path, err)
	}
	return l, nil
}

func retryBusy(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(busyTimeout)
	for {
		err := fn()
		if err == nil || !isBusy(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Path is the file the ledger lives in.
func (l *Ledger) Path() string { return l.path }

// Close closes the file.
func (l *Ledger) Close() error { return l.db.Close() }

// migrations bring the schema from version i to i+1; PRAGMA user_version
// holds the version a file is at. Append only: a released step never
// changes.
var migrations = []string{
	// 1: the crashes table, one row per container instance that terminated.
	`CREATE TABLE crashes (
		id             INTEGER PRIMARY KEY,
		cluster_server TEXT NOT NULL,
		context        TEXT NOT NULL,
		namespace      TEXT NOT NULL,
		workload       TEXT NOT NULL,
		pod            TEXT NOT NULL,
		pod_uid        TEXT NOT NULL,
		container      TEXT NOT NULL,
		restart        INTEGER NOT NULL,
		started_at     INTEGER,          -- Unix milliseconds; NULL when it never started
		finished_at    INTEGER NOT NULL, -- Unix milliseconds
		run_seconds    REAL NOT NULL,
		exit_code      INTEGER NOT NULL,
		signal         TEXT NOT NULL DEFAULT '',
		reason         TEXT NOT NULL DEFAULT '',
		message        TEXT NOT NULL DEFAULT '',
		killer         TEXT NOT NULL DEFAULT '',
		top_finding    TEXT NOT NULL DEFAULT '',
		first_error    TEXT NOT NULL DEFAULT '',
		events         TEXT NOT NULL DEFAULT '',
		log_tail       TEXT NOT NULL DEFAULT '',
		log_note       TEXT NOT NULL DEFAULT '',
		observed_at    INTEGER NOT NULL,
		UNIQUE (pod_uid, container, restart)
	);
	CREATE INDEX crashes_by_workload ON crashes (context, namespace, workload, container, finished_at DESC);
	CREATE INDEX crashes_by_time ON crashes (finished_at);`,
	// 2: the top finding in a few words, as the list's CAUSE column shows it.
	`ALTER TABLE crashes ADD COLUMN cause TEXT NOT NULL DEFAULT '';`,
	// 3: the top finding's category (application, configuration, resources,
	// environment), a bounded label of the recorder's metrics.
	`ALTER TABLE crashes ADD COLUMN category TEXT NOT NULL DEFAULT '';`,
}

// SchemaVersion is the version Open brings every file to.
var SchemaVersion = len(migrations)

func migrate(ctx context.Context, db *sql.DB) error {
	var v int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("schema version %d is newer than this crashlens knows (%d)", v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var cur int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&cur); err != nil {
			tx.Rollback()
			return err
		}
		if cur > v { // another process migrated meanwhile
			tx.Rollback()
			v = cur - 1
			continue
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// isBusy: SQLite answered SQLITE_BUSY (or one of its extended codes).
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// Record writes one termination; a termination already recorded (same pod
// UID, container and instance, by this or another process) is kept as it
// was. It reports whether the row is new. Retention runs as it writes.
func (l *Ledger) Record(ctx context.Context, c Crash) (bool, error) {
	if c.ObservedAt.IsZero() {
		c.ObservedAt = l.now()
	}
	res, err := l.db.ExecContext(ctx, `INSERT INTO crashes (cluster_server, context, namespace, workload, pod, pod_uid, container, restart,
		started_at, finished_at, run_seconds, exit_code, signal, reason, message, killer, top_finding, cause, first_error, events, log_tail, log_note, observed_at, category)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (pod_uid, container, restart) DO NOTHING`,
		c.ClusterServer, c.Context, c.Namespace, c.Workload, c.Pod, c.PodUID, c.Container, c.Restart,
		millisOrNil(c.StartedAt), c.FinishedAt.UnixMilli(), c.RunSeconds, c.ExitCode, cut(c.Signal, maxTextBytes), cut(c.Reason, maxTextBytes),
		cut(c.Message, maxTextBytes), c.Killer, c.TopFinding, cut(c.Cause, maxTextBytes), cut(c.FirstError, maxTextBytes), cut(c.Events, MaxEventBytes), TailOf(c.LogTail),
		cut(c.LogNote, maxTextBytes), c.ObservedAt.UnixMilli(), cut(c.Category, maxTextBytes))
	if err != nil {
		return false, fmt.Errorf("ledger: %v", err)
	}
	n, _ := res.RowsAffected()
	if l.now().Sub(l.lastPrune) > pruneEvery {
		l.lastPrune = l.now()
		if err := l.Prune(ctx); err != nil {
			return n > 0, err
		}
	}
	return n > 0, nil
}

// Query selects rows of the ledger; empty fields match everything.
type Query struct {
	Context   string
	Namespace string
	Workload  string // "Deployment/api"
	Pod       string
	Container string
	Since     time.Time
	Limit     int // 0: 1000
}

// History returns the rows that match, newest first.
func (l *Ledger) History(ctx context.Context, q Query) ([]Crash, error) {
	query, args := historySQL(q)
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: %v", err)
	}
	defer rows.Close()
	var out []Crash
	for rows.Next() {
		var c Crash
		var started sql.NullInt64
		var finished, observed int64
		if err := rows.Scan(&c.ID, &c.ClusterServer, &c.Context, &c.Namespace, &c.Workload, &c.Pod, &c.PodUID, &c.Container, &c.Restart,
			&started, &finished, &c.RunSeconds, &c.ExitCode, &c.Signal, &c.Reason, &c.Message, &c.Killer, &c.TopFinding, &c.Cause, &c.FirstError,
			&c.Events, &c.LogTail, &c.LogNote, &observed, &c.Category); err != nil {
			return nil, fmt.Errorf("ledger: %v", err)
		}
		if started.Valid {
			c.StartedAt = time.UnixMilli(started.Int64).UTC()
		}
		c.FinishedAt, c.ObservedAt = time.UnixMilli(finished).UTC(), time.UnixMilli(observed).UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}

// contextsSQL lists the ledger's contexts by hopping through the workload
// index from one context to the next (a loose index scan): one index seek
// per context, where SELECT DISTINCT reads every entry of the index
// (0.2 s on a million rows).
const contextsSQL = `WITH RECURSIVE ctx(c) AS (SELECT min(context) FROM crashes
	UNION ALL SELECT (SELECT min(context) FROM crashes WHERE context > ctx.c) FROM ctx WHERE ctx.c IS NOT NULL)
	SELECT c FROM ctx WHERE c IS NOT NULL`

// historySQL is the query History runs for q, and its arguments.
func historySQL(q Query) (string, []any) {
	var where []string
	var args []any
	for _, f := range []struct {
		col, val string
	}{{"context", q.Context}, {"namespace", q.Namespace}, {"workload", q.Workload}, {"pod", q.Pod}, {"container", q.Container}} {
		if f.val != "" {
			where = append(where, f.col+" = ?")
			args = append(args, f.val)
		}
	}
	if q.Context == "" && (q.Namespace != "" || q.Workload != "") {
		// Every context the ledger holds, so the workload index (which
		// leads with the context) still serves the query: without it,
		// SQLite walks the whole table newest first, 0.7 s on a million
		// rows for a workload that rarely crashes (monitor/BENCHMARKS.md).
		// The recorder's history API is asked this way; its ledger holds
		// one context.
		where = append(where, "context IN ("+contextsSQL+")")
	}
	if !q.Since.IsZero() {
		where = append(where, "finished_at >= ?")
		args = append(args, q.Since.UnixMilli())
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 1000
	}
	query := `SELECT id, cluster_server, context, namespace, workload, pod, pod_uid, container, restart, started_at, finished_at, run_seconds,
		exit_code, signal, reason, message, killer, top_finding, cause, first_error, events, log_tail, log_note, observed_at, category FROM crashes`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += fmt.Sprintf(" ORDER BY finished_at DESC, id DESC LIMIT %d", limit)
	return query, args
}

// Prune enforces retention: rows older than the maximum age go, then the
// oldest rows until the file is under its maximum size.
func (l *Ledger) Prune(ctx context.Context) error {
	cutoff := l.now().Add(-l.maxAge).UnixMilli()
	if _, err := l.db.ExecContext(ctx, "DELETE FROM crashes WHERE finished_at < ?", cutoff); err != nil {
		return fmt.Errorf("ledger: %v", err)
	}
	for range 100 {
		size, err := l.Size(ctx)
		if err != nil || size <= l.maxBytes {
			return err
		}
		// Drop the oldest tenth (at least 100 rows) and look again; freed
		// pages are reused by later rows, so the file stops growing.
		res, err := l.db.ExecContext(ctx, `DELETE FROM crashes WHERE id IN (SELECT id FROM crashes ORDER BY finished_at LIMIT
			max(100, (SELECT count(*) FROM crashes) / 10))`)
		if err != nil {
			return fmt.Errorf("ledger: %v", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
	}
	return nil
}

// Size is the bytes the database's live pages take.
func (l *Ledger) Size(ctx context.Context) (int64, error) {
	var pages, free, pageSize int64
	for _, p := range []struct {
		pragma string
		into   *int64
	}{{"page_count", &pages}, {"freelist_count", &free}, {"page_size", &pageSize}} {
		if err := l.db.QueryRowContext(ctx, "PRAGMA "+p.pragma).Scan(p.into); err != nil {
			return 0, fmt.Errorf("ledger: %v", err)
		}
	}
	return (pages - free) * pageSize, nil
}

// Check runs SQLite's integrity check.
func (l *Ledger) Check(ctx context.Context) error {
	var res string
	if err := l.db.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return errors.New("integrity check: " + res)
	}
	return nil
}

// TailOf keeps the end of a log within MaxLogLines and MaxLogBytes, cut
// at a line start.
func TailOf(log string) string {
	if len(log) > MaxLogBytes {
		log = log[len(log)-MaxLogBytes:]
		if i := strings.IndexByte(log, '\n'); i >= 0 {
			log = log[i+1:]
		}
	}
	lines := strings.SplitAfter(log, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) > MaxLogLines {
		lines = lines[len(lines)-MaxLogLines:]
	}
	return strings.Join(lines, "")
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

func millisOrNil(t time.Time) any {
	if t.IsZero() || t.Unix() <= 0 {
		return nil
	}
	return t.UnixMilli()
}
