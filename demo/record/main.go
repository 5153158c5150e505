// Command record writes, for every scenario of the catalogue that has run on
// the embedded cluster, the real objects the diagnose tests take as input:
//
//	diagnose/testdata/<scenario>/pod.json          the pod (the failing one)
//	diagnose/testdata/<scenario>/owners.json       its owner chain and, for Deployments, every ReplicaSet
//	diagnose/testdata/<scenario>/events.json       events of the pod and its owners
//	diagnose/testdata/<scenario>/previous.log      tail of the failing container's previous log
//	diagnose/testdata/<scenario>/previous.error    instead, when the API had no previous log
//	diagnose/testdata/<scenario>/kubelet.json      the node's kubelet configuration (back-off cap)
//	diagnose/testdata/<scenario>/scenario.json     which container, and what the scenario declares
//
// Volatile fields (UIDs, timestamps, IPs) are kept as recorded.
//
//	go run ./demo/record [-kubeconfig PATH] [-out diagnose/testdata] [scenario...]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crashlens/crashlens/demo"
)

const logTailLines = 200

func main() {
	kubeconfig := flag.String("kubeconfig", "/var/lib/crashlens-cluster/kubeconfig", "kubeconfig of the cluster the scenarios ran on")
	out := flag.String("out", "diagnose/testdata", "output folder")
	flag.Parse()
	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fail(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, s := range demo.Catalogue {
		if flag.NArg() > 0 && !slices.Contains(flag.Args(), s.Name) {
			continue
		}
		if err := record(ctx, cs, s, filepath.Join(*out, s.Name)); err != nil {
			fail(fmt.Errorf("%s: %w", s.Name, err))
		}
		fmt.Println("recorded", s.Name)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "record:", err)
	os.Exit(1)
}

func record(ctx context.Context, cs kubernetes.Interface, s demo.Scenario, dir string) error {
	obs, err := demo.Observe(ctx, cs, s)
	if err != nil {
		return err
	}
	pod, ok := pickPod(s, obs)
	if !ok {
		return fmt.Errorf("no pod has reached the declared state yet: %v", s.Expect.Check(obs))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	pod.APIVersion, pod.Kind = "v1", "Pod"
	if err := writeJSON(filepath.Join(dir, "pod.json"), pod); err != nil {
		return err
	}
	owners, err := ownerChain(ctx, cs, pod)
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "owners.json"), &corev1.List{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "List"}, Items: owners}); err != nil {
		return err
	}
	events, err := relatedEvents(ctx, cs, pod, owners)
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "events.json"), events); err != nil {
		return err
	}
	if err := recordLog(ctx, cs, pod, s.Expect.Container, dir); err != nil {
		return err
	}
	configz, err := cs.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", pod.Spec.NodeName, "proxy", "configz").DoRaw(ctx)
	if err == nil {
		if err := os.WriteFile(filepath.Join(dir, "kubelet.json"), append(configz, '\n'), 0o644); err != nil {
			return err
		}
	}
	return writeJSON(filepath.Join(dir, "scenario.json"), map[string]any{
		"name": s.Name, "title": s.Title, "seed": s.Seed, "workload": s.Workload,
		"container": s.Expect.Container, "init": s.Expect.Init, "expect": s.Expect, "recordedAt": time.Now().UTC(),
	})
}

// pickPod returns the pod that shows the scenario's declared state on its
// own (for rollouts, the new ReplicaSet's failing pod).
func pickPod(s demo.Scenario, obs demo.Observation) (corev1.Pod, bool) {
	for _, p := range obs.Pods {
		one := demo.Observation{Pods: []corev1.Pod{p}, Events: obs.Events, Logs: obs.Logs}
		e := s.Expect
		e.HealthyPods = 0
		if len(e.Check(one)) == 0 {
			return p, true
		}
	}
	return corev1.Pod{}, false
}

func ownerChain(ctx context.Context, cs kubernetes.Interface, pod corev1.Pod) ([]runtime.RawExtension, error) {
	var owners []runtime.RawExtension
	add := func(obj any) error {
		b, err := json.Marshal(obj)
		if err != nil {
			return err
		}
		owners = append(owners, runtime.RawExtension{Raw: b})
		return nil
	}
	for _, ref := range pod.OwnerReferences {
		switch ref.Kind {
		case "ReplicaSet":
			rs, err := cs.AppsV1().ReplicaSets(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			for _, rref := range rs.OwnerReferences {
				if rref.Kind != "Deployment" {
					continue
				}
				d, err := cs.AppsV1().Deployments(pod.Namespace).Get(ctx, rref.Name, metav1.GetOptions{})
				if err != nil {
					return nil, err
				}
				d.APIVersion, d.Kind = "apps/v1", "Deployment"
				if err := add(d); err != nil {
					return nil, err
				}
				all, err := cs.AppsV1().ReplicaSets(pod.Namespace).List(ctx, metav1.ListOptions{})
				if err != nil {
					return nil, err
				}
				for i := range all.Items {
					if owned(all.Items[i].OwnerReferences, d.UID) {
						r := all.Items[i]
						r.APIVersion, r.Kind = "apps/v1", "ReplicaSet"
						if err := add(&r); err != nil {
							return nil, err
						}
					}
				}
			}
		case "Job":
			j, err := cs.BatchV1().Jobs(pod.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
			if err != nil {
				return nil, err
			}
			j.APIVersion, j.Kind = "batch/v1", "Job"
			if err := add(j); err != nil {
				return nil, err
			}
		}
	}
	return owners, nil
}

func owned(refs []metav1.OwnerReference, uid any) bool {
	return slices.ContainsFunc(refs, func(r metav1.OwnerReference) bool { return r.UID == uid })
}

func relatedEvents(ctx context.Context, cs kubernetes.Interface, pod corev1.Pod, owners []runtime.RawExtension) (*corev1.EventList, error) {
	names := map[string]bool{"Pod/" + pod.Name: true}
	for _, o := range owners {
		var meta struct {
			Kind     string            `json:"kind"`
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		if err := json.Unmarshal(o.Raw, &meta); err == nil {
			names[meta.Kind+"/"+meta.Metadata.Name] = true
		}
	}
	all, err := cs.CoreV1().Events(pod.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	list := &corev1.EventList{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "EventList"}}
	for _, ev := range all.Items {
		if names[ev.InvolvedObject.Kind+"/"+ev.InvolvedObject.Name] {
			ev.APIVersion, ev.Kind = "v1", "Event"
			list.Items = append(list.Items, ev)
		}
	}
	return list, nil
}

// recordLog writes the log of the container's latest dead instance: the
// current one while the kubelet shows the container terminated (or, when
// none died, the running one), else --previous (the kubelet keeps only the newest dead instance of an init
// container or sidecar, so --previous would then be gone).
func recordLog(ctx context.Context, cs kubernetes.Interface, pod corev1.Pod, container, dir string) error {
	tail := int64(logTailLines)
	previous := true
	for _, st := range append(slices.Clone(pod.Status.ContainerStatuses), pod.Status.InitContainerStatuses...) {
		// The dead instance is the current one, or none died yet and it
		// runs on (an init step that never finishes).
		if st.Name == container && (st.State.Terminated != nil || (st.State.Running != nil && st.LastTerminationState.Terminated == nil)) {
			previous = false
		}
	}
	rc, err := cs.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &tail}).Stream(ctx)
	if err != nil {
		return os.WriteFile(filepath.Join(dir, "previous.error"), []byte(err.Error()+"\n"), 0o644)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "previous.log"), b, 0o644)
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}
