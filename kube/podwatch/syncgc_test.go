package podwatch

import (
	"runtime/debug"
	"testing"
)

func gcPercent() int {
	v := debug.SetGCPercent(100)
	debug.SetGCPercent(v)
	return v
}

// TestSyncGC: GOGC is raised while any watcher is in its first sync and
// restored when the last one ends; a watcher releases its hold once.
func TestSyncGC(t *testing.T) {
	before := gcPercent()
	a, b := NewWatcher(nil, "", ""), NewWatcher(nil, "", "")
	a.holdSyncGC()
	b.holdSyncGC()
	a.releaseSyncGC()
	a.releaseSyncGC() // the first sync and the end of Run both release
	if got := gcPercent(); got != syncGCPercent {
		t.Fatalf("GOGC %d while b syncs, want %d", got, syncGCPercent)
	}
	b.releaseSyncGC()
	if got := gcPercent(); got != before {
		t.Errorf("GOGC %d after every first sync, want %d back", got, before)
	}
}
