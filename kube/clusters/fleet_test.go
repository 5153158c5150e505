package clusters

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crashlens/crashlens/crash"
)

func TestShortClusterNames(t *testing.T) {
	for _, tc := range []struct {
		names []string
		want  map[string]string
	}{
		{[]string{"prod-eu", "staging"}, map[string]string{"prod-eu": "prod-eu", "staging": "staging"}},
		{[]string{"arn:aws:eks:eu-west-1:1234:cluster/prod-eu", "arn:aws:eks:us-east-1:1234:cluster/prod-us"},
			map[string]string{"arn:aws:eks:eu-west-1:1234:cluster/prod-eu": "prod-eu", "arn:aws:eks:us-east-1:1234:cluster/prod-us": "prod-us"}},
		{[]string{"gke_shop_europe-west1_prod", "gke_shop_us-east1_edge"},
			map[string]string{"gke_shop_europe-west1_prod": "prod", "gke_shop_us-east1_edge": "edge"}},
		// Two would read the same: both keep their whole names.
		{[]string{"eu/admin", "us/admin", "dev"}, map[string]string{"eu/admin": "eu/admin", "us/admin": "us/admin", "dev": "dev"}},
		// A short name that is another context's whole name is ambiguous too.
		{[]string{"x/dev", "dev"}, map[string]string{"x/dev": "x/dev", "dev": "dev"}},
	} {
		got := crash.ShortClusterNames(tc.names)
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %v, want %v", tc.names, got, tc.want)
		}
	}
}

// TestTagBatchCopies: the fleet's keys are unique across clusters, and the
// batch the watcher still reads keeps its own keys.
func TestTagBatchCopies(t *testing.T) {
	b := crash.Batch{Upserted: []crash.Group{{Key: "shop/deploy/api/app"}}, Removed: []string{"shop/deploy/old/app"}}
	got := crash.TagBatch("prod-eu", b)
	if got.Cluster != "prod-eu" || got.Upserted[0].Key != crash.FleetKey("prod-eu", "shop/deploy/api/app") || got.Upserted[0].Cluster != "prod-eu" ||
		got.Removed[0] != crash.FleetKey("prod-eu", "shop/deploy/old/app") {
		t.Errorf("tagged: %+v", got)
	}
	if b.Upserted[0].Key != "shop/deploy/api/app" || b.Removed[0] != "shop/deploy/old/app" || b.Upserted[0].Cluster != "" {
		t.Errorf("the watcher's batch changed: %+v", b)
	}
}

// TestFleetIsolation: a fleet of a refused cluster and one that rejects
// the credentials says so for each, at once and on its own; the refused
// one is retried with a growing wait, the rejected one not again within
// minutes (a narrow test: a local HTTP server answers 401, no apiserver).
func TestFleetIsolation(t *testing.T) {
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`)
	}))
	defer srv.Close()
	cfg := strings.NewReplacer("https://127.0.0.1:2", srv.URL).Replace(fleetKubeconfig)
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	f := NewFlags()
	f.Config.KubeConfig = &path
	fl := NewFleet(f, []string{"prod-eu", "prod-us"}, "test")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	go fl.Run(ctx, nil)
	seen := map[string][]string{}
	for b := range fl.Batches() {
		seen[b.Cluster] = append(seen[b.Cluster], b.State.Phase)
		if b.State.Phase == crash.PhaseUnauthorized && !strings.Contains(b.State.String(), "rejected the credentials") {
			t.Errorf("prod-us: %q does not say the credentials were rejected", b.State)
		}
		if b.State.Phase == crash.PhaseReconnecting && !strings.Contains(b.State.Err, "connection refused") {
			t.Errorf("prod-eu: %q does not say the connection was refused", b.State.Err)
		}
	}
	// prod-eu: connecting, refused, and tried again (after 1 s, then 2 s).
	if got := strings.Join(seen["prod-eu"], ","); !strings.HasPrefix(got, "connecting,reconnecting,connecting,reconnecting") {
		t.Errorf("prod-eu went %s", got)
	}
	if got := strings.Join(seen["prod-us"], ","); got != "connecting,unauthorized" {
		t.Errorf("prod-us went %s, want connecting,unauthorized (and no retry within minutes)", got)
	}
	if n := asked.Load(); n != 1 {
		t.Errorf("the server rejecting the credentials was asked %d times, want once", n)
	}
	for _, name := range []string{"prod-eu", "prod-us"} {
		if _, _, err := fl.Client(name); err == nil || !strings.Contains(err.Error(), "not connected") {
			t.Errorf("%s never connected, yet its client is %v", name, err)
		}
	}
}

func TestJoinNotes(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"", ""}, ""},
		{[]string{"scope note", ""}, "scope note"},
		{[]string{"", "batch note"}, "batch note"},
		{[]string{"a", "", "b"}, "a · b"},
	} {
		if got := crash.JoinNotes(tc.in...); got != tc.want {
			t.Errorf("JoinNotes(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
