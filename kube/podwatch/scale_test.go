//go:build scale

package podwatch

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crashlens/crashlens/kube"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/hack/clustertest"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// The scale benchmark runs on a control-plane-only cluster (make bench
// starts one): pods are written straight to the apiserver, 1% with crash
// statuses, no kubelet touches them.

// scaleRow is one size's line of the table.
type scaleRow struct {
	pods                   int
	floor                  time.Duration
	kubectl                string        // its wall time and peak RSS, or how it ended
	floorFirstByte         time.Duration // the LIST's first response byte
	first, full            time.Duration
	groups                 int
	heapPerPod             float64
	worstFloor, worstFirst time.Duration
	listWall               time.Duration
	listRSS, tuiRSS        int64 // KiB
	tuiSynced              time.Duration
	tuiIdleCPU             float64  // share of one core
	rounds                 []string // each round's full/floor, in order
	// The in-cluster recorder (`crashlens monitor`) on the same cluster:
	// until /readyz said ready, its peak RSS (KiB), its share of a core
	// idle, and the fastest and slowest of its /metrics scrapes.
	recorderReady                           time.Duration
	recorderRSS                             int64
	recorderIdleCPU                         float64
	recorderScrapeBest, recorderScrapeWorst time.Duration
}

// BenchmarkScale measures, per size, in one run: the floor (a raw protobuf
// LIST of every pod into io.Discard), kubectl's own listing, the watcher's
// first crash group and full view with their ratios to the floor, the heap
// it keeps per watched pod, the worst case (one crash, last in the stream),
// and the real binary: `crashlens list -o json`, the TUI under a pty
// (time to synced, peak RSS, CPU over 30 s idle after sync) and the
// in-cluster recorder, `crashlens monitor`, likewise (time to ready, peak
// RSS, CPU over 30 s idle after ready, the /metrics scrape at that size).
func BenchmarkScale(b *testing.B) {
	sizes := []int{10000, 50000}
	if s := os.Getenv("CRASHLENS_SCALE_PODS"); s != "" {
		sizes = nil
		for _, f := range strings.Split(s, ",") {
			n, _ := strconv.Atoi(f)
			sizes = append(sizes, n)
		}
	}
	cfg := clustertest.AdminConfig(b)
	kubeconfig := clustertest.Kubeconfig(b, "admin")
	writer := rest.CopyConfig(cfg)
	writer.QPS, writer.Burst = 2000, 4000
	writer.WarningHandler = rest.NoWarnings{} // the realistic pods' shared port name, once per pod
	wc := kubernetes.NewForConfigOrDie(writer)
	bin := clustertest.BuildCrashlens(b, "")
	pids := clustertest.ServerPids(b)
	var rows []scaleRow
	for _, n := range sizes {
		clustertest.Populate(b, wc, n)
		r := scaleRow{pods: n}
		c, err := kube.NewClientset(cfg, "bench")
		if err != nil {
			b.Fatal(err)
		}
		// The floor and the watcher in turns, each after the apiserver
		// settled from the one before, the best of scaleRounds each: a
		// LIST of 50,000 pods leaves the apiserver collecting gigabytes of
		// garbage for seconds, which whoever comes next pays for, and the
		// first LIST after the pods were written also waits for the watch
		// cache. The worst case's floor and watcher likewise (run once
		// each, they gave 0.62x and 1.64x of the floor at 150,000 pods in
		// two runs).
		for round := range scaleRounds {
			clustertest.Settle(b)
			server := clustertest.ServerCPU(b, pids)
			firstByte, floor := clustertest.RawList(b, c, "")
			floorServer := clustertest.ServerCPU(b, pids) - server
			if r.floor == 0 || floor < r.floor {
				r.floorFirstByte, r.floor = firstByte, floor
			}
			clustertest.Settle(b)
			before := clustertest.HeapInUse()
			server, client := clustertest.ServerCPU(b, pids), clustertest.ProcCPU(b, os.Getpid())
			w, first, full, groups := watchOnce(b, cfg, "")
			fullServer, fullClient := clustertest.ServerCPU(b, pids)-server, clustertest.ProcCPU(b, os.Getpid())-client
			perPod := float64(int64(clustertest.HeapInUse())-int64(before)) / float64(n)
			runtime.KeepAlive(w)
			if r.full == 0 || full < r.full {
				r.first, r.full, r.groups, r.heapPerPod = first, full, groups, perPod
			}
			r.rounds = append(r.rounds, fmt.Sprintf("%.2fx", full.Seconds()/floor.Seconds()))
			// What each side spent, to tell a slow server from a slow client.
			fmt.Printf("%d pods, round %d: floor %s (apiserver+etcd CPU %s), full view %s (apiserver+etcd CPU %s, client CPU %s)\n",
				n, round+1, floor.Round(10*time.Millisecond), floorServer, full.Round(10*time.Millisecond), fullServer, fullClient)
		}
		for range scaleRounds {
			clustertest.Settle(b)
			if _, floor := clustertest.RawList(b, c, clustertest.WorstLabel+"=1"); r.worstFloor == 0 || floor < r.worstFloor {
				r.worstFloor = floor
			}
			clustertest.Settle(b)
			if _, first, _, _ := watchOnce(b, cfg, clustertest.WorstLabel+"=1"); r.worstFirst == 0 || first < r.worstFirst {
				r.worstFirst = first
			}
		}
		clustertest.Settle(b)
		r.listWall, r.listRSS = runList(b, bin, kubeconfig)
		clustertest.Settle(b)
		r.tuiSynced, r.tuiRSS, r.tuiIdleCPU = clustertest.RunTUIUnderPty(b, bin, kubeconfig, 1)
		clustertest.Settle(b)
		r.recorderReady, r.recorderRSS, r.recorderIdleCPU, r.recorderScrapeBest, r.recorderScrapeWorst = clustertest.RunMonitor(b, bin, kubeconfig)
		// kubectl last: it holds the apiserver busy long after it printed.
		clustertest.Settle(b)
		r.kubectl = runKubectl(b, kubeconfig)
		rows = append(rows, r)
		fmt.Printf("%d pods: %+v\n", n, r)
	}
	fmt.Printf("\n| pods | LIST floor | its first byte | kubectl get -A -o name (peak RSS) | first group | full view | full/floor | groups | heap per watched pod | worst case: first group = full view | worst/floor | list -o json | its peak RSS | TUI synced | TUI peak RSS | TUI idle CPU | recorder ready | recorder peak RSS | recorder idle CPU | /metrics scrape (best-worst of 5) | full/floor each round |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows {
		ms := func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }
		fmt.Printf("| %d | %s | %s | %s | %s | %s | %.2fx | %d | %.0f B | %s | %.2fx | %s | %d MB | %s | %d MB | %.2f%% | %s | %d MB | %.2f%% | %s-%s | %s |\n", r.pods, ms(r.floor), ms(r.floorFirstByte), r.kubectl,
			ms(r.first), ms(r.full), r.full.Seconds()/r.floor.Seconds(), r.groups, r.heapPerPod, ms(r.worstFirst), r.worstFirst.Seconds()/r.worstFloor.Seconds(),
			ms(r.listWall), r.listRSS/1024, ms(r.tuiSynced), r.tuiRSS/1024, 100*r.tuiIdleCPU,
			ms(r.recorderReady), r.recorderRSS/1024, 100*r.recorderIdleCPU, r.recorderScrapeBest.Round(100*time.Microsecond), r.recorderScrapeWorst.Round(100*time.Microsecond),
			strings.Join(r.rounds, " "))
	}
}

