package kube

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/diagnose"
)

// Bounds on what one detail call reads: events and logs are untrusted and
// can be huge.
const (
	MaxEventsPerObject = 200
	LogTailLines       = 500
	LogLimitBytes      = 256 << 10
	MaxLogLineBytes    = 8 << 10
)

// Log errors a caller can tell apart.
var (
	ErrNoPreviousLog = errors.New("no previous instance: the container has not restarted since it was created")
	ErrLogsGone      = errors.New("the previous instance's logs are gone (the kubelet keeps only the latest dead container)")
	ErrForbidden     = errors.New("forbidden")
)

// ForbiddenError says which verb on which resource the user may not use.
type ForbiddenError struct {
	Verb, Resource, Namespace string
}

func (e *ForbiddenError) Error() string {
	return fmt.Sprintf("forbidden: you may not %s %s in namespace %s", e.Verb, e.Resource, e.Namespace)
}

func (e *ForbiddenError) Is(target error) bool { return target == ErrForbidden }

// Events returns the events of the pod and of the objects in owners
// (Kind/Name), newest first, at most MaxEventsPerObject per object. It reads
// core/v1 events and falls back to events.k8s.io/v1 when one API is
// forbidden.
func Events(ctx context.Context, c kubernetes.Interface, namespace, podName string, owners []string) ([]corev1.Event, error) {
	objects := append([]string{"Pod/" + podName}, owners...)
	var out []corev1.Event
	for _, obj := range objects {
		kind, name, _ := strings.Cut(obj, "/")
		evs, err := objectEvents(ctx, c, namespace, kind, name)
		if err != nil {
			return out, err
		}
		out = append(out, evs...)
	}
	sort.SliceStable(out, func(i, j int) bool {
		_, a := diagnose.EventTimes(&out[i])
		_, b := diagnose.EventTimes(&out[j])
		return a.After(b)
	})
	return out, nil
}

func objectEvents(ctx context.Context, c kubernetes.Interface, namespace, kind, name string) ([]corev1.Event, error) {
	sel := fields.Set{"involvedObject.kind": kind, "involvedObject.name": name}.AsSelector().String()
	l, err := c.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: sel, Limit: MaxEventsPerObject})
	if err == nil {
		return l.Items, nil
	}
	if !apierrors.IsForbidden(err) {
		return nil, err
	}
	// core/v1 forbidden: the same events through events.k8s.io/v1.
	sel2 := fields.Set{"regarding.kind": kind, "regarding.name": name}.AsSelector().String()
	l2, err2 := c.EventsV1().Events(namespace).List(ctx, metav1.ListOptions{FieldSelector: sel2, Limit: MaxEventsPerObject})
	if err2 != nil {
		if apierrors.IsForbidden(err2) {
			return nil, &ForbiddenError{Verb: "list", Resource: "events", Namespace: namespace}
		}
		return nil, err2
	}
	out := make([]corev1.Event, 0, len(l2.Items))
	for i := range l2.Items {
		out = append(out, fromEventsV1(&l2.Items[i]))
	}
	return out, nil
}

