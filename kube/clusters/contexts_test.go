package clusters

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fleetKubeconfig = `apiVersion: v1
kind: Config
clusters:
- {name: eu, cluster: {server: "https://127.0.0.1:1"}}
- {name: us, cluster: {server: "https://127.0.0.1:2"}}
users:
- {name: me, user: {token: x}}
contexts:
- {name: prod-eu, context: {cluster: eu, user: me, namespace: shop}}
- {name: prod-us, context: {cluster: us, user: me}}
- {name: staging, context: {cluster: eu, user: me}}
current-context: staging
`

// TestContexts: --context takes one name (the usual single context), a
// comma-separated list, globs, or --all-contexts; a selection that matches
// nothing is one clear error; each context's flags resolve to its own
// cluster and namespace, and a single-context command refuses several.
func TestContexts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path, []byte(fleetKubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		context string
		all     bool
		want    []string
		err     string
	}{
		{"", false, nil, ""},
		{"prod-eu", false, nil, ""},
		{"prod-eu,staging", false, []string{"prod-eu", "staging"}, ""},
		{"prod-*", false, []string{"prod-eu", "prod-us"}, ""},
		{"prod-*, staging", false, []string{"prod-eu", "prod-us", "staging"}, ""},
		{"", true, []string{"prod-eu", "prod-us", "staging"}, ""},
		{"dev-*", false, nil, `matches "dev-*"`},
	} {
		f := NewFlags()
		f.Config.KubeConfig, f.Config.Context, f.AllContexts = &path, &tc.context, tc.all
		got, err := f.Contexts()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("--context %q: error %v, want one saying %q", tc.context, err, tc.err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("--context %q --all-contexts=%v: %v %v, want %v", tc.context, tc.all, got, err, tc.want)
		}
		if got != nil {
			if _, _, err := f.Resolve(); err == nil || !strings.Contains(err.Error(), "this command looks at one cluster") {
				t.Errorf("--context %q: a single-context command resolved: %v", tc.context, err)
			}
		}
	}
	f := NewFlags()
	all := "prod-*"
	f.Config.KubeConfig, f.Config.Context = &path, &all
	for _, tc := range []struct{ name, server, ns string }{{"prod-eu", "https://127.0.0.1:1", "shop"}, {"prod-us", "https://127.0.0.1:2", "default"}} {
		cfg, target, err := f.ForContext(tc.name).Resolve()
		if err != nil || cfg.Host != tc.server || target.Context != tc.name || target.ContextNamespace != tc.ns {
			t.Errorf("%s: host %v, target %+v, %v", tc.name, cfg, target, err)
		}
	}
}
