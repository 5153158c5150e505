package capture

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/crashlens/crashlens/kube/clusters"

	"github.com/crashlens/crashlens/kube"

	"github.com/crashlens/crashlens/crash"

	"golang.org/x/time/rate"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/sanitize"
)

// The capture's request budget: a capture is three requests (the pod, its
// events, the instance's log), at most captureRate captures a second with
// bursts of captureBurst, by captureWorkers workers. So a cluster of 500
// crash-looping pods costs the apiserver at most 3 x captureRate requests a
// second, whatever they do; captures past a full queue are dropped and
// counted, never queued without bound.
const (
	captureRate    = 4
	captureBurst   = 8
	captureWorkers = 2
	captureQueue   = 512
	// captureTimeout bounds one capture's three requests.
	captureTimeout = 10 * time.Second
	// captureSeen: how many terminations are remembered for deduplication.
	captureSeen = 20000
	// captureSettle: a capture waits this long after the termination, so
	// the kubelet's events about it (the Killing, the last Unhealthy) have
	// reached the apiserver and the killer is judged as the detail would.
	// The kubelet waits at least 10 s before a restart that could replace
	// the previous log.
	captureSettle = 2 * time.Second
)

// Recorder captures every termination the watcher's batches show, with
// what it leaves behind: the instance's log tail and the pod's events,
// fetched at once, before the next restart overwrites the one previous log
// the kubelet keeps. What the rulebook makes of a capture refines the list's
// CAUSE (refine.go) whether or not there is a ledger; writing the capture to
// the crash ledger is one consumer of it, done when there is one.
type Recorder struct {
	client  kubernetes.Interface
	ledger  *ledger.Ledger
	target  clusters.Target
	warn    io.Writer // one line per lasting problem
	hooks   Hooks
	limiter *rate.Limiter
	queue   chan captureJob

	mu       sync.Mutex
	seen     map[string]bool
	dropped  int
	requests int
	noted    map[string]bool
	refused  map[string]error  // "pods/log ns" -> the forbidden error
	causes   map[string]string // group key -> the cause its last capture found
	lastNote string            // the newest lasting problem, for the status bar
	changed  chan struct{}     // a cause or the note changed (Pass re-sends)
}

// Hooks let a consumer count what the capture does (the in-cluster
// recorder's metrics); nil fields are skipped. They are called from the
// capture's workers and must not block.
type Hooks struct {
	// Captured is called once per capture: its row, how long after the
	// termination it was read (the capture's latency), and the ledger's
	// write error (nil when written, or when there is no ledger).
	Captured func(row ledger.Crash, latency time.Duration, writeErr error)
	// Dropped is called for each termination a full queue dropped.
	Dropped func()
}

// SetHooks sets the hooks; call it before Run.
func (r *Recorder) SetHooks(h Hooks) { r.hooks = h }

type captureJob struct {
	namespace, pod, uid, container, workload string
	group                                    string    // the crash group's key when it was seen
	ready                                    time.Time // not before: the termination's events settle
	// seen is the exit as the watcher saw it, kept for a whole-pod restart
	// (instance is its restart count): the kubelet replaces it with a
	// placeholder seconds later, before the capture's Get may come.
	seen     *corev1.ContainerStateTerminated
	instance int32
	observed time.Time // when the watcher saw it
}

// errRemovedInstance: the log of an instance a whole-pod restart removed.
var errRemovedInstance = fmt.Errorf("%w: the kubelet removed the container when a RestartAllContainers rule restarted the pod, and the API does not serve a removed instance's log", kube.ErrLogsGone)

