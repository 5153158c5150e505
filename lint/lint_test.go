package lint

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/crashlens/crashlens/diagnose"
)

func ids(rs []Result, object string) []string {
	var out []string
	for _, r := range rs {
		if r.Object == object && r.ID != IDNotWorkload {
			out = append(out, r.ID+":"+r.Severity)
		}
	}
	sort.Strings(out)
	return out
}

// TestDemoManifests: every manifest of the scenario catalogue gets the
// verdict its incident calls for; seed 01's bad Deployment fails and its
// fixed twin passes.
func TestDemoManifests(t *testing.T) {
	rs, err := Linter{}.Paths([]string{filepath.Join("..", "demo", "scenarios")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"Deployment/probe-mixup-bad":  {"probe-liveness-checks-dependencies:error", "probe-liveness-shares-readiness:error"},
		"Deployment/probe-mixup-good": nil,
		"Deployment/greeter":          {"probe-liveness-without-readiness:warning"},
		"Deployment/api":              {"probe-liveness-shares-readiness:warning"}, // seed 05: the same TCP probe twice, no dependency check
		"Deployment/web":              nil,
		"Deployment/search-api":       nil,
		"Deployment/checkoutservice":  nil,
		"Job/nightly-backup":          nil,
		"Deployment/session-cache":    {"probe-liveness-shares-readiness:warning"}, // /healthz twice: only "the process answers"
		"Deployment/kv-store":         {"probe-liveness-shares-readiness:warning"}, // port resp is 6379
	}
	for obj, w := range want {
		if got := ids(rs, obj); strings.Join(got, ",") != strings.Join(w, ",") {
			t.Errorf("%s: %v, want %v", obj, got, w)
		}
	}
	for _, r := range rs {
		if r.Line < 1 || !strings.HasSuffix(r.File, ".yaml") {
			t.Errorf("result without a place: %+v", r)
		}
	}
	bad, _ := Linter{}.Paths([]string{filepath.Join("..", "demo", "scenarios", "01-probe-mixup.yaml")}, nil)
	if !HasErrors(bad) {
		t.Error("seed 01's manifest passes lint")
	}
}

func TestMalformedInput(t *testing.T) {
	tests := []struct {
		name, src, id string
		line          int
	}{
		{"not yaml", "kind: Deployment\n  metadata: [\n", IDUnreadable, 2},
		{"not an object", "- a\n- b\n", IDUnreadable, 1},
		{"a Service", "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n", IDNotWorkload, 1},
		{"pod spec of the wrong type", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: 7\n", IDUnreadable, 5},
		{"binary garbage", "\x00\x01\x02\xff", IDUnreadable, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := Linter{}.Source("in.yaml", []byte(tc.src))
			if len(rs) != 1 || rs[0].ID != tc.id || rs[0].Line != tc.line {
				t.Errorf("results %+v, want one %s on line %d", rs, tc.id, tc.line)
			}
		})
	}
}

// TestHelmOutputAndLists: several documents, a List, JSON, and lines that
// point at each container.
func TestHelmOutputAndLists(t *testing.T) {
	src := `---
# Source: chart/templates/svc.yaml
apiVersion: v1
kind: Service
metadata: {name: api}
---
# Source: chart/templates/deploy.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      containers:
      - name: sidecar
        image: envoy
      - name: app
        image: api
        ports: [{name: http, containerPort: 8080}]
        livenessProbe: {httpGet: {path: /ready, port: http}}
        readinessProbe: {httpGet: {path: /ready, port: http}}
---
{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
 "spec": {"jobTemplate": {"spec": {"template": {"spec": {"containers": [{"name": "job", "image": "x", "livenessProbe": {"exec": {"command": ["true"]}}, "readinessProbe": {"exec": {"command": ["true"]}}}]}}}}}}]}
`
	rs := Linter{}.Source("helm.yaml", []byte(src))
	got := map[string]int{}
	for _, r := range rs {
		got[r.Object+"/"+r.Container+"/"+r.ID] = r.Line
	}
	if got["Deployment/api/app/probe-liveness-shares-readiness"] != 17 || got["Deployment/api/app/probe-liveness-checks-dependencies"] != 17 {
		t.Errorf("deployment findings %v", got)
	}
	if _, ok := got["CronJob/nightly/job/probe-liveness-shares-readiness"]; !ok {
		t.Errorf("cronjob in a List not linted: %v", got)
	}
	if _, ok := got["Service/api//not-workload"]; !ok {
		t.Errorf("service not reported as skipped: %v", got)
	}
}

func TestTemplateDifferences(t *testing.T) {
	tmpl, err := diagnose.LoadTemplate([]byte("livenessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 20}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join("..", "demo", "scenarios", "14-healthy.yaml"))
	rs := Linter{Template: tmpl}.Source("14.yaml", b)
	found := false
	for _, r := range rs {
		found = found || (r.ID == IDTemplate && strings.Contains(r.Message, "periodSeconds 10 -> 20"))
	}
	if !found || HasErrors(rs) {
		t.Errorf("template differences: %+v", rs)
	}
}

func FuzzLintSource(f *testing.F) {
	for _, p := range []string{"01-probe-mixup.yaml", "05-backoff-never-resets.yaml", "14-healthy.yaml"} {
		if b, err := os.ReadFile(filepath.Join("..", "demo", "scenarios", p)); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("kind: List\nitems: [{kind: Pod, spec: {containers: [{name: a}]}}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, r := range (Linter{}).Source("f.yaml", data) {
			if r.Line < 0 || r.ID == "" {
				t.Fatalf("bad result %+v", r)
			}
		}
	})
}
