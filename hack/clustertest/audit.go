package clustertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The test apiserver logs every request to its audit log (Metadata level;
// see hack/cluster/configs.go): what a session of the real binary asked of
// the cluster, counted on the server's side.

// AuditEvent is the part of a kube-apiserver audit record the tests read.
type AuditEvent struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	Verb       string `json:"verb"`
	RequestURI string `json:"requestURI"`
	UserAgent  string `json:"userAgent"`
	// Received is when the apiserver received the request.
	Received time.Time `json:"requestReceivedTimestamp"`
	User     struct {
		Username string `json:"username"`
	} `json:"user"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Subresource string `json:"subresource"`
		APIGroup    string `json:"apiGroup"`
		Namespace   string `json:"namespace"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
}

// Resource is the request's resource with its subresource ("pods/log"),
// or its URI when it names none.
func (e AuditEvent) Resource() string {
	if e.ObjectRef == nil {
		return e.RequestURI
	}
	r := e.ObjectRef.Resource
	if e.ObjectRef.Subresource != "" {
		r += "/" + e.ObjectRef.Subresource
	}
	return r
}

// Code is the response's HTTP status, 0 when the record has none.
func (e AuditEvent) Code() int {
	if e.ResponseStatus == nil {
		return 0
	}
	return e.ResponseStatus.Code
}

// auditLog is the test apiserver's audit log, beside its kubeconfig.
func auditLog(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(filepath.Dir(Kubeconfig(tb, "admin")), "logs", "audit.log")
}

// AuditMark is where the audit log ends now: AuditSince(mark) reads what
// is logged after it.
func AuditMark(tb testing.TB) int64 {
	tb.Helper()
	fi, err := os.Stat(auditLog(tb))
	if err != nil {
		tb.Fatalf("the test cluster writes no audit log: %v", err)
	}
	return fi.Size()
}

// AuditSince returns the requests logged after mark whose user agent is
// one of userAgents, one per request (a watch logs when it starts and when
// it ends). Every agent starts with the first one (crashlens/VERSION).
func AuditSince(tb testing.TB, mark int64, userAgents ...string) []AuditEvent {
	tb.Helper()
	f, err := os.Open(auditLog(tb))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Seek(mark, io.SeekStart); err != nil {
		tb.Fatal(err)
	}
	byID := map[string]AuditEvent{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), []byte(userAgents[0])) {
			continue // every agent starts with the first: crashlens/VERSION
		}
		var e AuditEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || !slices.Contains(userAgents, e.UserAgent) {
			continue
		}
		if _, ok := byID[e.AuditID]; !ok {
			order = append(order, e.AuditID)
		}
		if prev, ok := byID[e.AuditID]; !ok || prev.ResponseStatus == nil || e.Stage == "ResponseComplete" {
			byID[e.AuditID] = e
		}
	}
	out := make([]AuditEvent, 0, len(order))
	for _, id := range order {
		out = append(out, byID[id])
	}
	return out
}
