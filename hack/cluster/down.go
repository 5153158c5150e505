package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// down stops every process of the cluster and undoes every host change `up`
// made. It also cleans what a killed run left behind, so it is safe to run
// at any time, as often as wanted.
func down(l layout) error {
	if l.Name != "" {
		return downInstance(l)
	}
	snap, haveSnap := l.loadSnapshot()
	var problems []string

	// The kubelet first, so it does not restart what is stopped next.
	l.stopComponent("kubelet")
	for i := 0; i < 20 && killCgroupProcs() > 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	for _, name := range []string{"containerd", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
		l.stopComponent(name)
	}
	if pids := ourProcesses(l); len(pids) > 0 {
		stopPids(pids, 5*time.Second)
	}
	if pids := ourProcesses(l); len(pids) > 0 {
		problems = append(problems, fmt.Sprintf("processes still running: %v", pids))
	}

	netns := newNetns(snap)
	unmountAll(append([]string{l.Data, l.Run}, netns...))
	for _, n := range netns {
		_ = os.Remove(n)
	}
	if linkExists(bridgeName) {
		if err := run("ip", "link", "del", bridgeName); err != nil {
			problems = append(problems, err.Error())
		}
	}
	removeNewChains(snap)
	if haveSnap {
		restoreSysctls(snap)
	}
	if err := removeCgroups(); err != nil {
		problems = append(problems, err.Error())
	}
	removeContainerLogLinks(l)
	if haveSnap {
		for p, existed := range snap.Paths {
			if !existed {
				_ = os.RemoveAll(p)
			}
		}
	}
	for _, d := range []string{l.Run, l.Data} {
		if err := os.RemoveAll(d); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("cluster down left something behind:\n  - %s", strings.Join(problems, "\n  - "))
	}
	return nil
}

// downInstance stops a named control-plane-only instance and removes its
// directories. It made no host change, and the node, bridge and cgroups
// it leaves alone are the full cluster's.
func downInstance(l layout) error {
	for _, name := range []string{"kube-apiserver", "etcd"} {
		l.stopComponent(name)
	}
	if pids := ourProcesses(l); len(pids) > 0 {
		stopPids(pids, 5*time.Second)
	}
	var problems []string
	if pids := ourProcesses(l); len(pids) > 0 {
		problems = append(problems, fmt.Sprintf("processes still running: %v", pids))
	}
	for _, d := range []string{l.Run, l.Data} {
		if err := os.RemoveAll(d); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("instance %s down left something behind:\n  - %s", l.Name, strings.Join(problems, "\n  - "))
	}
	return nil
}

// newNetns lists the pod network namespaces containerd made during this run.
func newNetns(snap hostSnapshot) []string {
	before := map[string]bool{}
	for _, n := range snap.Netns {
		before[n] = true
	}
	all, _ := filepath.Glob("/run/netns/cni-*")
	var out []string
	for _, n := range all {
		if !before[n] {
			out = append(out, n)
		}
	}
	return out
}

// removeContainerLogLinks removes the kubelet's /var/log/containers links
// into this cluster's pod logs; the kubelet writes them there whatever its
// podLogsDir.
func removeContainerLogLinks(l layout) {
	links, _ := filepath.Glob("/var/log/containers/*")
	for _, link := range links {
		if target, err := os.Readlink(link); err == nil && strings.HasPrefix(target, l.data("pod-logs")) {
			_ = os.Remove(link)
		}
	}
}
