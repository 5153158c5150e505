package kube

import (
	"errors"
	"testing"
)

// TestClassifyLogErrorKeepsClassified: readLog classifies its errors; the
// capture classifies again, and a refusal must stay a refusal there, or the
// capture never remembers it and asks again for every crash.
func TestClassifyLogErrorKeepsClassified(t *testing.T) {
	for _, err := range []error{&ForbiddenError{Verb: "get", Resource: "pods/log", Namespace: "shop"}, ErrNoPreviousLog, ErrLogsGone} {
		if got := classifyLogError(err, "shop"); got != err {
			t.Errorf("%v became %v", err, got)
		}
	}
	if got := classifyLogError(&ForbiddenError{Verb: "get", Resource: "pods/log", Namespace: "shop"}, "shop"); !errors.Is(got, ErrForbidden) {
		t.Errorf("a refusal is no longer ErrForbidden: %v", got)
	}
}