// NewRecorder captures what the client's watcher shows and records it into
// l, or only refines CAUSE when l is nil (--no-ledger, a state directory
// that cannot hold one); warn gets one line per lasting problem (no
// pods/log permission, a broken ledger).
func NewRecorder(c kubernetes.Interface, l *ledger.Ledger, t clusters.Target, warn io.Writer) *Recorder {
	return &Recorder{client: c, ledger: l, target: t, warn: warn, limiter: rate.NewLimiter(captureRate, captureBurst),
		queue: make(chan captureJob, captureQueue), seen: map[string]bool{}, noted: map[string]bool{}, refused: map[string]error{},
		causes: map[string]string{}, changed: make(chan struct{}, 1)}
}

// Run captures until ctx ends.
func (r *Recorder) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range captureWorkers {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case j := <-r.queue:
					// Jobs come in the order they were seen, so waiting for
					// the head's settle time costs nothing in steady state.
					if !sleepUntil(ctx, j.ready) || r.limiter.Wait(ctx) != nil {
						return
					}
					r.capture(ctx, j)
				}
			}
		})
	}
	wg.Wait()
}

// Observe queues every termination of a batch not seen before; it never
// blocks (the caller is the watcher's consumer).
func (r *Recorder) Observe(b crash.Batch) {
	for _, g := range b.Upserted {
		for _, p := range g.Pods {
			wholePod := p.Reason == diagnose.ReasonWholePodRestart
			// A whole-pod restart's exit shows for seconds, then only the
			// kubelet's placeholder (no exit, no times) is left: an
			// instance is known by its restart count, so that one the
			// watcher missed (a reconnect, a recorder restart) still gets
			// its row, and one it saw is not asked for twice.
			placeholder := wholePod && p.ExitCode < 0 && p.LastFinish.IsZero()
			if p.LastFinish.IsZero() && !placeholder {
				continue // never terminated: nothing to record
			}
			var key string
			switch {
			case placeholder: // the last instance ended
				key = fmt.Sprintf("%s/%s/#%d", p.UID, p.Container, max(p.Restarts-1, 0))
			case wholePod: // the exit shows: the current instance ended
				key = fmt.Sprintf("%s/%s/#%d", p.UID, p.Container, p.Restarts)
			default:
				key = fmt.Sprintf("%s/%s/%d", p.UID, p.Container, p.LastFinish.UnixMilli())
			}
			r.mu.Lock()
			if r.seen[key] {
				r.mu.Unlock()
				continue
			}
			if len(r.seen) >= captureSeen {
				r.seen = map[string]bool{} // the ledger's key catches a repeat
			}
			r.seen[key] = true
			r.mu.Unlock()
			// A node clock ahead of ours must not hold a capture back.
			now := time.Now()
			ready := p.LastFinish
			if ready.IsZero() || ready.After(now) {
				ready = now
			}
			ready = ready.Add(captureSettle)
			job := captureJob{namespace: p.Namespace, pod: p.Name, uid: p.UID, container: p.Container, workload: p.Owner,
				group: g.Key, ready: ready, observed: now}
			if wholePod && !placeholder {
				job.seen, job.instance = &corev1.ContainerStateTerminated{ExitCode: p.ExitCode, Reason: "Error", Message: p.Message,
					StartedAt: metav1.NewTime(p.LastStart), FinishedAt: metav1.NewTime(p.LastFinish)}, p.Restarts
			}
			select {
			case r.queue <- job:
			default:
				r.mu.Lock()
				r.dropped++
				r.mu.Unlock()
				if r.hooks.Dropped != nil {
					r.hooks.Dropped()
				}
			}
		}
	}
}

// sleepUntil waits until t or the end of ctx, and says whether t came.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Stats says how many requests the captures made and how many terminations
// a full queue dropped.
func (r *Recorder) Stats() (requests, dropped int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests, r.dropped
}

func (r *Recorder) count(n int) {
	r.mu.Lock()
	r.requests += n
	r.mu.Unlock()
}

// forbidden is the remembered refusal of what in namespace, if any.
func (r *Recorder) forbidden(what, namespace string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused[what+" "+namespace]
}

