//go:build integration || fault

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crashlens/crashlens/demo"
)

// Helpers of the tests that run on the real cluster (integration and fault).

// clusterKubeconfig is the test cluster's kubeconfig for user; integration
// tests fail, never skip, without one (run them through `make test`).
func clusterKubeconfig(t *testing.T, user string) string {
	t.Helper()
	admin := os.Getenv("CRASHLENS_KUBECONFIG")
	if admin == "" {
		t.Fatal("CRASHLENS_KUBECONFIG is not set: run integration tests through `make test`")
	}
	if user == "admin" {
		return admin
	}
	return filepath.Join(filepath.Dir(admin), "kubeconfig-"+user)
}

func kubectlAdmin(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(filepath.Join("hack", "cluster", "bin", "kubectl"), append([]string{"--kubeconfig", clusterKubeconfig(t, "admin")}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v: %s", args, err, out)
	}
	return string(out)
}

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), append([]string{"--kubeconfig", clusterKubeconfig(t, "admin")}, args...), &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}

// tmux drives a real terminal: the real binary, keys sent as a user types
// them, the screen read back as the user sees it.
type tmux struct {
	t       *testing.T
	session string
}

func (x tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", args...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v: %s", args, err, out)
	}
	return string(out)
}

func (x tmux) keys(keys ...string) { x.run(append([]string{"send-keys", "-t", x.session}, keys...)...) }

func (x tmux) screen() string { return x.run("capture-pane", "-p", "-t", x.session) }

// waitFor polls the screen until it shows all of want.
func (x tmux) waitFor(timeout time.Duration, want ...string) string {
	x.t.Helper()
	deadline := time.Now().Add(timeout)
	var s string
	for time.Now().Before(deadline) {
		s = x.screen()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(s, w)
		}
		if ok {
			return s
		}
		time.Sleep(200 * time.Millisecond)
	}
	x.t.Fatalf("screen never showed %q; last screen:\n%s", want, s)
	return ""
}

// waitForLine polls until a screen line starts with prefix (the filter
// prompt, not a workload name that contains the same text).
func (x tmux) waitForLine(timeout time.Duration, prefix string) string {
	x.t.Helper()
	deadline := time.Now().Add(timeout)
	var s string
	for time.Now().Before(deadline) {
		s = x.screen()
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, prefix) {
				return s
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	x.t.Fatalf("no screen line starts with %q; last screen:\n%s", prefix, s)
	return ""
}

// buildCrashlens builds the real binary; version names it in the API
// server's audit log (its user agent is crashlens/<version>).
func buildCrashlens(t *testing.T, version string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "crashlens")
	if out, err := exec.Command("go", "build", "-ldflags", "-X main.version="+version, "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	return bin
}

// demoScenarios applies the demo catalogue (reusing what exists) and waits
// until every scenario is in its declared state; it returns a clientset.
func demoScenarios(t *testing.T) kubernetes.Interface {
	t.Helper()
	root, _ := filepath.Abs(".")
	if _, err := demo.Up(context.Background(), demo.Options{Root: root, BackoffCap: "10s", Fast: true}); err != nil {
		t.Fatal(err)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", clusterKubeconfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if pending := demo.Wait(context.Background(), cs, demo.Catalogue, 4*time.Minute, nil); len(pending) > 0 {
		t.Fatalf("scenarios not ready: %v", pending)
	}
	return cs
}
