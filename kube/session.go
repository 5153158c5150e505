package kube

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes"
)

// Session is one connected cluster: the client every call of a command
// shares, what it talks to, and what it may watch.
type Session struct {
	Client kubernetes.Interface
	Target Target
	// Scope is set by ResolveScope; commands that look at one pod (explain)
	// do not need it.
	Scope Scope
}

// Connect resolves the cluster flags, checks that the server answers
// (within --request-timeout, or DefaultProbeTimeout), and returns a session
// with one client for every later call. Its errors are one line naming the
// server or context.
func Connect(ctx context.Context, f *Flags, version string) (*Session, error) {
	rc, t, err := f.Resolve()
	if err != nil {
		return nil, err
	}
	rc.UserAgent = UserAgent(version)
	if _, err := Probe(ctx, rc, t); err != nil {
		return nil, err
	}
	c, err := NewClientset(rc, version)
	if err != nil {
		return nil, err
	}
	return &Session{Client: c, Target: t}, nil
}

// ResolveScope settles what the session watches (see the package function
// of the same name).
func (s *Session) ResolveScope(ctx context.Context) error {
	scope, err := ResolveScope(ctx, s.Client, s.Target)
	if err != nil {
		return fmt.Errorf("%s: %v", s.Target.Describe(), err)
	}
	s.Scope = scope
	return nil
}
