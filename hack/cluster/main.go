// Command clusterctl brings the pinned single-node test cluster (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
// containerd, runc, CNI bridge) up and down on this machine, and builds and
// imports local images. It uses only the standard library; the cluster
// binaries themselves are built by build.sh from this module's go.mod.
//
//	clusterctl [--instance NAME] up [--backoff-cap 10s] [--control-plane-only]
//	clusterctl [--instance NAME] down [--all]
//	clusterctl [--instance NAME] status
//	clusterctl [--instance NAME] kubeconfig [USER]
//	clusterctl with [up flags] [--also NAME,...] -- COMMAND ARGS...
//	clusterctl [--instance NAME] stop|start kube-apiserver
//	clusterctl image --name NAME [--busybox] [--file DST=SRC]... [--entrypoint ARG]... [--cmd ARG]... [--out FILE]
//
// Without --instance a command acts on the full cluster. A named instance
// is a control-plane-only cluster (etcd and kube-apiserver) with its own
// ports and directories, beside the full one: the fleet tests and
// benchmarks watch several clusters at once.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	args := os.Args[1:]
	name := ""
	if len(args) > 1 && (args[0] == "--instance" || args[0] == "-instance") {
		name, args = args[1], args[2:]
		if !validInstance(name) {
			fmt.Fprintf(os.Stderr, "clusterctl: instance name %q: use lower-case letters, digits and '-'\n", name)
			os.Exit(2)
		}
	}
	if len(args) < 1 {
		usage()
		os.Exit(2)
	}
	l := newLayout(name)
	var err error
	switch args[0] {
	case "up":
		var o options
		fs := upFlags("up", &o)
		_ = fs.Parse(args[1:])
		err = up(l, o)
	case "down":
		if len(args) > 1 && (args[1] == "--all" || args[1] == "-all") {
			err = downAll()
		} else {
			err = down(l)
		}
		if err == nil {
			step("cluster down; nothing left on the host")
		}
	case "status":
		err = status(l)
	case "kubeconfig":
		u := "admin"
		if len(args) > 1 {
			u = args[1]
		}
		fmt.Println(l.data(kubeconfigName(u)))
	case "with":
		err = with(l, args[1:])
	case "stop", "start":
		// Fault tests stop and start the apiserver under a running client.
		if len(args) < 2 || args[1] != "kube-apiserver" {
			err = errors.New(args[0] + ": only kube-apiserver can be stopped and started on its own")
			break
		}
		err = toggleAPIServer(l, args[0] == "start")
	case "image":
		err = imageCmd(l, args[1:])
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			os.Exit(exit.ExitCode())
		}
		fmt.Fprintln(os.Stderr, "clusterctl:", err)
		os.Exit(1)
	}
}

func toggleAPIServer(l layout, start bool) error {
	if !start {
		l.stopComponent("kube-apiserver")
		return nil
	}
	s, ok := l.loadSnapshot()
	if !ok {
		return errors.New("no cluster to start the apiserver in")
	}
	if l.alive("kube-apiserver") {
		return nil
	}
	p := pki{dir: l.data("pki")}
	if err := l.start(apiserver(l, p, s.Options)); err != nil {
		return err
	}
	c, err := newAPIClient(l, p)
	if err != nil {
		return err
	}
	return waitFor("kube-apiserver", apiserverReadyTimeout, func() error { return c.get("/readyz", nil) })
}

// validInstance keeps an instance name fit for a directory, a context and
// a user name.
func validInstance(name string) bool {
	if name == "" || len(name) > 30 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// downAll brings down every named instance, then the full cluster.
func downAll() error {
	var errs []error
	for _, n := range instanceNames() {
		errs = append(errs, down(newLayout(n)))
	}
	return errors.Join(append(errs, down(newLayout("")))...)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: clusterctl [--instance NAME] up|down|status|kubeconfig|with|stop|start|image (see hack/cluster/README.md)")
}

func upFlags(name string, o *options) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	fs.StringVar(&o.BackoffCap, "backoff-cap", "", "kubelet crashLoopBackOff.maxContainerRestartPeriod (e.g. 10s); empty keeps the kubelet default of 5m")
	fs.BoolVar(&o.ControlPlaneOnly, "control-plane-only", false, "etcd and kube-apiserver only (scale benchmarks)")
	return fs
}

