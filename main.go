// Command crashlens is a terminal UI for live CrashLoopBackOff triage in
// Kubernetes. Installed as kubectl-crashlens it is also `kubectl crashlens`.
//
// This file only wires commands and flags to the packages that do the work:
// kube (cluster access), diagnose (the triage engine) and ui (the TUI).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/crashlens/crashlens/kube/clusters"

	"github.com/spf13/cobra"

	"github.com/crashlens/crashlens/kube"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	closeLog, err := kube.StartDebugLog(os.Getenv(kube.DebugLogEnv))
	if err != nil {
		fmt.Fprintf(os.Stderr, "crashlens: debug log off: %v\n", err)
	}
	stopProfile := startCPUProfile(os.Getenv(cpuProfileEnv), os.Getenv(cpuProfileAfterEnv))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	stopProfile()
	closeLog()
	os.Exit(code)
}

// cpuProfileEnv names a file for a CPU profile of the run: how the idle
// CPU of kube/BENCHMARKS.md was found. cpuProfileAfterEnv, a duration,
// starts it that long after the start, so that an idle TUI's profile is
// not the initial sync's. For developers; not flags.
const (
	cpuProfileEnv      = "CRASHLENS_CPUPROFILE"
	cpuProfileAfterEnv = "CRASHLENS_CPUPROFILE_AFTER"
)

func startCPUProfile(path, after string) func() {
	if path == "" {
		return func() {}
	}
	delay, err := time.ParseDuration(after)
	if after == "" {
		delay, err = 0, nil
	}
	var f *os.File
	if err == nil {
		f, err = os.Create(path)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "crashlens: no CPU profile: %v\n", err)
		return func() {}
	}
	// stopped keeps a late start from beginning a profile after the end.
	var mu sync.Mutex
	stopped := false
	start := func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(os.Stderr, "crashlens: no CPU profile: %v\n", err)
		}
	}
	if delay > 0 {
		time.AfterFunc(delay, start)
	} else {
		start()
	}
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		pprof.StopCPUProfile() // none running: nothing to do
		f.Close()
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var ec exitCodeError
	if errors.As(err, &ec) {
		return ec.code
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		fmt.Fprintf(stderr, "%s: %v\n\n", root.Name(), err)
		fmt.Fprint(stderr, cmd.UsageString())
		return exitUsage
	}
	fmt.Fprintf(stderr, "%s: %v\n", root.Name(), err)
	return exitError
}

// commandName is what the user typed to run us: `kubectl crashlens` when
// kubectl found us as a plugin.
func commandName() string {
	if strings.HasPrefix(filepath.Base(os.Args[0]), "kubectl-") {
		return "kubectl crashlens"
	}
	return "crashlens"
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	flags := clusters.NewFlags()
	var lf ledgerFlags
	tui := tuiOptions{flags: flags, ledger: &lf}
	root := &cobra.Command{
		Use:   commandName(),
		Short: "Live CrashLoopBackOff triage for Kubernetes",
		Long: `crashlens shows, live, every crashing pod it can see, grouped by workload and
failure, and explains each crash: events, previous logs, the exit code in
context, the back-off timeline and a probe diff with the patch to apply.`,
		Args:          cobra.NoArgs,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runTUI(cmd.Context(), tui, stderr)
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	flags.Config.AddFlags(pf)
	pf.BoolVarP(&flags.AllNamespaces, "all-namespaces", "A", false, "watch every namespace (the default when -n is not given)")
	pf.BoolVar(&flags.AllContexts, "all-contexts", false, "every context of the kubeconfig, for the TUI, list, list --watch and history (not explain); --context also takes a,b,c and globs like 'prod-*'")
	pf.StringVarP(&flags.Selector, "selector", "l", "", "label selector for the pods to watch, e.g. app=api")
	pf.BoolVar(&flags.Readonly, "readonly", false, "disable the exec and debug jumps")
	lf.add(pf)
	root.Flags().StringVar(&tui.debugImage, "debug-image", "busybox:1.36", "image of the ephemeral container `kubectl debug` attaches to a dead container")

	root.AddCommand(
		&cobra.Command{
			Use:   "version",
			Short: "Print the crashlens version",
			Args:  cobra.NoArgs,
			Run: func(*cobra.Command, []string) {
				fmt.Fprintf(stdout, "crashlens %s (%s, %s/%s)\n", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			},
		},
		newListCmd(flags, &lf, stdout, stderr),
		newHistoryCmd(flags, &lf, stdout, stderr),
		newExplainCmd(flags, &lf, stdout, stderr),
		newLintCmd(stdout),
		newDemoCmd(stderr),
		newMonitorCmd(flags, &lf, stderr),
	)
	return root
}
