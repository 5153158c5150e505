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
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crashlens/crashlens/demo"
	"github.com/crashlens/crashlens/kube"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// Exit codes: scripts rely on them.
const (
	exitOK    = 0
	exitError = 1 // the command ran and failed (cluster unreachable, ...)
	exitUsage = 2 // bad flags or arguments
	exitCrash = 3 // list --fail-on-crash found crashing pods
)

// exitCodeError ends the program with a code and no message.
type exitCodeError struct{ code int }

func (e exitCodeError) Error() string { return fmt.Sprintf("exit %d", e.code) }

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

// usageError marks errors caused by what the user typed, answered with the
// usage text and exit code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

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
	var debugImage string
	var lf ledgerFlags
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
			return runTUI(cmd.Context(), flags, &lf, &debugImage, stderr)
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
	root.Flags().StringVar(&debugImage, "debug-image", "busybox:1.36", "image of the ephemeral container `kubectl debug` attaches to a dead container")

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
	)
	return root
}

// demoWait bounds how long `crashlens demo` waits for the scenarios: most
// get there in a minute; the chaos scenario's first kill takes 3-4.
const demoWait = 4 * time.Minute

func newDemoCmd(stderr io.Writer) *cobra.Command {
	var o demo.Options
	var down bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the scenario catalogue on the embedded single-node cluster (needs root and a source checkout)",
		Long: `demo builds what is missing, starts the embedded cluster (kubelet default
back-off, so the timeline is real), imports the scenario images, applies every
scenario of the catalogue and waits for each to reach its declared state.
The cluster stays up afterwards; crashlens demo --down removes it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			wd, err := os.Getwd()
			if err != nil {
				return err
			}
			if o.Root, err = demo.FindRoot(wd); err != nil {
				return err
			}
			o.Progress = stderr
			if down {
				return demo.Down(o)
			}
			kubeconfig, err := demo.Up(cmd.Context(), o)
			if err != nil {
				return err
			}
			cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
			if err != nil {
				return err
			}
			cs, err := kubernetes.NewForConfig(cfg)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "==> waiting up to %s for the scenarios to reach their states\n", demoWait)
			pending := demo.Wait(cmd.Context(), cs, demo.Catalogue, demoWait, stderr)
			for name, missing := range pending {
				fmt.Fprintf(stderr, "    %-28s still on its way: %s\n", name, strings.Join(missing, "; "))
			}
			fmt.Fprintf(stderr, "\nThe demo cluster is up and stays up. Point crashlens or kubectl at it:\n  export KUBECONFIG=%s\n  bin/crashlens\nRemove it with: make demo-down (or crashlens demo --down)\n", kubeconfig)
			return nil
		},
	}
	cmd.Flags().BoolVar(&down, "down", false, "remove the demo cluster and undo its host changes")
	cmd.Flags().StringVar(&o.BackoffCap, "backoff-cap", "", "cap the kubelet back-off (e.g. 10s); default keeps the real 5m ceiling")
	cmd.Flags().BoolVar(&o.Fast, "fast", false, "kill the chaos scenario every 15-25 s instead of every 3-4 min")
	return cmd
}

// scopeText names what is watched, for messages and the status bar.
func scopeText(namespace string) string {
	if namespace == "" {
		return "all namespaces"
	}
	return "namespace " + namespace
}
