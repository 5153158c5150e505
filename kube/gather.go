package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/diagnose"
)

// Memo remembers, for one session, answers that do not change while it
// runs: each node's back-off cap, and that metrics cannot be read (no
// metrics API, or forbidden). A detail screen refetches every time its pod
// restarts; without the memo a restricted user's session asked the same
// forbidden questions each time. Transient failures are not remembered.
type Memo struct {
	mu        sync.Mutex
	backoff   map[string]time.Duration // node -> cap, 0 when unknown
	noMetrics error
}

// NewMemo returns an empty memo for one session.
func NewMemo() *Memo { return &Memo{backoff: map[string]time.Duration{}} }

func (m *Memo) backoffCap(ctx context.Context, c kubernetes.Interface, node string) time.Duration {
	if m == nil {
		return BackoffCap(ctx, c, node)
	}
	m.mu.Lock()
	d, ok := m.backoff[node]
	m.mu.Unlock()
	if ok {
		return d
	}
	d, err := backoffCap(ctx, c, node)
	if err == nil || apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
		m.mu.Lock()
		m.backoff[node] = d
		m.mu.Unlock()
	}
	return d
}

func (m *Memo) usage(ctx context.Context, c kubernetes.Interface, namespace, pod string) (map[string]string, error) {
	if m != nil {
		m.mu.Lock()
		err := m.noMetrics
		m.mu.Unlock()
		if err != nil {
			return nil, err
		}
	}
	u, err := Usage(ctx, c, namespace, pod)
	var unavailable metricsUnavailable
	if m != nil && errors.As(err, &unavailable) && unavailable.lasting {
		m.mu.Lock()
		m.noMetrics = err
		m.mu.Unlock()
	}
	return u, err
}

// Gather reads the pod and everything about it. It fails only when the pod
// itself cannot be read. container may be empty: the failing one is picked.
// memo may be nil (one-shot commands).
func Gather(ctx context.Context, c kubernetes.Interface, memo *Memo, namespace, name, container string) (crash.Incident, error) {
	pod, err := c.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return crash.Incident{}, fmt.Errorf("pod %s/%s: %s", namespace, name, OneLine(err))
	}
	if container == "" {
		container = diagnose.FailingContainer(pod, time.Now())
	}
	inc := crash.Incident{Pod: pod, Container: container}
	inc.Owners, inc.OwnersErr = OwnerChain(ctx, c, pod)
	inc.Events, inc.EventsErr = Events(ctx, c, namespace, name, inc.Owners.Chain)
	inc.PreviousLog, inc.PreviousLogErr = CrashedLog(ctx, c, pod, container)
	inc.CurrentLog, inc.CurrentLogErr = CurrentLog(ctx, c, namespace, name, container)
	inc.BackoffCap = memo.backoffCap(ctx, c, pod.Spec.NodeName)
	inc.Usage, inc.UsageErr = memo.usage(ctx, c, namespace, name)
	return inc, nil
}

// CrashedLog reads the log of the container's latest terminated instance
// (diagnose.LastTermination), the one that says why it crashed: the current
// instance's log while the kubelet shows the container terminated, else
// --previous; for a container that never died but runs on, its running
// log. Asking --previous while the current instance is the dead one
// reads the instance before it, which the kubelet may already have removed:
// it keeps only the newest dead instance of an init container, native
// sidecars included (pruneInitContainersBeforeStart), so a crash-looping
// sidecar's --previous is "gone" exactly when it matters.
func CrashedLog(ctx context.Context, c kubernetes.Interface, pod *corev1.Pod, container string) (string, error) {
	cs, _ := diagnose.StatusOf(pod, container)
	t, _, current := diagnose.LastTermination(cs)
	// The dead instance is the current one, or none died and an init step
	// runs on (one that never finishes: its running log is the evidence).
	initStep := diagnose.IsInitStep(pod, container)
	if (t != nil && current) || (t == nil && initStep && cs.State.Running != nil) {
		b, err := readLog(ctx, c, pod.Namespace, pod.Name, &corev1.PodLogOptions{Container: container}, LogTailLines)
		return string(b), err
	}
	return PreviousLog(ctx, c, pod.Namespace, pod.Name, container)
}

