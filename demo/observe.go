package demo

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Observe reads what the cluster shows of one scenario: its pods, their
// events and the failing container's previous (else current) log.
func Observe(ctx context.Context, cs kubernetes.Interface, s Scenario) (Observation, error) {
	pods, err := cs.CoreV1().Pods(s.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.Selector})
	if err != nil {
		return Observation{}, err
	}
	o := Observation{Pods: pods.Items, Logs: map[string]string{}}
	sort.Slice(o.Pods, func(i, j int) bool { return o.Pods[i].CreationTimestamp.Before(&o.Pods[j].CreationTimestamp) })
	events, err := cs.CoreV1().Events(s.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Observation{}, err
	}
	names := map[string]bool{}
	for _, p := range o.Pods {
		names[p.Name] = true
	}
	for _, ev := range events.Items {
		if ev.InvolvedObject.Kind == "Pod" && names[ev.InvolvedObject.Name] {
			o.Events = append(o.Events, ev)
		}
	}
	for _, p := range o.Pods {
		o.Logs[p.Name] = podLog(ctx, cs, p, s.Expect.Container)
	}
	return o, nil
}

// podLog returns the container's previous log, or its current log when there
// is no previous instance (init containers, containers that never restarted).
func podLog(ctx context.Context, cs kubernetes.Interface, p corev1.Pod, container string) string {
	tail := int64(200)
	var logs []string
	for _, previous := range []bool{true, false} {
		req := cs.CoreV1().Pods(p.Namespace).GetLogs(p.Name, &corev1.PodLogOptions{Container: container, Previous: previous, TailLines: &tail})
		rc, err := req.Stream(ctx)
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		logs = append(logs, string(b))
	}
	return strings.Join(logs, "")
}

// Wait polls until every scenario reaches its declared state or the timeout
// passes, printing each scenario as it gets there. It returns what each
// unfinished scenario still lacks.
func Wait(ctx context.Context, cs kubernetes.Interface, scenarios []Scenario, timeout time.Duration, progress io.Writer) map[string][]string {
	deadline := time.Now().Add(timeout)
	pending := map[string][]string{}
	for _, s := range scenarios {
		pending[s.Name] = []string{"not observed yet"}
	}
	for {
		for _, s := range scenarios {
			if _, ok := pending[s.Name]; !ok {
				continue
			}
			obs, err := Observe(ctx, cs, s)
			if err != nil {
				pending[s.Name] = []string{err.Error()}
				continue
			}
			if missing := s.Expect.Check(obs); len(missing) > 0 {
				pending[s.Name] = missing
				continue
			}
			delete(pending, s.Name)
			if progress != nil {
				fmt.Fprintf(progress, "    %-28s %-11s %s\n", s.Name, s.Namespace, s.Title)
			}
		}
		if len(pending) == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return pending
		}
		select {
		case <-ctx.Done():
		case <-time.After(pollInterval):
		}
	}
}
