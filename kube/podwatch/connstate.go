package podwatch

// The watcher's connection to the API server: its phases, how a list's or
// a watch's outcome moves them, and the line the status bar shows.

import (
	"context"
	"errors"
	"net/url"

	"github.com/crashlens/crashlens/kube"

	"github.com/crashlens/crashlens/crash"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

func (w *Watcher) setState(s crash.ConnState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.Phase == w.state.Phase && s.Err == w.state.Err {
		return
	}
	s.Since = w.now()
	w.state, w.stateNew = s, true
	w.kick()
	kube.Debugf("watcher: %s", s)
}

// phase is the connection phase, and whether the first sync is still
// under way (nothing listed yet).
func (w *Watcher) phase() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state.Phase, len(w.pods) == 0 && w.state.Phase == crash.PhaseSyncing
}

// listing: the reflector starts a (re)list. While the server is away it
// stays "reconnecting" until an answer comes (see watching and Replace).
func (w *Watcher) listing() {
	phase, first := w.phase()
	if first || refused(phase) {
		return
	}
	w.setState(crash.ConnState{Phase: crash.PhaseRelisting})
}

// watching: the server answered a watch, which resumes where the last
// list or watch left off.
func (w *Watcher) watching() {
	if phase, _ := w.phase(); refused(phase) {
		w.setState(crash.ConnState{Phase: crash.PhaseSynced})
	}
}

// refused: the phase says the server is away or said no; it lasts until
// the server answers (a retry's list or watch is not news).
func refused(phase string) bool {
	return phase == crash.PhaseReconnecting || phase == crash.PhaseForbidden || phase == crash.PhaseUnauthorized
}

func (w *Watcher) failed(verb string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if apierrors.IsForbidden(err) {
		w.setState(crash.ConnState{Phase: crash.PhaseForbidden, Namespace: w.namespace, Verb: verb, Err: kube.OneLine(err)})
		return
	}
	if apierrors.IsUnauthorized(err) {
		// The reflector backs off on its own (up to 30 s): no tight loop.
		w.setState(crash.ConnState{Phase: crash.PhaseUnauthorized, Verb: verb, Err: kube.OneLine(err)})
		return
	}
	// A url.Error quotes the whole watch URL; the status bar wants the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	w.setState(crash.ConnState{Phase: crash.PhaseReconnecting, Verb: verb, Err: kube.OneLine(err)})
}
