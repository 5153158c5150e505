package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

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
