package capture

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/kube/clusters"
)

// TestRowIdentityOfTodaysPodModel: on the recordings of today's pod model
// (read from the real cluster), the capture's row names the container the
// rulebook blames and the instance that ended, as the ledger's one row per
// (pod UID, container, instance) needs: the previous instance of a native
// sidecar and of a restart rule's retry, the current one of a pod that
// ended (a rule's terminal exit, a Job's attempt, a CronJob's run), and
// the last one of a whole-pod restart whose exit was not seen. (An init
// step that never finished has no termination, so no row: the capture
// skips a pod that never ended.)
func TestRowIdentityOfTodaysPodModel(t *testing.T) {
	for _, tc := range []struct {
		scenario, container string
		restart, exit       int32
		killer              string
	}{
		{"sidecar-crashloop", "log-shipper", 37, 1, diagnose.KillerApplication},
		{"restart-rule-retried", "loader", 21, 42, diagnose.KillerApplication},
		{"restart-rule-terminal", "loader", 2, 1, diagnose.KillerApplication},
		{"job-backoff-limit", "import", 0, 1, diagnose.KillerApplication},
		{"cronjob-runs-fail", "report", 0, 1, diagnose.KillerApplication},
		{"whole-pod-restart", "trainer", 1, -1, diagnose.KillerPodRestart},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			dir := filepath.Join("..", "..", "diagnose", "testdata", tc.scenario)
			var pod corev1.Pod
			var events corev1.EventList
			var meta struct {
				RecordedAt time.Time `json:"recordedAt"`
			}
			for name, v := range map[string]any{"pod.json": &pod, "events.json": &events, "scenario.json": &meta} {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, v); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
			}
			log, _ := os.ReadFile(filepath.Join(dir, "previous.log"))
			v := diagnose.Classify(&pod, meta.RecordedAt)
			if !v.Failing {
				t.Fatalf("not failing at %s", meta.RecordedAt)
			}
			r := Row(clusters.Target{Context: "test"}, Evidence{Pod: &pod, Container: v.Pod.Container, Workload: v.Pod.Owner,
				Log: log, Events: events.Items, Observed: meta.RecordedAt})
			if r.PodUID != string(pod.UID) || r.Container != tc.container || r.Restart != tc.restart || r.ExitCode != tc.exit || r.Killer != tc.killer {
				t.Errorf("row %s uid %s, container %s, instance %d, exit %d, killer %s; want %s, %s #%d, exit %d, %s",
					r.Pod, r.PodUID, r.Container, r.Restart, r.ExitCode, r.Killer, pod.UID, tc.container, tc.restart, tc.exit, tc.killer)
			}
			t.Logf("#%d exit %d: %s", r.Restart, r.ExitCode, r.Cause)
			if r.FinishedAt.IsZero() || r.Cause == "" {
				t.Errorf("row ended %v, cause %q", r.FinishedAt, r.Cause)
			}
		})
	}
}
