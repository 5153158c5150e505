package capture

// The in-cluster recorder's rows, read back through the apiserver's
// service proxy with the user's own credentials: RBAC (services/proxy on
// the recorder's Service) decides who may read recorded crash logs, not
// crashlens.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/kubernetes"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/sanitize"
)

// Where deploy/base puts the recorder.
const (
	RecorderNamespace = "crashlens"
	RecorderService   = "crashlens-recorder"
	recorderPort      = "http"
	// remoteTimeout bounds one read: an unreachable recorder costs the
	// History pane this at most, never the list.
	remoteTimeout = 3 * time.Second
)

// ErrNoRecorder: the cluster runs no recorder (no Service in its
// namespace).
var ErrNoRecorder = errors.New("no in-cluster recorder")

// RecorderHistory is the in-cluster recorder's rows that match q (its
// Context field is ignored: the recorder's ledger holds one cluster),
// stamped with cluster, the user's name for that cluster (the recorder
// knows only its own). The rows are sanitized again: the recorder is
// another process.
func RecorderHistory(ctx context.Context, c kubernetes.Interface, cluster string, q ledger.Query) ([]ledger.Crash, error) {
	ctx, cancel := context.WithTimeout(ctx, remoteTimeout)
	defer cancel()
	params := map[string]string{"limit": strconv.Itoa(min(max(q.Limit, 1), 1000))}
	for k, v := range map[string]string{"namespace": q.Namespace, "workload": q.Workload, "pod": q.Pod, "container": q.Container} {
		if v != "" {
			params[k] = v
		}
	}
	if !q.Since.IsZero() {
		params["since"] = q.Since.UTC().Format(time.RFC3339)
	}
	raw, err := c.CoreV1().Services(RecorderNamespace).ProxyGet("http", RecorderService, recorderPort, "/api/v1/history", params).DoRaw(ctx)
	switch {
	case apierrors.IsNotFound(err):
		return nil, ErrNoRecorder
	case apierrors.IsServiceUnavailable(err):
		return nil, errors.New("in-cluster recorder not ready")
	case apierrors.IsForbidden(err):
		return nil, &kube.ForbiddenError{Verb: "get", Resource: "services/proxy", Namespace: RecorderNamespace}
	case err != nil:
		return nil, fmt.Errorf("in-cluster recorder: %s", kube.OneLine(err))
	}
	var doc struct {
		Kind  string         `json:"kind"`
		Items []ledger.Crash `json:"items"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Kind != "CrashHistory" {
		return nil, fmt.Errorf("in-cluster recorder: not a crash history (%v)", err)
	}
	for i := range doc.Items {
		sanitizeRow(&doc.Items[i])
		doc.Items[i].Context = cluster
	}
	return doc.Items, nil
}

func sanitizeRow(r *ledger.Crash) {
	for _, s := range []*string{&r.Namespace, &r.Workload, &r.Pod, &r.PodUID, &r.Container, &r.Signal, &r.Reason, &r.Message,
		&r.Killer, &r.TopFinding, &r.Category, &r.Cause, &r.FirstError, &r.LogNote} {
		*s = sanitize.Line(*s)
	}
	r.Events, r.LogTail = sanitize.Text(r.Events), sanitize.Text(r.LogTail)
}

// Remote reads each cluster's recorder for one session, remembering the
// clusters that have none or refuse the user (a refusal or an absent
// Service lasts the session; a timeout is asked again next time).
type Remote struct {
	mu     sync.Mutex
	absent map[string]error
}

// NewRemote returns a reader that has asked nothing yet.
func NewRemote() *Remote { return &Remote{absent: map[string]error{}} }

// History is RecorderHistory for the named cluster, remembered when it
// has no recorder or refuses.
func (r *Remote) History(ctx context.Context, cluster string, c kubernetes.Interface, q ledger.Query) ([]ledger.Crash, error) {
	r.mu.Lock()
	err := r.absent[cluster]
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	rows, err := RecorderHistory(ctx, c, cluster, q)
	if errors.Is(err, ErrNoRecorder) || errors.Is(err, kube.ErrForbidden) {
		r.mu.Lock()
		r.absent[cluster] = err
		r.mu.Unlock()
	}
	return rows, err
}

// Merged is one history from the local ledger's rows and the cluster
// recorder's (ledger.Merge: an instance both recorded is one row), and the
// line that says where it comes from, e.g. "history: in-cluster recorder
// since 2026-12-04 09:12 · local since 03:14". A source that failed says
// why in the line instead; one that is absent (no recorder, --no-ledger)
// is left out of it.
func Merged(local []ledger.Crash, localErr error, remote []ledger.Crash, remoteErr error, limit int) ([]ledger.Crash, string) {
	return ledger.Merge(local, remote, limit), Source(local, localErr, remote, remoteErr)
}

// Source is Merged's line alone: where a history of these rows comes from.
func Source(local []ledger.Crash, localErr error, remote []ledger.Crash, remoteErr error) string {
	var parts []string
	say := func(name string, rows []ledger.Crash, err error, absent bool) {
		switch {
		case absent:
		case err != nil:
			parts = append(parts, name+": "+sanitize.Line(err.Error()))
		case len(rows) == 0:
			parts = append(parts, name+": none")
		default:
			parts = append(parts, name+" since "+sinceText(rows[len(rows)-1].FinishedAt, rows[0].FinishedAt))
		}
	}
	say("in-cluster recorder", remote, remoteErr, errors.Is(remoteErr, ErrNoRecorder))
	say("local", local, localErr, localErr != nil && remote != nil)
	if len(parts) == 0 {
		return ""
	}
	return "history: " + strings.Join(parts, " · ")
}

// sinceText is the oldest row's time, with the date only when the newest
// is on another day.
func sinceText(oldest, newest time.Time) string {
	oldest, newest = oldest.Local(), newest.Local()
	if oldest.YearDay() == newest.YearDay() && oldest.Year() == newest.Year() {
		return oldest.Format("15:04")
	}
	return oldest.Format("2006-01-02 15:04")
}
