//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

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

func TestRootConnectsToRealCluster(t *testing.T) {
	for _, user := range []string{"admin", "viewer-ns"} {
		t.Run(user, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"--kubeconfig", clusterKubeconfig(t, user), "--request-timeout", "5s"}, &stdout, &stderr)
			if code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			for _, want := range []string{"https://127.0.0.1:16443", "v1.36.3", "all namespaces"} {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("stdout %q lacks %q", stdout.String(), want)
				}
			}
		})
	}
}

func TestBadTokenIsOneLine(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--kubeconfig", clusterKubeconfig(t, "admin"), "--token", "not-a-valid-token"}, &stdout, &stderr)
	if code != exitError {
		t.Fatalf("exit %d, want %d: %s", code, exitError, stderr.String())
	}
	if !strings.Contains(stderr.String(), "rejected the credentials") || strings.Count(stderr.String(), "\n") != 1 {
		t.Errorf("stderr %q, want one line saying the credentials were rejected", stderr.String())
	}
}
