//go:build integration

package clusters

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/crashlens/crashlens/hack/clustertest"
	"github.com/crashlens/crashlens/kube"
)

func TestRestrictedUsers(t *testing.T) {
	admin := clustertest.ClientsetAs(t, "admin", kube.NewClientset)
	clustertest.ScenariosOnce(t)
	ctx := context.Background()
	pod := clustertest.ScenarioPod(t, admin, "missing-script")

	viewer := clustertest.ClientsetAs(t, "viewer-ns", kube.NewClientset)
	scope, err := ResolveScope(ctx, viewer, Target{ContextNamespace: "team-a"})
	if err != nil || scope.Namespace != "team-a" || !strings.Contains(scope.Note, "forbidden to list pods cluster-wide") {
		t.Errorf("viewer-ns scope %+v, %v", scope, err)
	}
	full, err := ResolveScope(ctx, admin, Target{ContextNamespace: "default"})
	if err != nil || full.Namespace != "" || full.Note != "" {
		t.Errorf("admin scope %+v, %v", full, err)
	}

	noLogs := clustertest.ClientsetAs(t, "no-logs", kube.NewClientset)
	if _, err := kube.PreviousLog(ctx, noLogs, pod.Namespace, pod.Name, "checkoutservice"); !errors.Is(err, kube.ErrForbidden) {
		t.Errorf("no-logs previous log: %v, want forbidden", err)
	}
	if evs, err := kube.Events(ctx, noLogs, pod.Namespace, pod.Name, nil); err != nil || len(evs) == 0 {
		t.Errorf("no-logs still reads events: %d, %v", len(evs), err)
	}
	noEvents := clustertest.ClientsetAs(t, "no-events", kube.NewClientset)
	if _, err := kube.Events(ctx, noEvents, pod.Namespace, pod.Name, nil); !errors.Is(err, kube.ErrForbidden) {
		t.Errorf("no-events events: %v, want forbidden", err)
	}
	if log, err := kube.PreviousLog(ctx, noEvents, pod.Namespace, pod.Name, "checkoutservice"); err != nil || !strings.Contains(log, "currency_script.sh") {
		t.Errorf("no-events still reads logs: %q, %v", log, err)
	}
}