func fromEventsV1(e *eventsv1.Event) corev1.Event {
	ev := corev1.Event{
		ObjectMeta: e.ObjectMeta, Reason: e.Reason, Message: e.Note, Type: e.Type,
		InvolvedObject: e.Regarding, EventTime: e.EventTime, Count: max(e.DeprecatedCount, 1),
		FirstTimestamp: e.DeprecatedFirstTimestamp, LastTimestamp: e.DeprecatedLastTimestamp,
	}
	if e.Series != nil {
		ev.Series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return ev
}

// PreviousLog reads the tail of a container's previous log, bounded by
// LogTailLines, LogLimitBytes and MaxLogLineBytes per line. Its errors are
// ErrNoPreviousLog, ErrLogsGone, a *ForbiddenError, or a transport error.
func PreviousLog(ctx context.Context, c kubernetes.Interface, namespace, pod, container string) (string, error) {
	b, err := readLog(ctx, c, namespace, pod, &corev1.PodLogOptions{Container: container, Previous: true}, LogTailLines)
	if err != nil {
		return "", err
	}
	// The kubelet answers 200 with this text when the dead container's log
	// file is gone.
	if bytes.HasPrefix(b, []byte("unable to retrieve container logs")) {
		return "", ErrLogsGone
	}
	return string(b), nil
}

// logEndLines: when a log's tail window is longer than LogLimitBytes, its
// last lines are fetched on their own, because limitBytes counts from the
// start of the window and the crash is at its end.
const logEndLines = 20

// readLog reads the last tailLines lines of a log, bounded by LogLimitBytes
// and MaxLogLineBytes per line, with the API's errors classified. When the
// window holds more than LogLimitBytes (a huge line, a burst), the cut part
// is followed by the last logEndLines lines, so the crash's own last words
// are never what a long line pushed out.
func readLog(ctx context.Context, c kubernetes.Interface, namespace, pod string, opts *corev1.PodLogOptions, tailLines int64) ([]byte, error) {
	b, full, err := readLogWindow(ctx, c, namespace, pod, *opts, tailLines)
	if err != nil || !full || tailLines <= logEndLines {
		return b, err
	}
	// Fewer and fewer lines until a window is whole: 20, 10, 5, 2, 1.
	for n := int64(logEndLines); n >= 1; n /= 2 {
		end, full, err := readLogWindow(ctx, c, namespace, pod, *opts, n)
		if err != nil {
			return b, nil
		}
		if !full || n == 1 {
			if len(b) > 0 && b[len(b)-1] != '\n' {
				b = append(b, '\n')
			}
			what := fmt.Sprintf("the last %d lines", n)
			if n == 1 {
				what = "the last line"
			}
			b = append(b, fmt.Sprintf("[… cut at %d KiB; %s:]\n", LogLimitBytes>>10, what)...)
			return append(b, end...), nil
		}
	}
	return b, nil
}

// readLogWindow reads one window and says whether it filled LogLimitBytes.
func readLogWindow(ctx context.Context, c kubernetes.Interface, namespace, pod string, opts corev1.PodLogOptions, tailLines int64) ([]byte, bool, error) {
	limit := int64(LogLimitBytes)
	opts.TailLines, opts.LimitBytes = &tailLines, &limit
	rc, err := c.CoreV1().Pods(namespace).GetLogs(pod, &opts).Stream(ctx)
	if err != nil {
		return nil, false, classifyLogError(err, namespace)
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: LogLimitBytes}
	b, err := readBoundedLines(lr, LogLimitBytes, MaxLogLineBytes)
	return b, lr.N == 0, err
}

func classifyLogError(err error, namespace string) error {
	msg := err.Error()
	switch {
	case apierrors.IsForbidden(err):
		return &ForbiddenError{Verb: "get", Resource: "pods/log", Namespace: namespace}
	case strings.Contains(msg, "previous terminated container") && strings.Contains(msg, "not found"):
		return ErrNoPreviousLog
	case strings.Contains(msg, "unable to retrieve container logs"), strings.Contains(msg, "No such file"):
		return ErrLogsGone
	}
	return fmt.Errorf("reading logs: %s", oneLine(err))
}

// readBoundedLines reads at most limit bytes, cutting each line at
// maxLine bytes (a 1 MB single line costs at most maxLine).
func readBoundedLines(r io.Reader, limit, maxLine int) ([]byte, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, int64(limit)), 64<<10)
	var out bytes.Buffer
	lineLen := 0
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
		if b == '\n' {
			lineLen = 0
			out.WriteByte(b)
			continue
		}
		if lineLen < maxLine {
			out.WriteByte(b)
		} else if lineLen == maxLine {
			out.WriteString(" [line truncated]")
		}
		lineLen++
	}
}