// watchOnce runs the watcher as the commands do (slim decoder) until its
// first full view: when the first crash group came, when every pod was
// reconciled, and how many groups there were. The watcher is returned
// stopped, its memory still held.
func watchOnce(b *testing.B, cfg *rest.Config, selector string) (*Watcher, time.Duration, time.Duration, int) {
	w, err := NewSlimWatcher(kube.ClientConfig(cfg, "bench"), "", selector)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	go w.Run(ctx)
	var first, synced time.Duration
	seen := map[string]bool{}
	for bt := range w.Batches() {
		for _, g := range bt.Upserted {
			seen[g.Key] = true
		}
		if first == 0 && len(bt.Upserted) > 0 {
			first = time.Since(start)
		}
		if bt.State.Phase == crash.PhaseSynced {
			synced = time.Since(start)
			break
		}
	}
	cancel()
	for range w.Batches() {
	}
	return w, first, synced, len(seen)
}

// runList times `crashlens list -o json` and reads its peak RSS (KiB).
func runList(b *testing.B, bin, kubeconfig string) (time.Duration, int64) {
	cmd := exec.Command(bin, "--kubeconfig", kubeconfig, "--no-ledger", "list", "-o", "json")
	cmd.Stdout = io.Discard
	start := time.Now()
	if err := cmd.Run(); err != nil && cmd.ProcessState.ExitCode() != 3 {
		b.Fatalf("crashlens list: %v", err)
	}
	return time.Since(start), cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}

// scaleRounds: how many times the floor and the watcher each run per size.
const scaleRounds = 5

// runKubectl times `kubectl get pods -A -o name`, for scale, with its
// peak RSS. kubectl holds gigabytes per 50,000 pods (8.8 GB once), so at
// 150,000 it may not fit the machine beside a 19 GB apiserver. The kernel
// did not save the machine then (it thrashed with 161 MB free instead of
// calling the OOM killer), so the benchmark stops kubectl itself when the
// machine has less than memFloor available, and the table says so; a stop
// is not fatal. kubectl also runs first in line for the OOM killer.
func runKubectl(b *testing.B, kubeconfig string) string {
	var out bytes.Buffer
	cmd := exec.Command(filepath.Join(clustertest.BinDir(b), "kubectl"), "--kubeconfig", kubeconfig, "get", "pods", "-A", "-o", "name")
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	_ = os.WriteFile(fmt.Sprintf("/proc/%d/oom_score_adj", cmd.Process.Pid), []byte("1000"), 0o644)
	done := make(chan struct{})
	stopped := make(chan bool, 1)
	go func() {
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				stopped <- false
				return
			case <-t.C:
				if memAvailable() < memFloor {
					_ = cmd.Process.Kill()
					stopped <- true
					return
				}
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	wall := time.Since(start).Round(10 * time.Millisecond)
	rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss / 1024
	if <-stopped {
		return fmt.Sprintf("stopped after %s at %d MB (the machine had under %d GB left)", wall, rss, memFloor>>30)
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
		return fmt.Sprintf("killed after %s at %d MB", wall, rss)
	}
	if err != nil {
		b.Fatalf("kubectl: %v: %s", err, out.Bytes()[:min(out.Len(), 300)])
	}
	return fmt.Sprintf("%s (%d MB)", wall, rss)
}

// memFloor is the memory the machine keeps while kubectl runs.
const memFloor = 1 << 30

// memAvailable is the machine's MemAvailable in bytes (/proc/meminfo);
// the most it could be when the file cannot be read.
func memAvailable() int64 {
	meminfo, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return math.MaxInt64
	}
	for _, l := range strings.Split(string(meminfo), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "MemAvailable:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return math.MaxInt64
}
