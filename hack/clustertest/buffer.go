package clustertest

import (
	"bytes"
	"sync"
)

// Buffer is a bytes.Buffer a writer in another goroutine (a child
// process's stdout, a command running in-process, a webhook's log) and
// the test that reads it share: every Write and String holds its lock.
// The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
