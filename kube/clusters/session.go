package clusters

import (
	"context"
	"fmt"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/kube/podwatch"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Session is one connected cluster: the client every call of a command
// shares, what it talks to, and what it may watch.
type Session struct {
	Client kubernetes.Interface
	// Config is the client's configuration, for the watcher's own client
	// (nil in tests that hand a session a fake clientset).
	Config *rest.Config
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
	rc.UserAgent = kube.UserAgent(version)
	if _, err := Probe(ctx, rc, t); err != nil {
		return nil, err
	}
	cfg := kube.ClientConfig(rc, version)
	c, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Session{Client: c, Config: cfg, Target: t}, nil
}

// Watcher watches the session's scope: through the slim decoder when the
// session has a config, else through its clientset.
func (s *Session) Watcher(selector string) (*podwatch.Watcher, error) {
	w := podwatch.NewWatcher(s.Client, s.Scope.Namespace, selector)
	if s.Config != nil {
		var err error
		if w, err = podwatch.NewSlimWatcher(s.Config, s.Scope.Namespace, selector); err != nil {
			return nil, err
		}
	}
	w.SetCluster(s.Target.Context)
	return w, nil
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

// CaptureClient is a client for the crash capture: the session's
// credentials with a User-Agent of its own ("crashlens/VERSION capture"), so
// an audit log tells the capture's requests from the screen's. The
// session's client when it has no config (tests with a fake clientset).
func (s *Session) CaptureClient() kubernetes.Interface {
	if s.Config == nil {
		return s.Client
	}
	c := rest.CopyConfig(s.Config)
	c.UserAgent += CaptureAgentSuffix
	cs, err := kubernetes.NewForConfig(c)
	if err != nil {
		return s.Client
	}
	return cs
}

// CaptureAgentSuffix ends the capture client's User-Agent.
const CaptureAgentSuffix = " capture"
