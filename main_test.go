package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/crashlens/crashlens/kube/clusters"
)

// TestMain keeps every run of crashlens the tests make (in process, the
// built binary, under tmux) from writing the crash ledger into the home of
// whoever runs them: the state directory is the test's own.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "crashlens-state-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("XDG_STATE_HOME", dir)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// writeKubeconfig writes a kubeconfig for server into dir and returns its path.
func writeKubeconfig(t *testing.T, server string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	kc := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: %q, insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
`, server)
	if err := os.WriteFile(path, []byte(kc), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// silentServer accepts connections and never answers: a hung apiserver.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func TestCLIBadInput(t *testing.T) {
	t.Setenv("KUBECONFIG", "")
	t.Setenv("HOME", t.TempDir())
	garbage := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(garbage, []byte("clusters: [\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused := writeKubeconfig(t, "https://"+closedPort(t))
	hung := writeKubeconfig(t, "https://"+silentServer(t))
	// A credential plugin that fails (an expired SSO session, typically).
	failingLogin := filepath.Join(t.TempDir(), "kubeconfig-exec")
	if err := os.WriteFile(failingLogin, []byte(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://`+closedPort(t)+`"}}]
users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: /bin/false, interactiveMode: Never}}}]
contexts: [{name: ctx, context: {cluster: c, user: u}}]
current-context: ctx
`), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string // substring of stderr
		maxTime  time.Duration
	}{
		{"unknown flag", []string{"--bogus"}, exitUsage, "unknown flag: --bogus", 0},
		{"unknown flag on subcommand", []string{"version", "--nope"}, exitUsage, "unknown flag: --nope", 0},
		{"unexpected argument", []string{"extra"}, exitUsage, `unknown command "extra"`, 0},
		{"missing kubeconfig file", []string{"--kubeconfig", "/nonexistent/kubeconfig"}, exitError, "kubeconfig /nonexistent/kubeconfig does not exist", 0},
		{"no kubeconfig at all", nil, exitError, "no cluster configured", 0},
		{"malformed kubeconfig", []string{"--kubeconfig", garbage}, exitError, "cannot be read", 0},
		{"unknown context", []string{"--kubeconfig", refused, "--context", "nope"}, exitError, `context "nope" not found in ` + refused, 0},
		{"unreachable server", []string{"--kubeconfig", refused}, exitError, "connection refused", 5 * time.Second},
		{"hung server", []string{"--kubeconfig", hung, "--request-timeout", "1s"}, exitError, "did not answer within 1s", 3 * time.Second},
		{"failing credential plugin", []string{"--kubeconfig", failingLogin}, exitError, "cannot get credentials for https://", 5 * time.Second},
		{"list with a failing credential plugin", []string{"--kubeconfig", failingLogin, "list"}, exitError, "/bin/false failed with exit code 1 (log in again?)", 5 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := run(context.Background(), tc.args, &stdout, &stderr)
			took := time.Since(start)
			if code != tc.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tc.wantErr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tc.wantErr)
			}
			if tc.wantCode == exitUsage && !strings.Contains(stderr.String(), "Usage:") {
				t.Errorf("usage error without usage text: %q", stderr.String())
			}
			if tc.wantCode == exitError {
				if lines := strings.Count(strings.TrimRight(stderr.String(), "\n"), "\n") + 1; lines != 1 {
					t.Errorf("want one line on stderr, got %d: %q", lines, stderr.String())
				}
				if strings.Contains(stderr.String(), "goroutine ") {
					t.Errorf("stack trace on stderr: %q", stderr.String())
				}
			}
			if tc.maxTime > 0 && took > tc.maxTime {
				t.Errorf("took %s, want under %s", took, tc.maxTime)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"version"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "crashlens "+version+" (go") {
		t.Errorf("version output %q", stdout.String())
	}
}

