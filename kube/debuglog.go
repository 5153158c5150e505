package kube

// The debug log: one line per API request and watcher change, in a file
// named by CRASHLENS_DEBUG_LOG; never headers or bodies.

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"time"

	"k8s.io/klog/v2"
)

// DebugLogEnv names the environment variable that turns on the debug log:
// the path of a file crashlens appends to. It holds one line per API request
// (method, path and query, status, duration), the watcher's connection
// changes and client-go's own messages, which would otherwise land on the
// terminal under the TUI. It never holds request headers (tokens) or
// response bodies (logs, events).
const DebugLogEnv = "CRASHLENS_DEBUG_LOG"

var (
	debugMu   sync.Mutex
	debugFile io.Writer // nil: off
	klogOnce  sync.Once
)

// StartDebugLog routes client-go's logging to the debug log file named by
// path, or nowhere when path is empty, and returns the function that
// closes the file.
func StartDebugLog(path string) (func(), error) {
	// klog writes to stderr by default, errors even when told to write to
	// a file: under a TUI that is garbage on the screen. A logger takes all
	// of it; klog allows setting one only before its first use.
	klogOnce.Do(func() { klog.SetSlogLogger(slog.New(slog.NewTextHandler(debugSink{}, nil))) })
	if path == "" {
		return func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return func() {}, fmt.Errorf("%s: %v", DebugLogEnv, err)
	}
	debugMu.Lock()
	debugFile = f
	debugMu.Unlock()
	return func() {
		debugMu.Lock()
		debugFile = nil
		debugMu.Unlock()
		_ = f.Close()
	}, nil
}

// debugSink writes to the debug log file when there is one.
type debugSink struct{}

func (debugSink) Write(p []byte) (int, error) {
	debugMu.Lock()
	defer debugMu.Unlock()
	if debugFile != nil {
		return debugFile.Write(p)
	}
	return len(p), nil
}

// Debugf writes one line to the debug log when it is on.
func Debugf(format string, args ...any) {
	debugMu.Lock()
	defer debugMu.Unlock()
	if debugFile != nil {
		fmt.Fprintf(debugFile, "%s %s\n", time.Now().Format("2006/01/02 15:04:05.000000"), fmt.Sprintf(format, args...))
	}
}

// DebugWriter is the debug log as a writer, one line per write; a no-op
// when the log is off.
func DebugWriter() io.Writer { return debugSink{} }
