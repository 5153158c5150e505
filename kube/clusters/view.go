package clusters

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/crashlens/crashlens/crash"
)

// Snapshot runs a watcher until its first full view and returns it: the
// groups of `crashlens list`.
func Snapshot(ctx context.Context, s *Session, selector string, timeout time.Duration) ([]crash.Group, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	w, err := s.Watcher(selector)
	if err != nil {
		return nil, err
	}
	go w.Run(ctx)
	view := crash.NewView()
	for b := range w.Batches() {
		view.Apply(b)
		switch b.State.Phase {
		case crash.PhaseSynced:
			return view.Groups(), nil
		case crash.PhaseForbidden:
			return nil, fmt.Errorf("%s: %s", s.Target.Describe(), b.State)
		}
	}
	return nil, fmt.Errorf("%s: no full pod list within %s", s.Target.Describe(), timeout)
}

// Listed is one context's answer to a one-shot list (List).
type Listed struct {
	Name    string
	Session *Session // nil when Err is set
	Groups  []crash.Group
	Err     error
}

// List is the crash groups of what the flags select, each context's within
// its own bound (--request-timeout, or timeout). One context answers or is
// the error, in one line; several connect, resolve their scope and sync in
// parallel, so a cluster that is down, slow or forbidden costs its own
// entry (Err) and never hides the others, and their group keys are made
// unique across them (crash.FleetKey). single says the flags selected one;
// its entry is returned with its error.
func List(ctx context.Context, f *Flags, version string, timeout time.Duration) (out []Listed, single bool, err error) {
	names, err := f.Contexts()
	if err != nil {
		return nil, false, err
	}
	if names == nil {
		l := listOne(ctx, f, version, timeout)
		return []Listed{l}, true, l.Err
	}
	out = make([]Listed, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			out[i] = listOne(ctx, f.ForContext(name), version, timeout)
			out[i].Name = name
			for j := range out[i].Groups {
				out[i].Groups[j].Key = crash.FleetKey(name, out[i].Groups[j].Key)
			}
		})
	}
	wg.Wait()
	return out, false, nil
}

func listOne(ctx context.Context, f *Flags, version string, timeout time.Duration) Listed {
	s, err := Connect(ctx, f, version)
	if err == nil {
		err = s.ResolveScope(ctx)
	}
	if err != nil {
		return Listed{Err: err}
	}
	// A failed sync keeps the session: its scope note is still news.
	groups, err := Snapshot(ctx, s, f.Selector, f.TimeoutOr(timeout))
	return Listed{Name: s.Target.Context, Session: s, Groups: groups, Err: err}
}