// remember keeps a refusal (only a forbidden one lasts).
func (r *Recorder) remember(what, namespace string, err error) {
	if errors.Is(err, kube.ErrForbidden) {
		r.mu.Lock()
		r.refused[what+" "+namespace] = err
		r.mu.Unlock()
	}
}

// note writes a lasting problem once.
func (r *Recorder) note(key, line string) {
	r.mu.Lock()
	first := !r.noted[key]
	r.noted[key] = true
	if first {
		r.lastNote = line
	}
	r.mu.Unlock()
	if !first {
		return
	}
	r.signal()
	if r.warn != nil {
		fmt.Fprintf(r.warn, "crashlens: %s\n", line)
	}
}

// capture fetches one termination's pod, log and events and records it.
func (r *Recorder) capture(ctx context.Context, j captureJob) {
	ctx, cancel := context.WithTimeout(ctx, captureTimeout)
	defer cancel()
	r.count(1)
	pod, err := r.client.CoreV1().Pods(j.namespace).Get(ctx, j.pod, metav1.GetOptions{})
	if err != nil || string(pod.UID) != j.uid {
		return // gone or replaced: its successor has its own terminations
	}
	c, ok := terminationOf(pod, j.container)
	if !ok {
		return
	}
	removed := diagnose.IsWholePodPlaceholder(c.term)
	if removed && j.seen != nil {
		// The pod as the watcher saw it in the seconds the exit showed.
		pod = withTermination(pod, j.container, j.seen, j.instance)
		c = termination{term: j.seen, instance: j.instance, current: true}
	}
	// The instance that ended: the current one while the kubelet shows it
	// terminated (then its log is the current one), else the last one
	// (then it is --previous).
	// A forbidden answer lasts: after the first, that part is not asked
	// again in the namespace, so a restricted user's captures cost one
	// request, not three.
	var raw []byte
	logErr := r.forbidden("pods/log", j.namespace)
	if removed {
		logErr = errRemovedInstance
	}
	if logErr == nil {
		r.count(1)
		if raw, logErr = kube.InstanceLog(ctx, r.client, j.namespace, j.pod, j.container, !c.current, ledger.MaxLogLines); logErr != nil {
			r.remember("pods/log", j.namespace, logErr)
		}
	}
	var events []corev1.Event
	evErr := r.forbidden("events", j.namespace)
	if evErr == nil {
		r.count(1)
		if events, evErr = kube.Events(ctx, r.client, j.namespace, j.pod, nil); evErr != nil {
			r.remember("events", j.namespace, evErr)
		}
	}
	crash := Row(r.target, Evidence{Pod: pod, Container: j.container, Workload: j.workload, Log: raw, LogErr: logErr, Events: events, EventsErr: evErr, Observed: j.observed})
	if errors.Is(logErr, kube.ErrForbidden) {
		r.note("log-forbidden", "crash capture: "+crash.LogNote+"; crashes are recorded without their logs and CAUSE comes from the status alone")
	}
	var writeErr error
	if r.ledger != nil {
		if _, writeErr = r.ledger.Record(ctx, crash); writeErr != nil && ctx.Err() == nil {
			r.note("ledger-write", sanitize.Line(writeErr.Error())+"; history is not being recorded")
		}
	}
	if r.hooks.Captured != nil {
		r.hooks.Captured(crash, time.Since(crash.FinishedAt), writeErr)
	}
	r.learn(j.group, crash.Cause)
}

// Evidence is what the capture read of one container's latest terminated
// instance: the pod as it was then, its log and events, each with its
// error.
type Evidence struct {
	Pod       *corev1.Pod
	Container string
	Workload  string // the group's owner, e.g. Deployment/api
	Log       []byte
	LogErr    error
	Events    []corev1.Event
	EventsErr error
	// Observed is when the watcher saw the pod: an instance whose end
	// the kubelet no longer shows (a whole-pod restart's placeholder)
	// ended before it.
	Observed time.Time
}