func status(l layout) error {
	s, ok := l.loadSnapshot()
	if !ok {
		fmt.Println("cluster: down")
		return nil
	}
	names := []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet"}
	if s.Options.ControlPlaneOnly {
		names = names[:2]
	}
	for _, n := range names {
		state := "stopped"
		if l.alive(n) {
			state = "running"
		}
		fmt.Printf("%-24s %s\n", n, state)
	}
	fmt.Printf("options: backoff-cap=%q control-plane-only=%v\napiserver: %s\nkubeconfig: %s\n", s.Options.BackoffCap, s.Options.ControlPlaneOnly, l.apiserverURL(), l.Kubeconfig())
	return nil
}

// with brings the cluster up, runs a command with CRASHLENS_KUBECONFIG set,
// and always brings the cluster down again, even on failure or interrupt.
// With --also it also brings up those named control-plane-only instances
// and sets CRASHLENS_FLEET_KUBECONFIG to every instance's admin kubeconfig,
// KUBECONFIG-style (the full cluster's first), and CRASHLENS_FLEET_INSTANCES
// to their names.
func with(l layout, args []string) error {
	var o options
	var also string
	fs := upFlags("with", &o)
	fs.StringVar(&also, "also", "", "comma-separated names of control-plane-only instances to run beside the cluster")
	_ = fs.Parse(args)
	rest := fs.Args()
	if len(rest) == 0 {
		return errors.New("with: no command after --")
	}
	var extra []layout
	for _, n := range strings.Split(also, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if !validInstance(n) {
			return fmt.Errorf("with --also: instance name %q: use lower-case letters, digits and '-'", n)
		}
		extra = append(extra, newLayout(n))
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	defer func() {
		for _, e := range append(extra, l) {
			if err := down(e); err != nil {
				fmt.Fprintln(os.Stderr, "clusterctl:", err)
			}
		}
	}()
	if err := up(l, o); err != nil {
		return err
	}
	fleet, names := []string{l.Kubeconfig()}, []string{}
	for i := range extra {
		step("starting instance %s (control-plane-only)", extra[i].Name)
		if err := up(extra[i], options{ControlPlaneOnly: true}); err != nil {
			return fmt.Errorf("instance %s: %w", extra[i].Name, err)
		}
		extra[i] = newLayout(extra[i].Name) // with the ports up chose
		fleet, names = append(fleet, extra[i].Kubeconfig()), append(names, extra[i].Name)
	}
	cmd := exec.Command(rest[0], rest[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "CRASHLENS_KUBECONFIG="+l.Kubeconfig(), "CRASHLENS_CLUSTER_BIN="+l.Bin, "CRASHLENS_CLUSTER_DIR="+l.Data,
		"CRASHLENS_FLEET_KUBECONFIG="+strings.Join(fleet, string(os.PathListSeparator)), "CRASHLENS_FLEET_INSTANCES="+strings.Join(names, ","))
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for {
		select {
		case err := <-done:
			if err != nil {
				step("command failed; last kubelet log lines:\n%s", l.tailLog("kubelet", 15))
			}
			return err
		case s := <-sigs:
			_ = cmd.Process.Signal(s)
		}
	}
}

type fileFlags map[string]string

func (f fileFlags) String() string { return "" }
func (f fileFlags) Set(v string) error {
	dst, src, ok := strings.Cut(v, "=")
	if !ok {
		return fmt.Errorf("--file wants DST=SRC, got %q", v)
	}
	f[dst] = src
	return nil
}

type listFlag []string

func (f *listFlag) String() string     { return strings.Join(*f, " ") }
func (f *listFlag) Set(v string) error { *f = append(*f, v); return nil }

func imageCmd(l layout, args []string) error {
	spec := imageSpec{Files: fileFlags{}}
	var entry, cmdArgs listFlag
	var out string
	fs := flag.NewFlagSet("image", flag.ExitOnError)
	fs.StringVar(&spec.Name, "name", "", "image name, e.g. crashlens.local/app:1")
	fs.BoolVar(&spec.Busybox, "busybox", false, "include busybox and its applets in /bin")
	fs.Var(fileFlags(spec.Files), "file", "DST=SRC: copy host file SRC to DST in the image (repeatable)")
	fs.Var(&entry, "entrypoint", "entrypoint argument (repeatable)")
	fs.Var(&cmdArgs, "cmd", "cmd argument (repeatable)")
	fs.StringVar(&out, "out", "", "write the docker-archive tar here instead of importing it")
	_ = fs.Parse(args)
	if spec.Name == "" {
		return errors.New("image: --name is required")
	}
	spec.Entrypoint, spec.Cmd = entry, cmdArgs
	if out != "" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		if err := buildImage(spec, f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	return importImage(l, spec)
}
