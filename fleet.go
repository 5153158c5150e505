package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/crashlens/crashlens/kube/clusters"

	"github.com/crashlens/crashlens/crash"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/sanitize"
)

// listFleet is `crashlens list` across several contexts: each connects,
// resolves its scope and syncs on its own, in parallel, within its own
// bound, so a cluster that is down, slow or forbidden costs one line on
// stderr and never hides the others. The groups of all of them are one
// list, sorted by urgency, each with its cluster. It fails only when every
// context failed.
func listFleet(ctx context.Context, flags *clusters.Flags, names []string, output string, failOnCrash bool, stdout, stderr io.Writer) error {
	type result struct {
		name   string
		s      *clusters.Session
		groups []crash.Group
		err    error
	}
	results := make([]result, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			r := result{name: name}
			f := flags.ForContext(name)
			if r.s, r.err = clusters.Connect(ctx, f, version); r.err == nil {
				if r.err = r.s.ResolveScope(ctx); r.err == nil {
					r.groups, r.err = clusters.Snapshot(ctx, r.s, f.Selector, timeoutOr(f, listSyncTimeout))
				}
			}
			results[i] = r
		})
	}
	wg.Wait()
	var groups []crash.Group
	failed := 0
	for _, r := range results {
		if r.err != nil {
			failed++
			fmt.Fprintf(stderr, "crashlens: context %s: %s\n", sanitize.Line(r.name), sanitize.Line(r.err.Error()))
			continue
		}
		if r.s.Scope.Note != "" {
			fmt.Fprintf(stderr, "crashlens: context %s: %s\n", sanitize.Line(r.name), r.s.Scope.Note)
		}
		for _, g := range r.groups {
			g.Key = r.name + "\x00" + g.Key // keys are unique per cluster only
			groups = append(groups, g)
		}
	}
	if failed == len(names) {
		return fmt.Errorf("none of the %d contexts answered", len(names))
	}
	firstErrors := func() map[string]string {
		out := map[string]string{}
		for _, r := range results {
			if r.err != nil {
				continue
			}
			var own []crash.Group
			for _, g := range groups {
				if g.Cluster == r.name {
					own = append(own, g)
				}
			}
			maps.Copy(out, kube.FirstLogErrors(ctx, r.s.Client, own))
		}
		return out
	}
	o := listOutput{format: output, clusters: true, failOnCrash: failOnCrash, empty: fmt.Sprintf("%d contexts", len(names)-failed)}
	return printGroups(o, groups, firstErrors, stdout, stderr)
}