// Row is the ledger row of the evidence's instance: what ended (exit,
// reason, when, how long it ran), the rulebook's verdict on it (killer,
// top finding, CAUSE, first error) and its sanitized log tail and folded
// events. It is pure: the capture and its tests call it alike. The
// diagnosis's clock is the instance's end, so the verdict does not depend
// on when the capture ran.
func Row(t clusters.Target, ev Evidence) ledger.Crash {
	pod := ev.Pod
	c, _ := terminationOf(pod, ev.Container)
	log := sanitize.Text(string(ev.Log))
	crash := ledger.Crash{ClusterServer: t.Server, Context: t.Context, Namespace: pod.Namespace, Workload: ev.Workload,
		Pod: pod.Name, PodUID: string(pod.UID), Container: ev.Container, Restart: c.instance, LogTail: log}
	in := diagnose.Input{Pod: pod, Container: ev.Container, Events: ev.Events, PreviousLog: log}
	if c.term != nil {
		crash.StartedAt, crash.FinishedAt, crash.ExitCode, crash.Reason = c.term.StartedAt.Time, c.term.FinishedAt.Time, c.term.ExitCode, c.term.Reason
		crash.Message = sanitize.Line(c.term.Message)
		in.Now = c.term.FinishedAt.Add(time.Second)
	}
	if !crash.StartedAt.IsZero() && crash.FinishedAt.After(crash.StartedAt) && crash.StartedAt.Unix() > 0 {
		crash.RunSeconds = crash.FinishedAt.Sub(crash.StartedAt).Seconds()
	}
	if ev.LogErr != nil {
		in.PreviousLogErr = ev.LogErr.Error()
		crash.LogNote = sanitize.Line(ev.LogErr.Error())
	}
	if diagnose.IsWholePodPlaceholder(c.term) {
		unseenWholePodExit(&crash, pod, ev)
		in.Now = crash.FinishedAt.Add(time.Second)
	}
	rep := diagnose.Diagnose(in)
	if rep.Exit != nil {
		crash.Killer, crash.Signal = rep.Exit.Killer, rep.Exit.Signal
	}
	if len(rep.Findings) > 0 {
		crash.TopFinding, crash.Category = rep.Findings[0].ID, rep.Findings[0].Category
	}
	crash.Cause = rep.Cause()
	if rep.Log.FirstError != nil {
		crash.FirstError = sanitize.Line(rep.Log.FirstError.Text)
	}
	if ev.EventsErr == nil {
		crash.Events = foldedEvents(rep.Events)
	}
	return crash
}

type termination struct {
	term     *corev1.ContainerStateTerminated
	instance int32 // the restart count the instance ran with
	current  bool  // the container's current state (not its last state)
}

// terminationOf finds the container's latest termination in the pod.
func terminationOf(pod *corev1.Pod, container string) (termination, bool) {
	cs, _ := diagnose.StatusOf(pod, container)
	t, instance, current := diagnose.LastTermination(cs)
	return termination{term: t, instance: instance, current: current}, t != nil
}

// foldedEvents is the ledger's text of a pod's events: one line each,
// newest first, repeats folded, sanitized.
func foldedEvents(events []diagnose.EventSummary) string {
	var b strings.Builder
	for _, e := range events {
		fmt.Fprintf(&b, "%s %s %s %s%s\n", e.Last.UTC().Format(time.RFC3339), e.Type, e.Reason, sanitize.Line(e.Message), e.Repeat())
	}
	return b.String()
}

// withTermination is a copy of the pod whose container shows the
// termination as its current state, with its restart count then.
func withTermination(pod *corev1.Pod, container string, t *corev1.ContainerStateTerminated, restarts int32) *corev1.Pod {
	pod = pod.DeepCopy()
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for i := range list {
			if list[i].Name == container {
				list[i].State = corev1.ContainerState{Terminated: t}
				list[i].RestartCount = restarts
			}
		}
	}
	return pod
}
