package clustertest

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildCrashlens builds the real binary (the checkout's main package) into
// the test's temporary directory and returns its path. A non-empty version
// is linked in as main.version: it names the binary in the apiserver's
// audit log (its user agent is crashlens/<version>).
func BuildCrashlens(tb testing.TB, version string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "crashlens")
	args := []string{"build"}
	if version != "" {
		args = append(args, "-ldflags", "-X main.version="+version)
	}
	cmd := exec.Command("go", append(args, "-o", bin, ".")...)
	cmd.Dir = RepoRoot(tb)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("building crashlens: %v: %s", err, out)
	}
	return bin
}
