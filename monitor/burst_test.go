//go:build scale

package monitor_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/kube/clusters"
)

// The capture's documented budget (kube/capture: captureRate captures a
// second, bursts of captureBurst, three requests each, a queue of
// captureQueue), which the burst is held to from the apiserver's side.
const (
	documentedRate     = 4
	documentedBurst    = 8
	requestsPerCapture = 3
	documentedQueue    = 512
)

// BenchmarkCaptureBurst is issue #28's "capture throughput when 500 pods
// crash at once", on a control-plane-only cluster (make bench starts one):
// the recorder (`crashlens monitor`, the real binary) watches n healthy
// pods, then every one of them crashes within a second or two (their
// statuses written as the kubelet would: restart 1, the last state
// terminated, CrashLoopBackOff). It measures how long until every crash
// is in the ledger, and what the captures asked of the apiserver, read
// from its audit log: in all, per capture, and in the busiest second.
//
// It fails when a crash is missing from the ledger or is there twice,
// when one was dropped although the queue had room for all, or when the
// captures asked more than the documented budget.
func BenchmarkCaptureBurst(b *testing.B) {
	n := 500
	if s := os.Getenv("CRASHLENS_BURST_PODS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	cfg := clustertest.AdminConfig(b)
	writer := rest.CopyConfig(cfg)
	writer.QPS, writer.Burst = 2000, 4000
	writer.WarningHandler = rest.NoWarnings{} // the realistic pods' shared port name, once per pod
	c := kubernetes.NewForConfigOrDie(writer)
	ctx := context.Background()
	const version = "burst-bench"
	bin := clustertest.BuildCrashlens(b, version)

	// A namespace of its own each run: a control-plane-only cluster runs
	// no namespace controller, so a deleted one would never go.
	ns := fmt.Sprintf("burst-%d", time.Now().Unix())
	if _, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		b.Fatal(err)
	}
	pods := make([]*corev1.Pod, n)
	now := time.Now()
	if err := clustertest.Parallel(32, n, func(i int) error {
		p := clustertest.RealisticPod(i)
		p.Namespace = ns
		p, err := c.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
		if err != nil {
			return err
		}
		p.Status = clustertest.HealthyStatus(i, now)
		pods[i], err = c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	}); err != nil {
		b.Fatalf("writing the healthy pods: %v", err)
	}

	m := clustertest.StartMonitor(b, bin, clustertest.Kubeconfig(b, "admin"))
	time.Sleep(5 * time.Second)
	if before := m.Captures(b); before != 0 {
		b.Fatalf("the recorder captured %.0f terminations before the burst; the cluster was to have none", before)
	}

	// The burst: every pod's app container ends at once, each as one of
	// three common failures.
	mark := clustertest.AuditMark(b)
	start := time.Now()
	ended := metav1.NewTime(start)
	failures := []corev1.ContainerStateTerminated{
		{ExitCode: 1, Reason: "Error"},
		{ExitCode: 137, Reason: "OOMKilled"},
		{ExitCode: 2, Reason: "Error"},
	}
	if err := clustertest.Parallel(64, n, func(i int) error {
		term := failures[i%len(failures)]
		term.StartedAt, term.FinishedAt = metav1.NewTime(start.Add(-time.Minute)), ended
		p := pods[i].DeepCopy()
		p.Status = clustertest.Crashed(p.Status, 1, term)
		_, err := c.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{})
		return err
	}); err != nil {
		b.Fatalf("crashing the pods: %v", err)
	}
	written := time.Since(start)

	var allIn time.Duration
	for deadline := start.Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(time.Second) {
		if m.Captures(b) >= float64(n) {
			allIn = time.Since(start)
			break
		}
	}
	series, _ := m.Scrape(b)
	dropped, writeErrors := series["crashlens_captures_dropped_total"], series["crashlens_ledger_write_errors_total"]
	meanLatency := series["crashlens_capture_latency_seconds_sum"] / max(series["crashlens_capture_latency_seconds_count"], 1)

	rows := m.History(b, url.Values{"namespace": {ns}, "limit": {"1000"}})
	instances := map[string]int{}
	for _, r := range rows {
		instances[fmt.Sprintf("%v/%v/%v", r["pod"], r["container"], r["restart"])]++
	}
	twice := 0
	for _, k := range instances {
		if k > 1 {
			twice++
		}
	}

	// What the captures asked, from the apiserver's audit log: the
	// recorder's capture client (its watch is another agent's).
	perSecond := map[int64]int{}
	kinds := map[string]int{}
	var first, last int64 // the seconds of the first capture request and the last
	evs := clustertest.AuditSince(b, mark, kube.UserAgent(version)+clusters.CaptureAgentSuffix)
	for i, e := range evs {
		s := e.Received.Unix()
		perSecond[s]++
		kinds[e.Verb+" "+e.Resource()]++
		if i == 0 {
			first, last = s, s
		}
		first, last = min(first, s), max(last, s)
	}
	peak := 0
	for _, k := range perSecond {
		peak = max(peak, k)
	}
	span := float64(last - first + 1)

	b.ReportMetric(allIn.Seconds(), "s-all-recorded")
	b.ReportMetric(float64(len(evs))/float64(n), "requests/capture")
	b.ReportMetric(float64(peak), "peak-requests/s")
	fmt.Printf("\n| crashing pods | statuses written in | all recorded after | ledger rows (instances twice) | dropped | ledger write errors | mean capture latency | capture requests (per capture) | mean rate | busiest second |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d | %s | %s | %d (%d) | %.0f | %.0f | %.1f s | %d (%.2f) | %.1f/s | %d |\n", n, written.Round(10*time.Millisecond), allIn.Round(time.Second),
		len(rows), twice, dropped, writeErrors, meanLatency, len(evs), float64(len(evs))/float64(n), float64(len(evs))/span, peak)
	fmt.Printf("requests by kind: %v\n", kinds)

	switch {
	case allIn == 0:
		b.Errorf("after 10 minutes the recorder had captured or dropped %.0f of %d terminations", m.Captures(b), n)
	case n <= documentedQueue && dropped > 0:
		b.Errorf("%.0f terminations dropped although the queue (%d) had room for all %d", dropped, documentedQueue, n)
	}
	if want := n - int(dropped); len(rows) != want || twice > 0 {
		b.Errorf("the ledger holds %d rows (%d instances twice), want %d: one per crash not dropped", len(rows), twice, want)
	}
	if writeErrors > 0 {
		b.Errorf("%.0f ledger write errors", writeErrors)
	}
	if len(evs) > requestsPerCapture*n {
		b.Errorf("%d capture requests for %d captures, want at most %d each", len(evs), n, requestsPerCapture)
	}
	if limit := requestsPerCapture * (documentedRate + documentedBurst); peak > limit {
		b.Errorf("the busiest second had %d capture requests, want at most %d (a full burst and a second's rate)", peak, limit)
	}
}
