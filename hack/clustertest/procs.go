package clustertest

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// PidOf finds the process whose argv[0] is bin and whose argv has none of
// the words in not (a TUI and a `list --watch` of the same binary), and
// fails the test when none runs within 10 s.
func PidOf(tb testing.TB, bin string, not ...string) int {
	tb.Helper()
	pid := 0
	find := func() bool {
		ents, _ := os.ReadDir("/proc")
		for _, e := range ents {
			b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil {
				continue
			}
			args := strings.Split(string(b), "\x00")
			if args[0] == bin && !slices.ContainsFunc(args, func(a string) bool { return slices.Contains(not, a) }) {
				pid, _ = strconv.Atoi(e.Name())
				return pid > 0
			}
		}
		return false
	}
	if !Poll(10*time.Second, 100*time.Millisecond, find) {
		tb.Fatalf("no process runs %s", bin)
	}
	return pid
}

// ProcCPU is the CPU time a process used so far (utime+stime of
// /proc/PID/stat): whether it spins while the cluster is away, and what
// the apiserver spent on a LIST.
func ProcCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		tb.Fatal(err)
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// PeakRSS is a process's peak resident set (VmHWM of /proc/PID/status), in
// bytes; it fails the test when the process has none.
func PeakRSS(tb testing.TB, pid int) int64 {
	tb.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			var kb int64
			fmt.Sscan(strings.TrimPrefix(l, "VmHWM:"), &kb)
			return kb << 10
		}
	}
	tb.Fatal("no VmHWM in /proc/PID/status")
	return 0
}

// HeapInUse is the live heap after a full collection: what a watcher
// keeps, measured in the test's own process.
func HeapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Parallel runs fn(i) for i in [0,n) on workers goroutines and returns the
// first error: thousands of pods are written to the apiserver in seconds,
// not minutes.
func Parallel(workers, n int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	var first atomic.Value
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					first.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	wg.Wait()
	if err, _ := first.Load().(error); err != nil {
		return err
	}
	return nil
}