// FollowLog streams the container's current log, one line per call of emit,
// until ctx is cancelled. When the stream ends (the container restarted or
// the connection dropped) it reconnects, resuming after the last second
// seen, with a pause between attempts.
func FollowLog(ctx context.Context, c kubernetes.Interface, namespace, pod, container string, emit func(line string)) error {
	tail := int64(100)
	var since *metav1.Time
	for ctx.Err() == nil {
		opts := &corev1.PodLogOptions{Container: container, Follow: true, Timestamps: false}
		if since == nil {
			opts.TailLines = &tail
		} else {
			opts.SinceTime = since
		}
		rc, err := c.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
		if err != nil {
			if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
				return classifyLogError(err, namespace)
			}
		} else {
			sc := bufio.NewScanner(rc)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if len(line) > MaxLogLineBytes {
					line = line[:MaxLogLineBytes] + " [line truncated]"
				}
				emit(line)
				now := metav1.Now()
				since = &now
			}
			rc.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	return nil
}

// Owners is a pod's owner chain and, for a Deployment, its ReplicaSets.
type Owners struct {
	Chain       []string // nearest first: ReplicaSet/x, Deployment/y
	Deployment  *appsv1.Deployment
	ReplicaSets []appsv1.ReplicaSet
}

// OwnerChain resolves the pod's owners through the API.
func OwnerChain(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod) (Owners, error) {
	var o Owners
	ref := metav1.GetControllerOf(pod)
	for depth := 0; ref != nil && depth < 4; depth++ {
		o.Chain = append(o.Chain, ref.Kind+"/"+ref.Name)
		var next *metav1.OwnerReference
		switch ref.Kind {
		case "ReplicaSet":
			rs, err := c.AppsV1().ReplicaSets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return o, err
			}
			next = metav1.GetControllerOf(rs)
		case "Deployment":
			d, err := c.AppsV1().Deployments(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return o, err
			}
			o.Deployment = d
			all, err := c.AppsV1().ReplicaSets(pod.Namespace).List(ctx, metav1.ListOptions{})
			if err != nil {
				return o, err
			}
			for _, rs := range all.Items {
				if c := metav1.GetControllerOf(&rs); c != nil && c.UID == d.UID {
					o.ReplicaSets = append(o.ReplicaSets, rs)
				}
			}
		case "Job":
			j, err := c.BatchV1().Jobs(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return o, err
			}
			next = metav1.GetControllerOf(j)
		}
		ref = next
	}
	return o, nil
}

// BackoffCap reads the node's crashLoopBackOff.maxContainerRestartPeriod
// through nodes/proxy/configz; zero (the kubelet default) when it is not
// set or the user may not read it.
func BackoffCap(ctx context.Context, c kubernetes.Interface, node string) time.Duration {
	d, _ := backoffCap(ctx, c, node)
	return d
}

// backoffCap is BackoffCap with the request's error, so a Memo can tell a
// lasting answer (forbidden) from a passing one (a timeout).
func backoffCap(ctx context.Context, c kubernetes.Interface, node string) (time.Duration, error) {
	if node == "" {
		return 0, nil
	}
	raw, err := c.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", node, "proxy", "configz").DoRaw(ctx)
	if err != nil {
		return 0, err
	}
	var cfg struct {
		KubeletConfig struct {
			CrashLoopBackOff struct {
				MaxContainerRestartPeriod string `json:"maxContainerRestartPeriod"`
			} `json:"crashLoopBackOff"`
		} `json:"kubeletconfig"`
	}
	if json.Unmarshal(raw, &cfg) != nil {
		return 0, nil
	}
	d, err := time.ParseDuration(cfg.KubeletConfig.CrashLoopBackOff.MaxContainerRestartPeriod)
	if err != nil {
		return 0, nil // the kubelet's default ceiling applies
	}
	return d, nil
}
