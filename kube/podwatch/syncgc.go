package podwatch

import (
	"runtime/debug"
	"sync"
)

// While a watcher's first sync streams every pod, the process makes
// kilobytes of garbage per pod and keeps a few hundred bytes: with Go's
// default GOGC of 100 over so small a live heap, the collector runs every
// few thousand pods and takes a good share of the CPU the full view waits
// for. Until the first sync, collections run at syncGCPercent instead;
// the heap then peaks at a few times the small live set, and the first
// sync hands the memory back (Replace).

// syncGCPercent is GOGC while a first sync streams.
const syncGCPercent = 400

var syncGC struct {
	mu      sync.Mutex
	running int // watchers in their first sync
	saved   int // GOGC to restore
}

// beginSyncGC raises GOGC for a first sync; endSyncGC restores it when the
// last first sync ends.
func beginSyncGC() {
	syncGC.mu.Lock()
	defer syncGC.mu.Unlock()
	if syncGC.running == 0 {
		syncGC.saved = debug.SetGCPercent(syncGCPercent)
	}
	syncGC.running++
}

func endSyncGC() {
	syncGC.mu.Lock()
	defer syncGC.mu.Unlock()
	if syncGC.running == 0 {
		return
	}
	syncGC.running--
	if syncGC.running == 0 {
		debug.SetGCPercent(syncGC.saved)
	}
}

// holdSyncGC: the watcher's first sync begins.
func (w *Watcher) holdSyncGC() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.gcHeld && !w.synced {
		w.gcHeld = true
		beginSyncGC()
	}
}

// releaseSyncGC: the first sync ended (or the watcher did); once per hold.
func (w *Watcher) releaseSyncGC() {
	w.mu.Lock()
	held := w.gcHeld
	w.gcHeld = false
	w.mu.Unlock()
	if held {
		endSyncGC()
	}
}
