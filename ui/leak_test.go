package ui

import (
	"context"
	"testing"

	"go.uber.org/goleak"
)

// followSource streams log lines until its context ends, like a real
// follow against a running container.
type followSource struct{ *fakeSource }

func (f *followSource) Follow(ctx context.Context, _, _, _, _ string, emit func(string)) error {
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return nil
		default:
			emit("line " + itoa(i))
		}
	}
}

// TestDetailOpenCloseDoesNotLeak opens the detail screen, starts a live
// log tail and closes it, a hundred times: no goroutine outlives it.
func TestDetailOpenCloseDoesNotLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	m, base := newTestModel(t, "probe-mixup-bad", "oomkilled")
	src := &followSource{fakeSource: base}
	m.src = src
	for i := 0; i < 100; i++ {
		press(t, m, "enter")
		if m.detail == nil {
			t.Fatal("detail did not open")
		}
		_, cmd := m.Update(keyMsg("l"))
		if cmd == nil || !m.detail.following {
			t.Fatal("follow did not start")
		}
		if msg, ok := cmd().(followMsg); !ok || len(msg.lines) == 0 { // one batch of lines
			t.Fatalf("no lines from the follow: %+v", msg)
		} else {
			m.Update(msg)
		}
		press(t, m, "esc")
		if m.detail != nil {
			t.Fatal("detail did not close")
		}
	}
}
