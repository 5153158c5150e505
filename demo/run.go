package demo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"text/template"
	"time"
)

// Options says how to run the catalogue.
type Options struct {
	Root     string    // the crashlens source checkout (holds hack/cluster)
	Progress io.Writer // one line per long step
	// BackoffCap shortens the kubelet back-off (tests); empty keeps the
	// kubelet default, so the demo's timeline is real.
	BackoffCap string
	// Fast shortens the chaos scenario's kill interval from 3-4 minutes to
	// 15-25 s (tests); the demo keeps the seed's interval.
	Fast bool
	// Recorder deploys the in-cluster recorder (DeployRecorder) before the
	// scenarios, so its history starts with their first crash (the demo;
	// the tests' cluster runs without one).
	Recorder bool
}

// manifestParams are the few values scenario manifests take.
type manifestParams struct {
	ChaosMinSeconds, ChaosMaxSeconds int
}

// FindRoot walks up from dir to the checkout that holds hack/cluster.
func FindRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "hack", "cluster", "build.sh")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", errors.New("the demo runs from a crashlens source checkout (cd into it and run `make demo`)")
		}
	}
}

func (o Options) clusterBin(name string) string {
	return filepath.Join(o.Root, "hack", "cluster", "bin", name)
}

// Kubeconfig is the embedded cluster's admin kubeconfig.
func (o Options) Kubeconfig() string {
	out, err := exec.Command(o.clusterBin("clusterctl"), "kubeconfig").Output()
	if err != nil {
		return "/var/lib/crashlens-cluster/kubeconfig"
	}
	return strings.TrimSpace(string(out))
}

func (o Options) step(format string, args ...any) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "==> "+format+"\n", args...)
	}
}

// runCmd runs a command from the checkout with its output on Progress.
func (o Options) runCmd(name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = o.Root
	var stderr bytes.Buffer
	cmd.Stdout = o.Progress
	cmd.Stderr = io.MultiWriter(o.Progress, &stderr)
	if o.Progress == nil {
		cmd.Stdout, cmd.Stderr = nil, &stderr
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", filepath.Base(name), strings.Join(args, " "), err)
	}
	return nil
}

// Up builds what is missing, brings the cluster up, builds and imports the
// scenario images and applies every scenario. It returns the kubeconfig.
func Up(ctx context.Context, o Options) (string, error) {
	if os.Geteuid() != 0 {
		return "", errors.New("the embedded demo cluster needs root (it runs a kubelet and containerd): run `sudo make demo`; nothing was changed")
	}
	// Test packages bring the catalogue up in parallel: one at a time.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "crashlens-demo.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	o.step("checking host packages")
	if err := o.runCmd(filepath.Join(o.Root, "hack", "deps.sh")); err != nil {
		return "", err
	}
	o.step("checking the cluster binaries (any missing or stale are built now, and the build says how long)")
	if err := o.runCmd(filepath.Join(o.Root, "hack", "cluster", "build.sh")); err != nil {
		return "", err
	}
	o.step("starting the cluster and waiting for the node")
	args := []string{"up"}
	if o.BackoffCap != "" {
		args = append(args, "--backoff-cap", o.BackoffCap)
	}
	if err := o.runCmd(o.clusterBin("clusterctl"), args...); err != nil {
		return "", err
	}
	o.step("building and importing the scenario images")
	if err := buildImages(o); err != nil {
		return "", err
	}
	if o.Recorder {
		o.step("deploying the in-cluster recorder (deploy/demo: crashlens monitor, built from this checkout)")
		if err := DeployRecorder(o); err != nil {
			o.step("the recorder did not start; the demo goes on without it: %v", err)
		}
	}
	o.step("applying %d scenarios", len(Catalogue))
	if err := applyAll(ctx, o); err != nil {
		return "", err
	}
	return o.Kubeconfig(), nil
}

// Down removes the cluster and everything it changed on the host,
// including the demo recorder's ledger (its hostPath volume).
func Down(o Options) error {
	if err := o.runCmd(o.clusterBin("clusterctl"), "down"); err != nil {
		return err
	}
	return os.RemoveAll(RecorderLedgerDir)
}

