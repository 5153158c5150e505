package clustertest

import (
	"context"
	"fmt"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/diagnose"
)

// FailingGroups is the API's answer to what a watcher must show: every
// pod the watcher keeps (all but Succeeded: it keeps failed ones), judged
// by the rulebook now, counted per crash group. key names a group as the
// caller's suite does (the raw GroupKey, or a readable one).
func FailingGroups(c kubernetes.Interface, key func(diagnose.CrashPod) string) (map[string]int, error) {
	pods, err := c.CoreV1().Pods("").List(context.Background(), metav1.ListOptions{FieldSelector: "status.phase!=Succeeded"})
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	now := time.Now()
	for i := range pods.Items {
		if v := diagnose.Classify(&pods.Items[i], now); v.Failing {
			out[key(v.Pod)]++
		}
	}
	return out, nil
}

// GroupDiff says how the groups a watcher shows (pods per group) differ
// from the API's (FailingGroups), sorted; empty when they agree.
func GroupDiff(shown, truth map[string]int) []string {
	var diff []string
	for k, n := range truth {
		switch got, ok := shown[k]; {
		case !ok:
			diff = append(diff, fmt.Sprintf("missing %q", k))
		case got != n:
			diff = append(diff, fmt.Sprintf("%q has %d pods, the API %d", k, got, n))
		}
	}
	for k := range shown {
		if _, ok := truth[k]; !ok {
			diff = append(diff, fmt.Sprintf("shown but not in the API: %q", k))
		}
	}
	sort.Strings(diff)
	return diff
}
