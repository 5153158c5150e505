package kube

import (
	"errors"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// peekWatch passes a watch's events through, hands each object of the
// initial stream to peek (when not nil) on the way and logs error events.
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

func (p *peekWatch) ResultChan() <-chan watch.Event { return p.out }

func (p *peekWatch) Stop() {
	p.once.Do(func() { close(p.done) })
	p.inner.Stop()
}