// buildStatic builds a package of the checkout as a static linux/amd64
// binary, what the scenario and recorder images hold.
func (o Options) buildStatic(pkg, out, ldflags string) error {
	build := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, pkg)
	build.Dir = o.Root
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("building %s: %v: %s", pkg, err, b)
	}
	return nil
}

func buildImages(o Options) error {
	dir, err := os.MkdirTemp("", "crashlens-demo-images-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	app := filepath.Join(dir, "crashapp")
	if err := o.buildStatic("./demo/crashapp", app, "-s -w"); err != nil {
		return err
	}
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err == nil {
			err = os.WriteFile(p, []byte(content), mode)
		}
		return p
	}
	// Without its execute bit on purpose: the not-executable scenario.
	runSh := write("run.sh", "#!/bin/sh\necho generating reports\n", 0o644)
	keep := write("keep", "", 0o644)
	// Seed 01's image starts the server from a script without exec: the shell
	// stays PID 1 and never passes SIGTERM on.
	startSh := write("start.sh", "#!/bin/sh\necho \"api-gateway v2025.09.18 starting\"\n/app/crashapp warmup-server\necho \"api-gateway exited with $?\"\n", 0o755)
	if err != nil {
		return err
	}
	images := [][]string{
		{"--name", "crashlens.local/crashapp:1", "--entrypoint", "/app/crashapp"},
		{"--name", "crashlens.local/crashapp:2", "--entrypoint", "/app/crashapp"},
		{"--name", "crashlens.local/probe-mixup:latest", "--entrypoint", "/app/start.sh", "--file", "/app/start.sh=" + startSh},
	}
	for _, img := range images {
		args := append([]string{"image", "--busybox", "--file", "/app/crashapp=" + app, "--file", "/app/run.sh=" + runSh,
			"--file", "/var/lib/orders/.keep=" + keep}, img...)
		if err := o.runCmd(o.clusterBin("clusterctl"), args...); err != nil {
			return err
		}
	}
	return nil
}

// renderManifest fills a scenario manifest's parameters.
func renderManifest(name string, fast bool) (string, error) {
	raw, err := manifests.ReadFile("scenarios/" + name)
	if err != nil {
		return "", err
	}
	p := manifestParams{ChaosMinSeconds: 180, ChaosMaxSeconds: 240}
	if fast {
		p = manifestParams{ChaosMinSeconds: 15, ChaosMaxSeconds: 25}
	}
	t, err := template.New(name).Option("missingkey=error").Parse(string(raw))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (o Options) kubectl(stdin string, args ...string) error {
	cmd := exec.Command(o.clusterBin("kubectl"), append([]string{"--kubeconfig", o.Kubeconfig()}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("kubectl %s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// ManifestFiles lists the catalogue's manifests in apply order.
func ManifestFiles() []string {
	var files []string
	for _, s := range Catalogue {
		if !slices.Contains(files, s.File) {
			files = append(files, s.File)
		}
	}
	sort.Strings(files)
	return files
}

func applyAll(ctx context.Context, o Options) error {
	// A scenario with a second phase that already ran is re-applied in its
	// final form: applying phase one again would roll it back.
	final := map[string]string{}
	for _, s := range Catalogue {
		if s.Then != "" && o.kubectl("", "-n", s.Namespace, "get", s.Workload) == nil {
			final[s.File] = s.Then
		}
	}
	for _, f := range ManifestFiles() {
		if then, ok := final[f]; ok {
			f = then
		}
		m, err := renderManifest(f, o.Fast)
		if err != nil {
			return err
		}
		if err := o.kubectl(m, "apply", "-f", "-"); err != nil {
			return err
		}
	}
	for _, s := range Catalogue {
		if s.Then == "" || final[s.File] != "" {
			continue
		}
		o.step("waiting for %s/%s v1 to roll out before applying its v2", s.Namespace, s.Workload)
		if err := o.kubectl("", "-n", s.Namespace, "rollout", "status", s.Workload, "--timeout=120s"); err != nil {
			return err
		}
		m, err := renderManifest(s.Then, o.Fast)
		if err != nil {
			return err
		}
		if err := o.kubectl(m, "apply", "-f", "-"); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// lockFile takes an exclusive lock on path, waiting for it.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// pollInterval is how often Wait looks at the cluster.
const pollInterval = 2 * time.Second
