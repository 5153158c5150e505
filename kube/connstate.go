package kube

// The watcher's connection to the API server: its phases, how a list's or
// a watch's outcome moves them, and the line the status bar shows.

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Connection phases of the watcher.
const (
	PhaseSyncing      = "syncing"
	PhaseSynced       = "synced"
	PhaseRelisting    = "relisting"
	PhaseReconnecting = "reconnecting"
	PhaseForbidden    = "forbidden"
	// PhaseUnauthorized: the server rejected the credentials.
	PhaseUnauthorized = "unauthorized"
	// PhaseConnecting: a fleet's cluster before its first answer (Fleet).
	PhaseConnecting = "connecting"
)

// ConnState is the watcher's connection to the API server.
type ConnState struct {
	Phase     string
	Namespace string // for forbidden: the scope that was refused ("" cluster-wide)
	Verb      string
	Err       string // one line, for reconnecting and forbidden
	Since     time.Time
}

func (w *Watcher) setState(s ConnState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s.Phase == w.state.Phase && s.Err == w.state.Err {
		return
	}
	s.Since = w.now()
	w.state, w.stateNew = s, true
	w.kick()
	debugf("watcher: %s", s)
}

// phase is the connection phase, and whether the first sync is still
// under way (nothing listed yet).
func (w *Watcher) phase() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state.Phase, len(w.pods) == 0 && w.state.Phase == PhaseSyncing
}

// listing: the reflector starts a (re)list. While the server is away it
// stays "reconnecting" until an answer comes (see watching and Replace).
func (w *Watcher) listing() {
	phase, first := w.phase()
	if first || refused(phase) {
		return
	}
	w.setState(ConnState{Phase: PhaseRelisting})
}

// watching: the server answered a watch, which resumes where the last
// list or watch left off.
func (w *Watcher) watching() {
	if phase, _ := w.phase(); refused(phase) {
		w.setState(ConnState{Phase: PhaseSynced})
	}
}

// refused: the phase says the server is away or said no; it lasts until
// the server answers (a retry's list or watch is not news).
func refused(phase string) bool {
	return phase == PhaseReconnecting || phase == PhaseForbidden || phase == PhaseUnauthorized
}

func (w *Watcher) failed(verb string, err error) {
	if errors.Is(err, context.Canceled) {
		return
	}
	if apierrors.IsForbidden(err) {
		w.setState(ConnState{Phase: PhaseForbidden, Namespace: w.namespace, Verb: verb, Err: oneLine(err)})
		return
	}
	if apierrors.IsUnauthorized(err) {
		// The reflector backs off on its own (up to 30 s): no tight loop.
		w.setState(ConnState{Phase: PhaseUnauthorized, Verb: verb, Err: oneLine(err)})
		return
	}
	// A url.Error quotes the whole watch URL; the status bar wants the cause.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	w.setState(ConnState{Phase: PhaseReconnecting, Verb: verb, Err: oneLine(err)})
}

// String is the state as the status bar says it.
func (s ConnState) String() string {
	switch s.Phase {
	case PhaseForbidden:
		scope := "cluster-wide"
		if s.Namespace != "" {
			scope = "in namespace " + s.Namespace
		}
		return fmt.Sprintf("forbidden to %s pods %s", s.Verb, scope)
	case PhaseReconnecting:
		return "reconnecting: " + s.Err
	case PhaseUnauthorized:
		if strings.Contains(s.Err, "rejected the credentials") {
			return s.Err
		}
		return "credentials rejected (Unauthorized): log in again or refresh the token"
	}
	return s.Phase
}
