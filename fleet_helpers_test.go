//go:build integration || fault

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/crashlens/crashlens/hack/clustertest"
)

// fleet is the test harness's several clusters: the full one and the
// named control-plane-only instances `clusterctl with --also` started
// beside it, each with its own etcd and kube-apiserver.
type fleet struct {
	// kubeconfig is a KUBECONFIG list, read as kubectl reads one: first a
	// file of the test's own contexts, then every instance's admin
	// kubeconfig (the full cluster's first).
	kubeconfig string
	a, b       string // two instances' names, also their admin contexts
}

// fleetClusters returns the harness's fleet with these contexts besides
// each instance's own: "here" (the full cluster, as admin), "down" (a port
// that refuses connections) and "rejected" (instance b with a token its
// apiserver rejects). The current context is "down", so anything that
// falls back to the current context fails.
func fleetClusters(t *testing.T) fleet {
	t.Helper()
	list, names := os.Getenv("CRASHLENS_FLEET_KUBECONFIG"), strings.Split(os.Getenv("CRASHLENS_FLEET_INSTANCES"), ",")
	if list == "" || len(names) < 2 {
		t.Fatal("CRASHLENS_FLEET_KUBECONFIG and two CRASHLENS_FLEET_INSTANCES are not set: run these tests through `make test` (clusterctl with --also ...)")
	}
	full, err := clientcmd.LoadFromFile(clustertest.Kubeconfig(t, "admin"))
	if err != nil {
		t.Fatal(err)
	}
	cur := full.Contexts[full.CurrentContext]
	own := clientcmdapi.NewConfig()
	gone := full.Clusters[cur.Cluster].DeepCopy()
	gone.Server = "https://127.0.0.1:1" // refused at once
	own.Clusters["gone"] = gone
	own.AuthInfos["bogus"] = &clientcmdapi.AuthInfo{Token: "crashlens-test-not-a-token"}
	own.Contexts["here"] = &clientcmdapi.Context{Cluster: cur.Cluster, AuthInfo: cur.AuthInfo}
	own.Contexts["down"] = &clientcmdapi.Context{Cluster: "gone", AuthInfo: cur.AuthInfo}
	own.Contexts["rejected"] = &clientcmdapi.Context{Cluster: "crashlens-" + names[1], AuthInfo: "bogus"}
	own.CurrentContext = "down"
	path := filepath.Join(t.TempDir(), "fleet-contexts")
	if err := clientcmd.WriteToFile(*own, path); err != nil {
		t.Fatal(err)
	}
	return fleet{kubeconfig: path + string(os.PathListSeparator) + list, a: names[0], b: names[1]}
}

// clientset talks to one context of the fleet.
func (f fleet) clientset(t *testing.T, context string) kubernetes.Interface {
	t.Helper()
	return clustertest.ContextClientset(t, f.kubeconfig, context)
}

// toggleInstance stops or starts one instance's kube-apiserver.
func toggleInstance(t *testing.T, instance, verb string) {
	t.Helper()
	clustertest.Clusterctl(t, "--instance", instance, verb, "kube-apiserver")
}

// seedCrash writes a pod in CrashLoopBackOff to a control-plane-only
// instance, as the scale benchmark does: nothing there schedules or runs
// it, so its status is written directly (exit 1, four restarts, the last
// one a few seconds ago). The namespace is made if missing.
func seedCrash(t *testing.T, cs kubernetes.Interface, ns, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !strings.Contains(err.Error(), "already exists") {
		t.Fatal(err)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "crashlens.local/none:1"}}},
	}
	p, err := cs.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	p.Status = corev1.PodStatus{
		Phase: corev1.PodRunning,
		ContainerStatuses: []corev1.ContainerStatus{{
			Name: "app", Image: "crashlens.local/none:1", RestartCount: 4,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container=app pod=" + name + "_" + ns,
			}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				ExitCode: 1, Reason: "Error",
				StartedAt: metav1.NewTime(now.Add(-7 * time.Second)), FinishedAt: metav1.NewTime(now.Add(-5 * time.Second)),
			}},
		}},
	}
	if _, err := cs.CoreV1().Pods(ns).UpdateStatus(ctx, p, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// runCLI runs crashlens in-process with KUBECONFIG set to the fleet's list
// (no --kubeconfig: a list is what the variable carries).
func (f fleet) runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	t.Setenv("KUBECONFIG", f.kubeconfig)
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), code
}
