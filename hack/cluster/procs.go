package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// component is one daemon of the cluster, started detached so the cluster
// outlives the `up` command.
type component struct {
	Name string
	Path string
	Args []string
}

func (l layout) pidFile(name string) string { return l.run("pids", name+".pid") }
func (l layout) logFile(name string) string { return l.data("logs", name+".log") }

func (l layout) start(c component) error {
	if err := os.MkdirAll(l.run("pids"), 0o755); err != nil {
		return err
	}
	if err := os.MkdirAll(l.data("logs"), 0o755); err != nil {
		return err
	}
	logf, err := os.OpenFile(l.logFile(c.Name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== %s %s %s\n", time.Now().Format(time.RFC3339), c.Path, strings.Join(c.Args, " "))
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = l.Data
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", c.Name, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	return os.WriteFile(l.pidFile(c.Name), []byte(strconv.Itoa(pid)), 0o644)
}

// alive reports whether the component's recorded pid still runs its binary.
func (l layout) alive(name string) bool {
	b, err := os.ReadFile(l.pidFile(name))
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false
	}
	return ownsProcess(pid, l)
}

func ownsProcess(pid int, l layout) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return isOurs(cmdline, l)
}

// isOurs tells whether a command line belongs to this cluster: a process
// pointed at our data or run directories. Every component gets one of them
// in its flags and containerd shims carry our socket path; being one of our
// binaries is not enough, since the other instances run the same ones.
func isOurs(cmdline []byte, l layout) bool {
	args := strings.Split(strings.TrimRight(string(cmdline), "\x00"), "\x00")
	if len(args) == 0 || args[0] == "" || filepath.Base(args[0]) == "clusterctl" {
		return false
	}
	joined := strings.Join(args, " ")
	return strings.Contains(joined, l.Data+"/") || strings.Contains(joined, l.Run+"/") ||
		strings.HasSuffix(joined, l.Data) || strings.HasSuffix(joined, l.Run)
}

// ourProcesses lists the pids of every process of this cluster still alive,
// whether or not a pid file names it (a killed `up` leaves strays).
func ourProcesses(l layout) []int {
	entries, _ := os.ReadDir("/proc")
	self := os.Getpid()
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		if isOurs(cmdline, l) {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

// stopPids sends SIGTERM, waits, then SIGKILLs what is left.
func stopPids(pids []int, timeout time.Duration) {
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		reap(pids)
		left := 0
		for _, p := range pids {
			if processExists(p) {
				left++
			}
		}
		if left == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, p := range pids {
		_ = syscall.Kill(p, syscall.SIGKILL)
	}
	time.Sleep(200 * time.Millisecond)
	reap(pids)
}

// reap collects the exit status of those pids that are our own children
// (under `clusterctl with`, every component is), so no zombie outlives down.
func reap(pids []int) {
	for _, p := range pids {
		var ws syscall.WaitStatus
		_, _ = syscall.Wait4(p, &ws, syscall.WNOHANG, nil)
	}
}

// processExists is false for gone and for zombie processes.
func processExists(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state letter follows the ")" that closes the command name.
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}

func (l layout) stopComponent(name string) {
	b, err := os.ReadFile(l.pidFile(name))
	if err != nil {
		return
	}
	if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && ownsProcess(pid, l) {
		stopPids([]int{pid}, stopTimeout)
	}
	_ = os.Remove(l.pidFile(name))
}

// tailLog returns the last lines of a component's log, for error messages.
func (l layout) tailLog(name string, n int) string {
	b, err := os.ReadFile(l.logFile(name))
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// run runs a short host command (ip, iptables, ctr) and returns its error with
// its output.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

var errNotReady = errors.New("not ready")

// waitFor polls check until it succeeds or the timeout passes.
func waitFor(what string, timeout time.Duration, check func() error) error {
	deadline := time.Now().Add(timeout)
	var err error
	for time.Now().Before(deadline) {
		if err = check(); err == nil {
			return nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %s: %v", what, timeout, err)
}
