package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// sysctls the kubelet (and the CNI bridge plugin) set on the host; their
// values before `up` are saved and restored by `down`.
var watchedSysctls = []string{
	"vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops",
	"kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes", "net/ipv4/ip_forward",
	"net/ipv4/conf/all/route_localnet",
}

// hostPaths are default paths a kubelet, containerd or CNI may create even
// when pointed elsewhere; `down` removes the ones that did not exist before.
var hostPaths = []string{
	"/run/containerd", "/var/log/containers", "/var/log/pods", "/run/netns", "/var/lib/cni",
	"/etc/cni", "/opt/cni", "/var/lib/kubelet", "/etc/kubernetes", "/var/lib/containerd", "/opt/containerd",
}

var iptablesTables = []string{"filter", "nat", "mangle"}

// hostSnapshot is the host as `up` found it.
type hostSnapshot struct {
	Sysctls  map[string]string   `json:"sysctls"`
	Paths    map[string]bool     `json:"paths"`
	Chains   map[string][]string `json:"chains"` // "iptables/filter" -> chains that existed
	Netns    []string            `json:"netns"`
	Options  options             `json:"options"`
	Finished bool                `json:"finished"` // up completed
}

func (l layout) snapshotFile() string { return l.data("host-before.json") }

func takeSnapshot(o options) hostSnapshot {
	s := hostSnapshot{Sysctls: map[string]string{}, Paths: map[string]bool{}, Chains: map[string][]string{}, Options: o}
	for _, k := range watchedSysctls {
		if b, err := os.ReadFile("/proc/sys/" + k); err == nil {
			s.Sysctls[k] = strings.TrimSpace(string(b))
		}
	}
	for _, p := range hostPaths {
		_, err := os.Lstat(p)
		s.Paths[p] = err == nil
	}
	for _, bin := range []string{"iptables", "ip6tables"} {
		for _, t := range iptablesTables {
			s.Chains[bin+"/"+t] = listChains(bin, t)
		}
	}
	s.Netns, _ = filepath.Glob("/run/netns/*")
	return s
}

func (l layout) saveSnapshot(s hostSnapshot) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(l.snapshotFile(), b, 0o600)
}

func (l layout) loadSnapshot() (hostSnapshot, bool) {
	var s hostSnapshot
	b, err := os.ReadFile(l.snapshotFile())
	if err != nil || json.Unmarshal(b, &s) != nil {
		return s, false
	}
	return s, true
}

func restoreSysctls(s hostSnapshot) {
	for k, v := range s.Sysctls {
		cur, err := os.ReadFile("/proc/sys/" + k)
		if err == nil && strings.TrimSpace(string(cur)) != v {
			_ = os.WriteFile("/proc/sys/"+k, []byte(v), 0o644)
		}
	}
}

func listChains(bin, table string) []string {
	out, err := exec.Command(bin, "-w", "-t", table, "-S").Output()
	if err != nil {
		return nil
	}
	var chains []string
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "-N ") {
			chains = append(chains, strings.TrimPrefix(line, "-N "))
		}
	}
	return chains
}

// removeNewChains deletes every chain that was not there before `up` (the
// kubelet's KUBE-* canaries and firewall, our CRASHLENS-* chains), with the
// rules that jump to them.
func removeNewChains(s hostSnapshot) {
	for _, bin := range []string{"iptables", "ip6tables"} {
		if _, err := exec.LookPath(bin); err != nil {
			continue
		}
		for _, t := range iptablesTables {
			before := map[string]bool{}
			for _, c := range s.Chains[bin+"/"+t] {
				before[c] = true
			}
			var added []string
			for _, c := range listChains(bin, t) {
				if !before[c] && (strings.HasPrefix(c, "KUBE-") || strings.HasPrefix(c, "CRASHLENS-") || strings.HasPrefix(c, "CNI-")) {
					added = append(added, c)
				}
			}
			if len(added) == 0 {
				continue
			}
			isAdded := map[string]bool{}
			for _, c := range added {
				isAdded[c] = true
			}
			out, _ := exec.Command(bin, "-w", "-t", t, "-S").Output()
			for _, line := range strings.Split(string(out), "\n") {
				f := strings.Fields(line)
				if len(f) < 2 || f[0] != "-A" {
					continue
				}
				for i, w := range f {
					if (w == "-j" || w == "-g") && i+1 < len(f) && isAdded[f[i+1]] && !isAdded[f[1]] {
						_ = exec.Command(bin, append([]string{"-w", "-t", t, "-D"}, f[1:]...)...).Run()
					}
				}
			}
			for _, c := range added {
				_ = exec.Command(bin, "-w", "-t", t, "-F", c).Run()
			}
			for _, c := range added {
				_ = exec.Command(bin, "-w", "-t", t, "-X", c).Run()
			}
		}
	}
}

// isolatePods drops forwarded traffic from the pod network to anywhere but
// the pod network: no scenario can reach outside this machine.
func isolatePods() error {
	const chain = "CRASHLENS-ISOLATE"
	if err := run("iptables", "-w", "-N", chain); err != nil {
		return err
	}
	rules := [][]string{
		{"-A", chain, "-s", podCIDR, "-d", podCIDR, "-j", "RETURN"},
		{"-A", chain, "-s", podCIDR, "-j", "DROP"},
		{"-I", "FORWARD", "1", "-j", chain},
	}
	for _, r := range rules {
		if err := run("iptables", append([]string{"-w"}, r...)...); err != nil {
			return err
		}
	}
	return nil
}

// mountsUnder lists mount points below any of the prefixes, deepest first.
func mountsUnder(prefixes []string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		for _, p := range prefixes {
			if mp == p || strings.HasPrefix(mp, p+"/") || (strings.HasSuffix(p, "*") && strings.HasPrefix(mp, strings.TrimSuffix(p, "*"))) {
				out = append(out, mp)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unmountAll(prefixes []string) {
	for pass := 0; pass < 3; pass++ {
		mps := mountsUnder(prefixes)
		if len(mps) == 0 {
			return
		}
		for _, mp := range mps {
			_ = syscall.Unmount(mp, syscall.MNT_DETACH)
		}
	}
}

// cgroupRoots are the kubelet's pod cgroups in every mounted hierarchy.
func cgroupRoots() []string {
	var roots []string
	for _, name := range []string{"kubepods", "kubepods.slice"} {
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", name)); err == nil {
			roots = append(roots, filepath.Join("/sys/fs/cgroup", name)) // cgroup v2
		}
		m, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", name))
		roots = append(roots, m...)
	}
	return roots
}

// killCgroupProcs SIGKILLs every process in the pod cgroups: containers whose
// shim is gone would otherwise live on, reparented to init.
func killCgroupProcs() int {
	n := 0
	for _, root := range cgroupRoots() {
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || (d.Name() != "cgroup.procs" && d.Name() != "tasks") {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil {
					if syscall.Kill(pid, syscall.SIGKILL) == nil {
						n++
					}
				}
			}
			return nil
		})
	}
	return n
}

// removeCgroups removes the pod cgroup trees, leaves first.
func removeCgroups() error {
	var failed []string
	for _, root := range cgroupRoots() {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			if err := syscall.Rmdir(d); err != nil && !os.IsNotExist(err) {
				failed = append(failed, d)
			}
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("could not remove cgroups: %s", strings.Join(failed, ", "))
	}
	return nil
}

func linkExists(name string) bool {
	_, err := os.Stat("/sys/class/net/" + name)
	return err == nil
}
