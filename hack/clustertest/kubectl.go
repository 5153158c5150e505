package clustertest

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Kubectl runs the cluster's own kubectl (the version the cluster runs,
// not whatever is on PATH) as admin, with stdin when non-empty, and
// returns its output; it fails the test when kubectl fails.
func Kubectl(tb testing.TB, stdin string, args ...string) string {
	tb.Helper()
	cmd := exec.Command(filepath.Join(BinDir(tb), "kubectl"), append([]string{"--kubeconfig", Kubeconfig(tb, "admin")}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("kubectl %v: %v: %s", args, err, out)
	}
	return string(out)
}

// Clusterctl runs hack/cluster's clusterctl, how the fault tests stop and
// start the cluster's components (`stop kube-apiserver`, or `--instance
// NAME stop kube-apiserver` for a fleet's instance); it fails the test
// when clusterctl fails.
func Clusterctl(tb testing.TB, args ...string) {
	tb.Helper()
	out, err := exec.Command(filepath.Join(BinDir(tb), "clusterctl"), args...).CombinedOutput()
	if err != nil {
		tb.Fatalf("clusterctl %v: %v: %s", args, err, out)
	}
}
