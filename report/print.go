package report

import (
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// ListOptions is how `crashlens list` prints its groups.
type ListOptions struct {
	Format   string // table, wide or json
	Clusters bool   // several contexts: the table leads with CLUSTER
	Empty    string // where nothing crashes, for the one line that says so
}

// PrintList prints the groups of `crashlens list`, most urgent first, in
// color only on a terminal; firstErrors (asked only for -o wide) reads
// each group's first log error.
func PrintList(o ListOptions, groups []crash.Group, firstErrors func() map[string]string, stdout, stderr io.Writer) error {
	SortByUrgency(groups)
	now := time.Now()
	switch o.Format {
	case "json":
		return ListJSON(stdout, groups)
	case "wide":
		return Table(stdout, groups, true, o.Clusters, firstErrors(), theme.ForTerminal(IsTerminal(stdout)), now)
	}
	if len(groups) == 0 {
		fmt.Fprintf(stderr, "no crashing pods in %s\n", o.Empty)
		return nil
	}
	return Table(stdout, groups, false, o.Clusters, nil, theme.ForTerminal(IsTerminal(stdout)), now)
}

// IsTerminal says whether w is a terminal (colour and widths follow it).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Watch is `list --watch`'s output: a JSON line per group change until the
// batches end, each changed group handed to observe (the alerter) when it
// is given.
// Changes of the connection (reconnecting, relisting, synced again) go to
// stderr, one line each and named by cluster in a fleet, so a script's
// reader knows when the stream is stale.
func Watch(batches <-chan crash.Batch, fleet bool, stdout, stderr io.Writer, observe func(crash.Group)) error {
	view, out := crash.NewView(), NewWatchJSON(stdout)
	phases := map[string]string{} // each cluster's last phase
	for b := range batches {
		if b.State.Phase != phases[b.Cluster] {
			which := ""
			if fleet {
				which = sanitize.Line(b.Cluster) + ": "
			}
			fmt.Fprintf(stderr, "crashlens: watch %s%s\n", which, sanitize.Line(b.State.String()))
			phases[b.Cluster] = b.State.Phase
		}
		ch := view.Apply(b)
		if observe != nil {
			for _, u := range ch.Upserted {
				observe(u.Group)
			}
		}
		if err := out.Write(b.At, ch); err != nil {
			return err
		}
	}
	return nil
}
