package kube

// Container logs: the bounded tail of the previous and current instance,
// and the live follow. Log text is untrusted; every read is bounded.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// PreviousLog reads the tail of a container's previous log, bounded by
// LogTailLines, LogLimitBytes and MaxLogLineBytes per line. Its errors are
// ErrNoPreviousLog, ErrLogsGone, a *ForbiddenError, or a transport error.
func PreviousLog(ctx context.Context, c kubernetes.Interface, namespace, pod, container string) (string, error) {
	b, err := readLog(ctx, c, namespace, pod, &corev1.PodLogOptions{Container: container, Previous: true}, LogTailLines)
	if err != nil {
		return "", err
	}
	// The kubelet answers 200 with this text when the dead container's log
	// file is gone.
	if bytes.HasPrefix(b, []byte("unable to retrieve container logs")) {
		return "", ErrLogsGone
	}
	return string(b), nil
}

// logEndLines: when a log's tail window is longer than LogLimitBytes, its
// last lines are fetched on their own, because limitBytes counts from the
// start of the window and the crash is at its end.
const logEndLines = 20

// readLog reads the last tailLines lines of a log, bounded by LogLimitBytes
// and MaxLogLineBytes per line, with the API's errors classified. When the
// window holds more than LogLimitBytes (a huge line, a burst), the cut part
// is followed by the last logEndLines lines, so the crash's own last words
// are never what a long line pushed out.
func readLog(ctx context.Context, c kubernetes.Interface, namespace, pod string, opts *corev1.PodLogOptions, tailLines int64) ([]byte, error) {
	b, full, err := readLogWindow(ctx, c, namespace, pod, *opts, tailLines)
	if err != nil || !full || tailLines <= logEndLines {
		return b, err
	}
	// Fewer and fewer lines until a window is whole: 20, 10, 5, 2, 1.
	for n := int64(logEndLines); n >= 1; n /= 2 {
		end, full, err := readLogWindow(ctx, c, namespace, pod, *opts, n)
		if err != nil {
			return b, nil
		}
		if !full || n == 1 {
			if len(b) > 0 && b[len(b)-1] != '\n' {
				b = append(b, '\n')
			}
			what := fmt.Sprintf("the last %d lines", n)
			if n == 1 {
				what = "the last line"
			}
			b = append(b, fmt.Sprintf("[… cut at %d KiB; %s:]\n", LogLimitBytes>>10, what)...)
			return append(b, end...), nil
		}
	}
	return b, nil
}

// readLogWindow reads one window and says whether it filled LogLimitBytes.
func readLogWindow(ctx context.Context, c kubernetes.Interface, namespace, pod string, opts corev1.PodLogOptions, tailLines int64) ([]byte, bool, error) {
	limit := int64(LogLimitBytes)
	opts.TailLines, opts.LimitBytes = &tailLines, &limit
	rc, err := c.CoreV1().Pods(namespace).GetLogs(pod, &opts).Stream(ctx)
	if err != nil {
		return nil, false, classifyLogError(err, namespace)
	}
	defer rc.Close()
	lr := &io.LimitedReader{R: rc, N: LogLimitBytes}
	b, err := readBoundedLines(lr, LogLimitBytes, MaxLogLineBytes)
	return b, lr.N == 0, err
}

func classifyLogError(err error, namespace string) error {
	msg := err.Error()
	var forbidden *ForbiddenError
	switch {
	case errors.As(err, &forbidden), errors.Is(err, ErrNoPreviousLog), errors.Is(err, ErrLogsGone):
		return err // readLog classified it already: keep it what it is
	case apierrors.IsForbidden(err):
		return &ForbiddenError{Verb: "get", Resource: "pods/log", Namespace: namespace}
	case strings.Contains(msg, "previous terminated container") && strings.Contains(msg, "not found"):
		return ErrNoPreviousLog
	case strings.Contains(msg, "unable to retrieve container logs"), strings.Contains(msg, "No such file"):
		return ErrLogsGone
	}
	return fmt.Errorf("reading logs: %s", OneLine(err))
}

// readBoundedLines reads at most limit bytes, cutting each line at
// maxLine bytes (a 1 MB single line costs at most maxLine).
func readBoundedLines(r io.Reader, limit, maxLine int) ([]byte, error) {
	br := bufio.NewReaderSize(io.LimitReader(r, int64(limit)), 64<<10)
	var out bytes.Buffer
	lineLen := 0
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return out.Bytes(), nil
		}
		if err != nil {
			return out.Bytes(), err
		}
		if b == '\n' {
			lineLen = 0
			out.WriteByte(b)
			continue
		}
		if lineLen < maxLine {
			out.WriteByte(b)
		} else if lineLen == maxLine {
			out.WriteString(" [line truncated]")
		}
		lineLen++
	}
}

// FollowLog streams the container's current log, one line per call of emit,
// until ctx is cancelled. When the stream ends (the container restarted or
// the connection dropped) it reconnects, resuming after the last second
// seen, with a pause between attempts.
func FollowLog(ctx context.Context, c kubernetes.Interface, namespace, pod, container string, emit func(line string)) error {
	tail := int64(100)
	var since *metav1.Time
	for ctx.Err() == nil {
		opts := &corev1.PodLogOptions{Container: container, Follow: true, Timestamps: false}
		if since == nil {
			opts.TailLines = &tail
		} else {
			opts.SinceTime = since
		}
		rc, err := c.CoreV1().Pods(namespace).GetLogs(pod, opts).Stream(ctx)
		if err != nil {
			if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
				return classifyLogError(err, namespace)
			}
		} else {
			sc := bufio.NewScanner(rc)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				line := sc.Text()
				if len(line) > MaxLogLineBytes {
					line = line[:MaxLogLineBytes] + " [line truncated]"
				}
				emit(line)
				now := metav1.Now()
				since = &now
			}
			rc.Close()
		}
		select {
		case <-ctx.Done():
		case <-time.After(2 * time.Second):
		}
	}
	return nil
}

// InstanceLog reads the last tailLines lines of one container instance's
// log (the previous instance when previous is set), bounded as every read
// here is, with the API's errors classified (ErrLogsGone, ErrNoPreviousLog,
// a ForbiddenError): what the crash capture keeps of each termination.
func InstanceLog(ctx context.Context, c kubernetes.Interface, namespace, pod, container string, previous bool, tailLines int64) ([]byte, error) {
	b, err := readLog(ctx, c, namespace, pod, &corev1.PodLogOptions{Container: container, Previous: previous}, tailLines)
	if err != nil {
		return b, classifyLogError(err, namespace)
	}
	return b, nil
}