func TestLintCommand(t *testing.T) {
	dir := t.TempDir()
	docs := strings.Split(mustRead(t, "demo/scenarios/01-probe-mixup.yaml"), "\n---\n")
	good := filepath.Join(dir, "good.yaml")
	if err := os.WriteFile(good, []byte(docs[2]), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := filepath.Join(dir, "broken.yaml")
	if err := os.WriteFile(broken, []byte("kind: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"lint", "-f", "demo/scenarios"}, exitError, "01-probe-mixup.yaml:28: error probe-liveness-shares-readiness"},
		{[]string{"lint", "-f", good}, exitOK, ""},
		{[]string{"lint", "-f", broken}, exitError, "broken.yaml:1: error unreadable: not valid YAML or JSON"},
		{[]string{"lint"}, exitUsage, ""},
		{[]string{"lint", "-f", good, "--probe-template", broken}, exitError, ""},
	}
	for _, tc := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tc.args, &stdout, &stderr)
		if code != tc.code || !strings.Contains(stdout.String(), tc.want) {
			t.Errorf("%v: exit %d (want %d), stdout %q, stderr %q", tc.args, code, tc.code, stdout.String(), stderr.String())
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDemoRefusesWithoutRoot: `crashlens demo` as an ordinary user says
// what is missing, exits non-zero, and changes nothing on the host.
func TestDemoRefusesWithoutRoot(t *testing.T) {
	setpriv, err := exec.LookPath("setpriv")
	if err != nil || os.Geteuid() != 0 {
		// Without root there is nothing to drop: run the check directly.
		var stdout, stderr bytes.Buffer
		if os.Geteuid() != 0 {
			code := run(context.Background(), []string{"demo"}, &stdout, &stderr)
			if code != exitError || !strings.Contains(stderr.String(), "needs root") {
				t.Errorf("exit %d: %s", code, stderr.String())
			}
			return
		}
		t.Fatal("setpriv (util-linux) is needed to run this test as root")
	}
	bin := filepath.Join(t.TempDir(), "crashlens")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v: %s", err, out)
	}
	if err := os.Chmod(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	before := hostState(t)
	cmd := exec.Command(setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", bin, "demo")
	cmd.Dir, _ = os.Getwd()
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != exitError {
		t.Fatalf("demo as nobody: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "needs root") || !strings.Contains(string(out), "nothing was changed") {
		t.Errorf("output does not say what is missing: %s", out)
	}
	if after := hostState(t); after != before {
		t.Errorf("the host changed:\nbefore %s\nafter  %s", before, after)
	}
}

// hostState summarises what the demo would change: its directories, its
// bridge, its processes.
func hostState(t *testing.T) string {
	t.Helper()
	var parts []string
	for _, p := range []string{"/var/lib/crashlens-cluster", "/run/crashlens-cluster", "/sys/class/net/crashlens0"} {
		_, err := os.Stat(p)
		parts = append(parts, fmt.Sprintf("%s=%v", p, err == nil))
	}
	return strings.Join(parts, " ")
}

// TestReadmeFlagsMatchHelp holds the README's flag table to the root
// command's flags: every flag the table names exists (locally or as a
// global flag); every flag crashlens adds to the root command itself
// (anything but kubectl's cluster flags from cli-runtime, which the README
// names in prose) is in the table, the nine listed below by name so that
// none can disappear unnoticed; and none of their help says "for now".
// It does not compare the table's wording with the help text.
// TestReadmeUsageMatchesCommands (readme_test.go) holds the usage block
// and the subcommands' flags.
func TestReadmeFlagsMatchHelp(t *testing.T) {
	readme := readReadme(t)
	root := newRootCmd(io.Discard, io.Discard)
	lookup := func(name string) *pflag.Flag {
		if f := root.Flags().Lookup(name); f != nil {
			return f
		}
		return root.PersistentFlags().Lookup(name)
	}
	named := readmeTableFlags(readme)
	for name := range named {
		if lookup(name) == nil {
			t.Errorf("README names --%s, which crashlens does not have", name)
		}
	}
	kubectl := pflag.NewFlagSet("kubectl", pflag.ContinueOnError)
	clusters.NewFlags().Config.AddFlags(kubectl)
	own := func(f *pflag.Flag) {
		if kubectl.Lookup(f.Name) == nil && !f.Hidden && !named[f.Name] {
			t.Errorf("--%s (%s) is not in the README's flag table", f.Name, f.Usage)
		}
	}
	root.LocalNonPersistentFlags().VisitAll(own)
	root.PersistentFlags().VisitAll(own)
	for _, name := range []string{"all-namespaces", "selector", "all-contexts", "readonly", "debug-image", "ledger", "no-ledger", "ledger-max-age", "ledger-max-size"} {
		f := lookup(name)
		if f == nil {
			t.Errorf("crashlens has no --%s", name)
			continue
		}
		if !named[name] {
			t.Errorf("--%s (%s) is not in the README's flag table", name, f.Usage)
		}
		if strings.Contains(f.Usage, "for now") {
			t.Errorf("--%s's help is out of date: %q", name, f.Usage)
		}
	}
}
