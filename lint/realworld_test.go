package lint

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crashlens/crashlens/diagnose"
)

// TestMicroservicesDemo lints a directory of correct manifests written in
// the style of the well-known multi-service demo shops (gRPC services with
// gRPC health probes, an HTTP frontend, a TCP-probed Redis, a load generator
// without probes). They run fine, so a CI gate must pass them: no result at
// error severity, and every probed workload read.
func TestMicroservicesDemo(t *testing.T) {
	rs, err := Linter{}.Paths([]string{filepath.Join("testdata", "microservices")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	probed := map[string]bool{}
	for _, r := range rs {
		if r.Severity == diagnose.SeverityError {
			t.Errorf("error on a correct manifest: %s:%d %s %s: %s", r.File, r.Line, r.Object, r.ID, r.Message)
		}
		if r.Container != "" {
			probed[r.Object] = true
		}
	}
	for _, d := range []string{"ads", "basket", "basket-redis", "catalog", "checkout", "mailer", "payments", "pricing", "recommender", "shipping", "storefront"} {
		if !probed["Deployment/"+d] {
			t.Errorf("Deployment/%s: no probe finding, was it read?", d)
		}
	}
	if probed["Deployment/traffic-gen"] {
		t.Error("traffic-gen has no probes and its init container is not a sidecar, yet it has findings")
	}
	if exitCode(rs) != 0 {
		t.Error("lint would exit 1")
	}
}

// TestHelmTemplateOnStdin pipes Helm-rendered output through the same entry
// point `helm template ./chart | crashlens lint -f -` uses: Paths with "-"
// and the command's stdin.
func TestHelmTemplateOnStdin(t *testing.T) {
	tests := []struct {
		fixture string
		exit    int
		want    []string // lines of the text output
	}{
		{"rendered.yaml", 0, []string{
			"<stdin>:5: info not-workload: skipped: not a workload with a pod template (ConfigMap/release-name-shop)",
			"<stdin>:19: info not-workload: skipped: not a workload with a pod template (Service/release-name-shop)",
			"<stdin>:70: warning probe-liveness-shares-readiness: Liveness and readiness are the same probe (http :80/)",
		}},
		{"rendered-readyz.yaml", 1, []string{
			"<stdin>:70: error probe-liveness-shares-readiness: Liveness and readiness are the same probe (http :80/readyz), and it checks readiness or dependencies (path /readyz)",
			"<stdin>:70: error probe-liveness-checks-dependencies: The liveness probe calls /readyz",
		}},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", "helm", tc.fixture))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			rs, err := Linter{}.Paths([]string{"-"}, f)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			if err := Text(&out, rs); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out.String(), IDUnreadable) {
				t.Errorf("Helm output unreadable:\n%s", out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if got := exitCode(rs); got != tc.exit {
				t.Errorf("exit %d, want %d:\n%s", got, tc.exit, out.String())
			}
		})
	}
}

// TestStdinTooLarge: input past MaxFileBytes is reported, not cut.
func TestStdinTooLarge(t *testing.T) {
	big := strings.NewReader(strings.Repeat("# padding\n", MaxFileBytes/10+1))
	rs, err := Linter{}.Paths([]string{"-"}, big)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0].ID != IDUnreadable || !HasErrors(rs) {
		t.Errorf("results %+v, want one unreadable", rs)
	}
}
