package kube

import (
	"errors"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// peekWatch passes a watch's events through, hands each object of the
// initial stream to peek (when not nil) on the way and logs error events.
// What it passes on of a peeked pod is a stub (classifiedStub): the
// reflector keeps every object of the initial stream until its bookmark,
// and a stub there costs a few hundred bytes where the pod cost kilobytes.
type peekWatch struct {
	inner watch.Interface
	out   chan watch.Event
	done  chan struct{}
	once  sync.Once
}

func newPeekWatch(inner watch.Interface, peek func(any)) *peekWatch {
	p := &peekWatch{inner: inner, out: make(chan watch.Event), done: make(chan struct{})}
	go func() {
		defer close(p.out)
		initial := true
		for ev := range inner.ResultChan() {
			switch {
			case ev.Type == watch.Bookmark:
				initial = false
			case ev.Type == watch.Error:
				// The reflector handles it (a 410 Gone means relist) and
				// logs it only at high verbosity: the debug log says why
				// a relist happened.
				if st, ok := ev.Object.(*metav1.Status); ok {
					debugf("watch: error event %d %s: %s", st.Code, st.Reason, oneLine(errors.New(st.Message)))
				}
			case initial && peek != nil && ev.Type == watch.Added:
				peek(ev.Object)
				if pod, ok := ev.Object.(*corev1.Pod); ok {
					ev.Object = classifiedStub(pod)
				}
			}
			select {
			case p.out <- ev:
			case <-p.done:
				return
			}
		}
	}()
	return p
}

// classifiedStub keeps of a pod the watcher has classified what the
// reflector reads (its key and resource version): Replace keeps the entry
// the peek made for it. The reflector takes it because the watcher gives
// the reflector no expected type.
func classifiedStub(pod *corev1.Pod) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID,
		ResourceVersion: pod.ResourceVersion}}
}

func (p *peekWatch) ResultChan() <-chan watch.Event { return p.out }

func (p *peekWatch) Stop() {
	p.once.Do(func() { close(p.done) })
	p.inner.Stop()
}
