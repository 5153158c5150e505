package clusters

import (
	"context"
	"fmt"
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
