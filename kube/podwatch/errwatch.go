package podwatch

import (
	"errors"
	"sync"

	"github.com/crashlens/crashlens/kube"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// errorLoggingWatch passes a watch's events through and logs its error
// events: the reflector handles them (a 410 Gone means relist) and logs
// them only at high verbosity, and the debug log should say why a relist
// happened.
type errorLoggingWatch struct {
	inner watch.Interface
	out   chan watch.Event
	done  chan struct{}
	once  sync.Once
}

func newErrorLoggingWatch(inner watch.Interface) *errorLoggingWatch {
	p := &errorLoggingWatch{inner: inner, out: make(chan watch.Event), done: make(chan struct{})}
	go func() {
		defer close(p.out)
		for ev := range inner.ResultChan() {
			if ev.Type == watch.Error {
				if st, ok := ev.Object.(*metav1.Status); ok {
					kube.Debugf("watch: error event %d %s: %s", st.Code, st.Reason, kube.OneLine(errors.New(st.Message)))
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
// the list's upsert made for it, and a stub costs a few hundred bytes
// where the pod cost kilobytes.
func classifiedStub(pod *corev1.Pod) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID,
		ResourceVersion: pod.ResourceVersion}}
}

func (p *errorLoggingWatch) ResultChan() <-chan watch.Event { return p.out }

func (p *errorLoggingWatch) Stop() {
	p.once.Do(func() { close(p.done) })
	p.inner.Stop()
}
