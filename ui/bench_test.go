package ui

import (
	"context"
	"fmt"
	"io"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"

	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/theme"
	"github.com/creack/pty"
)

// syntheticBatch makes n crash groups with realistic names.
func syntheticBatch(n int) crash.Batch {
	b := crash.Batch{State: crash.ConnState{Phase: crash.PhaseSynced}, Watched: n * 100}
	reasons := []string{"Error", "OOMKilled", "ImagePullBackOff", "Completed"}
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("team-%03d", i%300)
		owner := fmt.Sprintf("Deployment/service-%05d-api", i)
		p := diagnose.CrashPod{Namespace: ns, Name: fmt.Sprintf("service-%05d-api-7d9f8c6b5-x%04d", i, i%9999), Owner: owner, Container: "app",
			Reason: reasons[i%len(reasons)], State: "CrashLoopBackOff", ExitCode: int32(i % 140), Restarts: int32(i % 50),
			LastFinish: testNow.Add(-time.Duration(i) * time.Second)}
		b.Upserted = append(b.Upserted, crash.Group{Key: p.GroupKey(), Namespace: ns, Owner: owner, Container: "app", Reason: p.Reason,
			State: p.State, ExitCode: p.ExitCode, Pods: []diagnose.CrashPod{p}, Restarts: p.Restarts, LastRestart: p.LastFinish})
	}
	return b
}

func benchModel(n int) *Model {
	src := &fakeSource{ch: make(chan crash.Batch)}
	m := New(src, Options{Scope: "all namespaces", Styles: theme.Default()})
	m.now = func() time.Time { return testNow }
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	m.Update(batchMsg(syntheticBatch(n)))
	return m
}

// keystrokeToFrame measures one filter keystroke (the re-rank, run in
// place or as the command it returns) plus the frame that shows it. With
// churn, a batch changing one group lands before every keystroke: churnNumbers
// moves its restart count and time (the row changes in place, the filter's
// corpus stays: a busy cluster's usual batch); churnWords renames its pod,
// so the chunk of the corpus holding it is rebuilt each time (the worst
// case; the whole corpus was, before it came in chunks).
type churn int

const (
	churnNone churn = iota
	churnNumbers
	churnWords
)

func keystrokeToFrame(b *testing.B, n int, churn churn) {
	m := benchModel(n)
	press(b, m, "/")
	one := syntheticBatch(1)
	queries := []string{"s", "se", "ser", "serv", "servi", "service-0", "service-00", "service-001"}
	var samples []time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m.list.input.SetValue(queries[i%len(queries)])
		start := time.Now()
		switch churn {
		case churnNumbers:
			one.Upserted[0].Restarts++
			m.Update(batchMsg(one))
		case churnWords:
			one.Upserted[0].Pods[0].Name = fmt.Sprintf("service-00000-api-7d9f8c6b5-r%05d", i)
			m.Update(batchMsg(one))
		}
		if cmd := m.list.refilter(); cmd != nil {
			m.Update(cmd())
		}
		_ = m.View()
		samples = append(samples, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
	b.ReportMetric(float64(samples[len(samples)*99/100].Microseconds())/1000, "p99-ms")
}

func BenchmarkFilterKeystroke5kGroups(b *testing.B)  { keystrokeToFrame(b, 5000, churnNone) }
func BenchmarkFilterKeystroke150kNames(b *testing.B) { keystrokeToFrame(b, 150000, churnNone) }
func BenchmarkFilterKeystroke150kNamesChurning(b *testing.B) {
	keystrokeToFrame(b, 150000, churnNumbers)
}
func BenchmarkFilterKeystroke150kNamesChurningWords(b *testing.B) {
	keystrokeToFrame(b, 150000, churnWords)
}

func BenchmarkView5kRows(b *testing.B) {
	m := benchModel(5000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = m.View()
	}
}

// BenchmarkBatchApply1000Events: a second of 1,000 informer events reaches
// the UI as ten batches (the watcher's 100 ms interval), each a frame.
// Reported: frames per 1,000 events.
func BenchmarkBatchApply1000Events(b *testing.B) {
	m := benchModel(5000)
	storm := syntheticBatch(1000)
	frames := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for part := 0; part < 10; part++ {
			batch := crash.Batch{Upserted: storm.Upserted[part*100 : (part+1)*100], State: storm.State}
			m.Update(batchMsg(batch))
			_ = m.View()
			frames++
		}
	}
	b.ReportMetric(float64(frames)/float64(b.N), "frames/1000-events")
}

// BenchmarkIdleFrame: what one second of an idle TUI costs the model: the
// clock's tick (expiry, re-sort when needed) and the frame it renders, for
// the recorded scenarios at 160x50.
func BenchmarkIdleFrame(b *testing.B) {
	m, _ := newTestModel(b, allScenarios...)
	m.Update(tea.WindowSizeMsg{Width: 160, Height: 50})
	for b.Loop() {
		m.Update(tickMsg(testNow))
		_ = m.View()
	}
}

// BenchmarkIdleCPU: the real program (renderer, input reader, clock) on a
// pty at 160x50 with the recorded scenarios, idle for 10 s: the share of a
// core it uses (the pty's reader in this process included).
func BenchmarkIdleCPU(b *testing.B) {
	m, src := newTestModel(b, allScenarios...)
	ptmx, tty, err := pty.Open()
	if err != nil {
		b.Fatal(err)
	}
	defer ptmx.Close()
	_ = pty.Setsize(ptmx, &pty.Winsize{Cols: 160, Rows: 50})
	go func() { _, _ = io.Copy(io.Discard, ptmx) }()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = Run(ctx, src, m.opts, tty, tty) }()
	var incs []crash.Incident
	for _, s := range allScenarios {
		incs = append(incs, recordedIncident(b, s))
	}
	src.ch <- batchOf(b, incs...)
	time.Sleep(3 * time.Second) // started, first frames drawn
	b.ResetTimer()
	var share float64
	for range b.N {
		c0 := processCPU()
		time.Sleep(10 * time.Second)
		share = (processCPU() - c0).Seconds() / 10
	}
	b.ReportMetric(100*share, "%core-idle")
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