// CurrentLog reads the tail of the running (or last) instance's log, with
// the same bounds as PreviousLog.
func CurrentLog(ctx context.Context, c kubernetes.Interface, namespace, pod, container string) (string, error) {
	b, err := readLog(ctx, c, namespace, pod, &corev1.PodLogOptions{Container: container}, 100)
	return string(b), err
}

// Usage reads the pod's containers' CPU and memory from metrics.k8s.io; an
// error when no metrics server answers.
func Usage(ctx context.Context, c kubernetes.Interface, namespace, pod string) (map[string]string, error) {
	raw, err := c.CoreV1().RESTClient().Get().AbsPath("/apis/metrics.k8s.io/v1beta1/namespaces", namespace, "pods", pod).DoRaw(ctx)
	if err != nil {
		// No metrics API (404) or no right to it (403) lasts the session.
		return nil, metricsUnavailable{lasting: apierrors.IsNotFound(err) || apierrors.IsForbidden(err)}
	}
	var m struct {
		Containers []struct {
			Name  string            `json:"name"`
			Usage map[string]string `json:"usage"`
		} `json:"containers"`
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, ct := range m.Containers {
		out[ct.Name] = fmt.Sprintf("cpu %s, memory %s", ct.Usage["cpu"], ct.Usage["memory"])
	}
	return out, nil
}

// metricsUnavailable: no metrics-server answered.
type metricsUnavailable struct{ lasting bool }

func (metricsUnavailable) Error() string { return "metrics not available (no metrics-server answered)" }

// ResolvePod turns what the user typed into a pod: NS/POD, POD (in
// namespace), or deploy/NAME (its newest crashing pod, else its newest pod).
func ResolvePod(ctx context.Context, c kubernetes.Interface, arg, namespace string) (string, string, error) {
	kind, name, found := strings.Cut(arg, "/")
	switch {
	case !found:
		return namespace, arg, nil
	case kind == "deploy" || kind == "deployment" || kind == "deployments" || kind == "deployment.apps":
		d, err := c.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return "", "", fmt.Errorf("deployment %s/%s: %s", namespace, name, OneLine(err))
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil {
			return "", "", err
		}
		pods, err := c.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
		if err != nil {
			return "", "", fmt.Errorf("pods of deployment %s/%s: %s", namespace, name, OneLine(err))
		}
		if len(pods.Items) == 0 {
			return "", "", fmt.Errorf("deployment %s/%s has no pods", namespace, name)
		}
		now := time.Now()
		sort.Slice(pods.Items, func(i, j int) bool {
			ci := diagnose.Classify(&pods.Items[i], now).Failing
			cj := diagnose.Classify(&pods.Items[j], now).Failing
			if ci != cj {
				return ci
			}
			return pods.Items[i].CreationTimestamp.After(pods.Items[j].CreationTimestamp.Time)
		})
		return namespace, pods.Items[0].Name, nil
	case kind == "pod" || kind == "pods" || kind == "po":
		return namespace, name, nil
	default:
		// NS/POD
		return kind, name, nil
	}
}

// FirstLogErrors reads the crashed log (CrashedLog, as the detail does) of
// each group's newest pod and returns its first error line by group key
// (`list -o wide`); groups whose pod or log cannot be read are left out.
// The pod is read again because which instance died, and so whether its
// log is the current one or --previous, is in its status: a failed Job's
// pod and a crash-looping native sidecar have no --previous to read.
func FirstLogErrors(ctx context.Context, c kubernetes.Interface, groups []crash.Group) map[string]string {
	out := map[string]string{}
	for _, g := range groups {
		p := g.Pods[0]
		pod, err := c.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			continue
		}
		log, err := CrashedLog(ctx, c, pod, p.Container)
		if err != nil {
			continue
		}
		if sum := diagnose.ClassifyLog(strings.NewReader(log)); sum.FirstError != nil {
			out[g.Key] = sum.FirstError.Text
		}
	}
	return out
}
