package capture

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/ledger"
)

// TestMerged: where the history comes from is one line, and a source that
// is absent (no recorder, no local ledger) is not news in it.
func TestMerged(t *testing.T) {
	day := time.Date(2026, 12, 4, 9, 12, 0, 0, time.Local)
	row := func(uid string, restart int32, at time.Time) ledger.Crash {
		return ledger.Crash{PodUID: uid, Container: "app", Restart: restart, FinishedAt: at}
	}
	remote := []ledger.Crash{row("u1", 5, day.Add(18*time.Hour)), row("u1", 4, day.Add(17*time.Hour)), row("u1", 1, day)}
	local := []ledger.Crash{row("u1", 5, day.Add(18*time.Hour)), row("u1", 4, day.Add(17*time.Hour))}
	forbidden := &kube.ForbiddenError{Verb: "get", Resource: "services/proxy", Namespace: RecorderNamespace}
	for _, tc := range []struct {
		name               string
		local, remote      []ledger.Crash
		localErr, remoteEr error
		rows               int
		line               string
	}{
		{"both", local, remote, nil, nil, 3, "history: in-cluster recorder since 2026-12-04 09:12 · local since 02:12"},
		{"no recorder", local, nil, nil, ErrNoRecorder, 2, "history: local since 02:12"},
		{"recorder refused", local, nil, nil, forbidden, 2, "history: in-cluster recorder: forbidden: you may not get services/proxy in namespace crashlens · local since 02:12"},
		{"local off, recorder on", nil, remote, errors.New("no crash history: the ledger is off (--no-ledger)"), nil, 3, "history: in-cluster recorder since 2026-12-04 09:12"},
		{"recorder empty", local, []ledger.Crash{}, nil, nil, 2, "history: in-cluster recorder: none · local since 02:12"},
	} {
		rows, line := Merged(tc.local, tc.localErr, tc.remote, tc.remoteEr, 100)
		if len(rows) != tc.rows || line != tc.line {
			t.Errorf("%s: %d rows, %q; want %d, %q", tc.name, len(rows), line, tc.rows, tc.line)
		}
		if strings.Contains(line, "\n") {
			t.Errorf("%s: the line breaks", tc.name)
		}
	}
}
