// Command clusterctl brings the pinned single-node test cluster (etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
// containerd, runc, CNI bridge) up and down on this machine, and builds and
// imports local images. It uses only the standard library; the cluster
// binaries themselves are built by build.sh from this module's go.mod.
//
//	clusterctl up [--backoff-cap 10s] [--control-plane-only]
//	clusterctl down
//	clusterctl status
//	clusterctl kubeconfig [USER]
//	clusterctl with [up flags] -- COMMAND ARGS...
//	clusterctl stop|start kube-apiserver
//	clusterctl image --name NAME [--busybox] [--file DST=SRC]... [--entrypoint ARG]... [--cmd ARG]... [--out FILE]
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
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	l := newLayout()
	var err error
	switch os.Args[1] {
	case "up":
		var o options
		fs := upFlags("up", &o)
		_ = fs.Parse(os.Args[2:])
		err = up(l, o)
	case "down":
		err = down(l)
		if err == nil {
			step("cluster down; nothing left on the host")
		}
	case "status":
		err = status(l)
	case "kubeconfig":
		u := "admin"
		if len(os.Args) > 2 {
			u = os.Args[2]
		}
		fmt.Println(l.data(kubeconfigName(u)))
	case "with":
		err = with(l, os.Args[2:])
	case "stop", "start":
		// Fault tests stop and start the apiserver under a running client.
		if len(os.Args) < 3 || os.Args[2] != "kube-apiserver" {
			err = errors.New(os.Args[1] + ": only kube-apiserver can be stopped and started on its own")
			break
		}
		err = toggleAPIServer(l, os.Args[1] == "start")
	case "image":
		err = imageCmd(l, os.Args[2:])
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

func usage() {
	fmt.Fprintln(os.Stderr, "usage: clusterctl up|down|status|kubeconfig|with|image (see hack/cluster/README.md)")
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
	for _, n := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "containerd", "kubelet"} {
		state := "stopped"
		if l.alive(n) {
			state = "running"
		}
		fmt.Printf("%-24s %s\n", n, state)
	}
	fmt.Printf("options: backoff-cap=%q control-plane-only=%v\nkubeconfig: %s\n", s.Options.BackoffCap, s.Options.ControlPlaneOnly, l.Kubeconfig())
	return nil
}

// with brings the cluster up, runs a command with CRASHLENS_KUBECONFIG set,
// and always brings the cluster down again, even on failure or interrupt.
func with(l layout, args []string) error {
	var o options
	fs := upFlags("with", &o)
	_ = fs.Parse(args)
	rest := fs.Args()
	if len(rest) == 0 {
		return errors.New("with: no command after --")
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	defer func() {
		if err := down(l); err != nil {
			fmt.Fprintln(os.Stderr, "clusterctl:", err)
		}
	}()
	if err := up(l, o); err != nil {
		return err
	}
	cmd := exec.Command(rest[0], rest[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "CRASHLENS_KUBECONFIG="+l.Kubeconfig(), "CRASHLENS_CLUSTER_BIN="+l.Bin, "CRASHLENS_CLUSTER_DIR="+l.Data)
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
