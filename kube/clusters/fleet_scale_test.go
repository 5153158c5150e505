//go:build scale

package clusters

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crashlens/crashlens/kube"

	"github.com/crashlens/crashlens/crash"
	"github.com/crashlens/crashlens/hack/clustertest"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// BenchmarkFleet: the fleet view's cost over several clusters of 10,000
// pods each (CRASHLENS_FLEET_PODS). Under `clusterctl with --also ...`
// (make bench) the clusters are real and separate: the bench cluster and
// each named control-plane-only instance, every one with its own etcd and
// kube-apiserver, seeded one after the other. Without instances, 10
// contexts (CRASHLENS_FLEET) all name the bench cluster's apiserver, which
// then serves each LIST as often as there are contexts. It prints, in one
// table: time to the first group of the fastest and the slowest cluster,
// the full view (every cluster synced), heap per watched pod, and the real
// TUI's time to every cluster synced, peak RSS and idle CPU.
func BenchmarkFleet(b *testing.B) {
	pods := envInt("CRASHLENS_FLEET_PODS", 10000)
	cfg := clustertest.AdminConfig(b)
	var kubeconfig string
	var names []string
	if list := os.Getenv("CRASHLENS_FLEET_KUBECONFIG"); list != "" {
		kubeconfig, names = fleetOfInstances(b, list, pods)
	} else {
		writer := rest.CopyConfig(cfg)
		writer.QPS, writer.Burst = 2000, 4000
		writer.WarningHandler = rest.NoWarnings{} // the realistic pods' shared port name, once per pod
		clustertest.Populate(b, kubernetes.NewForConfigOrDie(writer), pods)
		kubeconfig, names = fleetOfOne(b, envInt("CRASHLENS_FLEET", 10))
	}
	contexts := len(names)
	bin := clustertest.BuildCrashlens(b, "")
	c, err := kube.NewClientset(cfg, "bench")
	if err != nil {
		b.Fatal(err)
	}
	_, floor := clustertest.RawList(b, c, "")

	f := NewFlags()
	f.Config.KubeConfig = &kubeconfig
	before := clustertest.HeapInUse()
	ctx, cancel := context.WithCancel(context.Background())
	fleet := NewFleet(f, names, "bench")
	start := time.Now()
	go fleet.Run(ctx, nil)
	var firsts []time.Duration
	first, synced := map[string]bool{}, map[string]bool{}
	var full time.Duration
	for bt := range fleet.Batches() {
		if len(bt.Upserted) > 0 && !first[bt.Cluster] {
			first[bt.Cluster] = true
			firsts = append(firsts, time.Since(start))
		}
		if bt.State.Phase == crash.PhaseSynced {
			synced[bt.Cluster] = true
		}
		if len(synced) == contexts {
			full = time.Since(start)
			break
		}
	}
	perPod := float64(int64(clustertest.HeapInUse())-int64(before)) / float64(contexts*pods)
	cancel()
	for range fleet.Batches() {
	}
	runtime.KeepAlive(fleet)
	if len(firsts) < contexts {
		b.Fatalf("only %d of %d clusters showed a group", len(firsts), contexts)
	}
	slices.Sort(firsts)
	tuiSynced, tuiRSS, tuiIdle := clustertest.RunTUIUnderPty(b, bin, kubeconfig, contexts, "--context", strings.Join(names, ","))

	ms := func(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }
	fmt.Printf("\n| contexts x pods | LIST floor (one) | first group: fastest / slowest cluster | full view (all synced) | full/(contexts x floor) | heap per watched pod | TUI all synced | TUI peak RSS | TUI idle CPU |\n")
	fmt.Printf("|---|---|---|---|---|---|---|---|---|\n")
	fmt.Printf("| %d x %d | %s | %s / %s | %s | %.2fx | %.0f B | %s | %d MB | %.2f%% |\n", contexts, pods, ms(floor), ms(firsts[0]), ms(firsts[len(firsts)-1]),
		ms(full), full.Seconds()/(float64(contexts)*floor.Seconds()), perPod, ms(tuiSynced), tuiRSS/1024, 100*tuiIdle)
}

// fleetOfInstances merges the KUBECONFIG list `clusterctl with --also`
// made (the bench cluster's admin kubeconfig, then each instance's) into
// one file, and seeds every cluster with n pods, one after the other.
func fleetOfInstances(b *testing.B, list string, n int) (string, []string) {
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(list)}
	merged, err := rules.Load()
	if err != nil {
		b.Fatal(err)
	}
	var names []string
	for name := range merged.Contexts {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		cfg, err := clientcmd.NewNonInteractiveClientConfig(*merged, name, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
		if err != nil {
			b.Fatal(err)
		}
		cfg.QPS, cfg.Burst = 2000, 4000
		clustertest.Populate(b, kubernetes.NewForConfigOrDie(cfg), n)
	}
	path := filepath.Join(b.TempDir(), "fleet-kubeconfig")
	if err := clientcmd.WriteToFile(*merged, path); err != nil {
		b.Fatal(err)
	}
	return path, names
}

// fleetOfOne writes a kubeconfig whose contexts bench-0 ... bench-N-1 all
// name the bench cluster.
func fleetOfOne(b *testing.B, n int) (string, []string) {
	cfg, err := clientcmd.LoadFromFile(clustertest.Kubeconfig(b, "admin"))
	if err != nil {
		b.Fatal(err)
	}
	cur := cfg.Contexts[cfg.CurrentContext]
	var names []string
	for i := range n {
		name := fmt.Sprintf("bench-%d", i)
		cfg.Contexts[name] = cur.DeepCopy()
		names = append(names, name)
	}
	path := filepath.Join(b.TempDir(), "fleet-kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		b.Fatal(err)
	}
	return path, names
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
