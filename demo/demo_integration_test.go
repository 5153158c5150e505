//go:build integration

package demo_test

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/hack/clustertest"
)

// scenarioWait bounds the wait for the whole catalogue; with a 10 s back-off
// cap the slowest (seed 01: a 15 s liveness budget plus a 30 s grace period
// per kill) gets there in about a minute.
const scenarioWait = 4 * time.Minute

// TestCatalogueReachesDeclaredStates applies every scenario to the real
// cluster and waits until each shows what it declares: the right reason,
// exit code, events and log line, or healthy for the healthy ones.
func TestCatalogueReachesDeclaredStates(t *testing.T) {
	clustertest.Kubeconfig(t, "admin") // fails, never skips, without the cluster
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	o := demo.Options{Root: root, BackoffCap: "10s", Fast: true, Progress: testWriter{t}}
	if _, err := demo.Up(ctx, o); err != nil {
		t.Fatal(err)
	}
	cs := clustertest.AdminClientset(t)
	pending := demo.Wait(ctx, cs, demo.Catalogue, scenarioWait, testWriter{t})
	names := make([]string, 0, len(pending))
	for n := range pending {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		t.Errorf("scenario %s did not reach its declared state within %s: %s", n, scenarioWait, strings.Join(pending[n], "; "))
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
