package crash

import (
	"fmt"
	"strings"
	"time"
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
