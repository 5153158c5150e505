// Package alert posts Slack-compatible webhook messages when a crash group
// crosses a restart threshold: what seed 05's crash monitor does, without
// its polling, its repeats or its token in the logs.
package alert

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crashlens/crashlens/crash"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/report"
	"github.com/crashlens/crashlens/sanitize"
)

// Defaults of the alert flags and the sender.
const (
	DefaultThreshold = 3
	DefaultMuteFor   = 10 * time.Minute
	queueSize        = 100
	maxAttempts      = 5
	postTimeout      = 10 * time.Second
)

// Config says where and when to alert.
type Config struct {
	URL              string
	RestartThreshold int32
	IgnoreNamespaces []string
	MuteFor          time.Duration
	// Explain returns the top finding for a group (its newest pod); it may
	// call the API and is run by the sender, never by the watch loop.
	Explain   func(ctx context.Context, g crash.Group) (diagnose.Finding, bool)
	Client    *http.Client
	Log       io.Writer
	Now       func() time.Time
	BaseDelay time.Duration // first retry delay; doubles per attempt
}

// Alerter decides which groups to alert on and sends the alerts.
type Alerter struct {
	cfg   Config
	mu    sync.Mutex
	last  map[string]time.Time
	queue chan crash.Group
}

// New returns an Alerter; call Run to start sending.
func New(cfg Config) *Alerter {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: postTimeout}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay = time.Second
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	return &Alerter{cfg: cfg, last: map[string]time.Time{}, queue: make(chan crash.Group, queueSize)}
}

// Observe looks at a changed group and queues an alert when it is at or
// past the threshold and not muted. It never blocks.
func (a *Alerter) Observe(g crash.Group) {
	if g.Restarts < a.cfg.RestartThreshold || slices.Contains(a.cfg.IgnoreNamespaces, g.Namespace) {
		return
	}
	a.mu.Lock()
	now := a.cfg.Now()
	if t, ok := a.last[g.Key]; ok && now.Sub(t) < a.cfg.MuteFor {
		a.mu.Unlock()
		return
	}
	a.last[g.Key] = now
	a.mu.Unlock()
	select {
	case a.queue <- g:
	default:
		fmt.Fprintf(a.cfg.Log, "crashlens: alert queue full; dropped the alert for %s/%s\n", g.Namespace, g.Owner)
	}
}

// Run sends queued alerts until ctx ends.
func (a *Alerter) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case g := <-a.queue:
			a.send(ctx, g)
		}
	}
}

func (a *Alerter) send(ctx context.Context, g crash.Group) {
	var top *diagnose.Finding
	if a.cfg.Explain != nil {
		ectx, cancel := context.WithTimeout(ctx, postTimeout)
		if f, ok := a.cfg.Explain(ectx, g); ok {
			top = &f
		}
		cancel()
	}
	body, err := json.Marshal(Message(g, top))
	if err != nil {
		return
	}
	delay := a.cfg.BaseDelay
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		status, err := a.post(ctx, body)
		switch {
		case err == nil && status/100 == 2:
			return
		case err == nil && status != http.StatusTooManyRequests && status/100 == 4:
			fmt.Fprintf(a.cfg.Log, "crashlens: webhook %s refused the alert for %s/%s: HTTP %d; not retrying\n", MaskURL(a.cfg.URL), g.Namespace, g.Owner, status)
			return
		}
		why := fmt.Sprintf("HTTP %d", status)
		if err != nil {
			why = maskErr(err, a.cfg.URL)
		}
		fmt.Fprintf(a.cfg.Log, "crashlens: webhook %s failed for %s/%s (attempt %d/%d): %s\n", MaskURL(a.cfg.URL), g.Namespace, g.Owner, attempt, maxAttempts, why)
		if attempt == maxAttempts {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay *= 2
	}
}

func (a *Alerter) post(ctx context.Context, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, postTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.cfg.Client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// MaskURL shows where a webhook points without its secret: the scheme,
// the host and the first path segment; the rest and any query are masked.
func MaskURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<webhook>"
	}
	first := strings.SplitN(strings.TrimPrefix(u.Path, "/"), "/", 2)[0]
	return u.Scheme + "://" + u.Host + "/" + first + "/****"
}

// maskErr removes the URL from a transport error (url.Error quotes it).
func maskErr(err error, raw string) string {
	msg := err.Error()
	if raw != "" {
		msg = strings.ReplaceAll(msg, raw, MaskURL(raw))
	}
	if u, e := url.Parse(raw); e == nil && u.Path != "" {
		msg = strings.ReplaceAll(msg, u.Path, "/****")
	}
	return msg
}

// mrkdwn escapes cluster text for Slack's mrkdwn: no controls, and no
// <...> links or mentions.
func mrkdwn(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(sanitize.Truncate(sanitize.Line(s), 500))
}

// Message is the Slack-compatible payload for a group.
func Message(g crash.Group, top *diagnose.Finding) map[string]any {
	exit := report.ExitText(g.ExitCode, g.Meaning)
	title := fmt.Sprintf("%s/%s is failing: %s", g.Namespace, g.Owner, g.State)
	if g.Cluster != "" {
		title = g.Cluster + ": " + title // a watch of several contexts alerts for all of them
	}
	fields := []map[string]string{
		{"type": "mrkdwn", "text": "*Cluster*\n" + mrkdwn(cmp.Or(g.Cluster, "-"))},
		{"type": "mrkdwn", "text": "*Namespace*\n" + mrkdwn(g.Namespace)},
		{"type": "mrkdwn", "text": "*Workload*\n" + mrkdwn(g.Owner)},
		{"type": "mrkdwn", "text": "*Container*\n" + mrkdwn(g.Container)},
		{"type": "mrkdwn", "text": "*State*\n" + mrkdwn(g.State)},
		{"type": "mrkdwn", "text": "*Exit code*\n" + mrkdwn(exit)},
		{"type": "mrkdwn", "text": fmt.Sprintf("*Restarts*\n%d (%d pods)", g.Restarts, len(g.Pods))},
	}
	blocks := []map[string]any{
		{"type": "header", "text": map[string]string{"type": "plain_text", "text": sanitize.Truncate(sanitize.Line("crashlens: "+title), 150)}},
		{"type": "section", "fields": fields},
	}
	if top != nil {
		text := fmt.Sprintf("*Top finding* `%s`: %s", top.ID, mrkdwn(top.Verdict))
		if top.Fix.Text != "" {
			text += "\n*Fix:* " + mrkdwn(top.Fix.Text)
		}
		blocks = append(blocks, map[string]any{"type": "section", "text": map[string]string{"type": "mrkdwn", "text": text}})
	}
	return map[string]any{"text": sanitize.Line(title + ", exit " + exit), "blocks": blocks}
}
