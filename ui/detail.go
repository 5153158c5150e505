package ui

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crashlens/crashlens/crash"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// detailTimeout bounds gathering one pod's detail (3× --request-timeout
// when that is longer; see Options.timeout).
const detailTimeout = 20 * time.Second

// Panes of the detail screen, in tab order.
const (
	paneDiagnosis = iota
	paneExit
	paneEvents
	paneLogs
	paneProbes
	paneHistory
	paneCount
)

var paneTitles = [paneCount]string{"Diagnosis", "Exit code", "Events", "Previous logs", "Probes", "History"}

// incidentMsg is a gathered pod, tagged with its UID: a late answer for
// another pod is dropped.
type incidentMsg struct {
	uid string
	inc crash.Incident
	err error
}

// followMsg carries lines of a live log tail.
type followMsg struct {
	uid   string
	lines []string
	done  bool
}

type detailModel struct {
	group     crash.Group
	pod       diagnose.CrashPod
	container string
	restarts  int32 // restart count the data was gathered at
	inc       *crash.Incident
	rep       *diagnose.Report
	panes     [paneCount]*pane
	hist      history // the crash ledger's rows for the workload's container
	focus     int
	zoom      bool
	// showCluster: the header names the cluster (a fleet run).
	showCluster bool
	builtW      int
	notice      string
	confirm     bool // s pressed on a dead container: press again to debug
	searching   bool
	search      textinput.Model
	// live tail
	following bool
	paused    bool
	wrap      bool
	tail      []string
	cancel    context.CancelFunc
	followCh  chan followMsg
}

func newDetail(g crash.Group) *detailModel {
	d := &detailModel{group: g, pod: g.Pods[0], container: g.Container, restarts: g.Pods[0].Restarts}
	for i := range d.panes {
		d.panes[i] = &pane{title: paneTitles[i], loading: true, searchable: i == paneLogs, selectable: i == paneHistory}
	}
	d.search = textinput.New()
	d.search.Prompt = "search log: "
	steadyCursor(&d.search)
	return d
}

func (d *detailModel) fetch(src Source, timeout time.Duration) tea.Cmd {
	uid, cluster, ns, name, container := d.pod.UID, d.group.Cluster, d.pod.Namespace, d.pod.Name, d.container
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		inc, err := src.Gather(ctx, cluster, ns, name, container)
		if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("pod %s/%s: the API server did not answer within %s", ns, name, timeout)
		}
		return incidentMsg{uid: uid, inc: inc, err: err}
	}
}

// setIncident diagnoses the gathered data and fills the panes.
// onIncident shows what a fetch gathered, unless it is a late answer for
// another pod.
func (d *detailModel) onIncident(msg incidentMsg, tmpl *diagnose.Template, now time.Time) {
	if msg.uid != d.pod.UID {
		return
	}
	if msg.err == nil && msg.inc.Pod == nil {
		msg.err = fmt.Errorf("no pod data came back")
	}
	if msg.err != nil {
		for i, p := range d.panes {
			if i != paneHistory { // the ledger answers on its own
				p.setError(sanitize.Line(msg.err.Error()))
			}
		}
		return
	}
	d.setIncident(msg.inc, tmpl, now)
}

// onFollow appends a live tail's lines and waits for the next ones.
func (d *detailModel) onFollow(msg followMsg, st theme.Styles) tea.Cmd {
	if !d.following || (msg.uid != "" && msg.uid != d.pod.UID) {
		return nil
	}
	d.tail = append(d.tail, msg.lines...)
	if len(d.tail) > maxTail {
		d.tail = d.tail[len(d.tail)-maxTail:]
	}
	d.showTail(st)
	if msg.done {
		return nil
	}
	return waitFollow(d.followCh)
}

// onBatch gathers the pod anew when the batch says it restarted again, and
// reads the ledger again once that crash is likely captured.
func (d *detailModel) onBatch(b crash.Batch, src Source, o Options) tea.Cmd {
	for _, g := range b.Upserted {
		for _, p := range g.Pods {
			if p.UID == d.pod.UID && p.Restarts > d.restarts {
				d.pod, d.restarts = p, p.Restarts
				uid := p.UID
				return tea.Batch(d.fetch(src, o.timeout()), d.fetchHistory(src, o),
					tea.Tick(historyRefetch, func(time.Time) tea.Msg { return historyAgainMsg{uid: uid} }))
			}
		}
	}
	return nil
}

func (d *detailModel) setIncident(inc crash.Incident, tmpl *diagnose.Template, now time.Time) {
	r := diagnose.Diagnose(inc.Input(tmpl, now))
	d.inc, d.rep, d.builtW = &inc, &r, 0
}

// pane is pane i as the layout sees it.
func (d *detailModel) pane(i int) Pane { return d.panes[i] }

// update handles the detail screen's keys.
func (d *detailModel) update(msg tea.KeyPressMsg, o Options, src Source, st theme.Styles, h int) tea.Cmd {
	if d.searching {
		switch msg.String() {
		case "enter":
			d.searching = false
			d.panes[paneLogs].search(d.search.Value())
			return nil
		case "esc":
			d.searching = false
			return nil
		}
		var cmd tea.Cmd
		d.search, cmd = d.search.Update(msg)
		return cmd
	}
	d.notice = ""
	if msg.String() != "s" {
		d.confirm = false
	}
	if d.focus == paneHistory && d.historyKey(msg, d.paneHeight(h)) {
		return nil
	}
	p := d.panes[d.focus]
	switch {
	case key.Matches(msg, Keys.NextPane):
		d.focus = (d.focus + 1) % paneCount
	case key.Matches(msg, Keys.PrevPane):
		d.focus = (d.focus + paneCount - 1) % paneCount
	case key.Matches(msg, Keys.Zoom):
		d.zoom = !d.zoom
	case key.Matches(msg, Keys.Shell):
		cmd, note := d.shell(o)
		d.notice = note
		return cmd
	case key.Matches(msg, Keys.Logs):
		if d.following {
			d.stopFollow()
			return nil
		}
		d.focus = paneLogs
		return d.startFollow(src)
	case key.Matches(msg, Keys.Describe):
		cmd, note := d.describe(o)
		d.notice = note
		return cmd
	case key.Matches(msg, Keys.Copy):
		cmd, note := d.copyFix()
		d.notice = note
		return cmd
	case key.Matches(msg, Keys.Report):
		d.notice = d.writeReport(o.Version)
	case key.Matches(msg, Keys.Container):
		return d.nextContainer(src, o)
	case d.focus == paneLogs && key.Matches(msg, Keys.Search):
		d.searching = true
		d.search.SetValue("")
		return d.search.Focus()
	case d.focus == paneLogs && key.Matches(msg, Keys.SearchNext):
		p.next(1)
	case d.focus == paneLogs && key.Matches(msg, Keys.SearchPrev):
		p.next(-1)
	case d.focus == paneLogs && d.following && key.Matches(msg, Keys.Pause):
		d.paused = !d.paused
		d.showTail(st)
	case d.focus == paneLogs && d.following && key.Matches(msg, Keys.Wrap):
		d.wrap = !d.wrap
		d.showTail(st)
	default:
		d.pane(d.focus).Update(msg, d.paneHeight(h))
	}
	return nil
}

// nextContainer switches to the pod's next container and gathers it.
func (d *detailModel) nextContainer(src Source, o Options) tea.Cmd {
	if d.inc == nil {
		return nil
	}
	var names []string
	for _, c := range crash.Containers(d.inc.Pod) {
		names = append(names, c.Name)
	}
	for i, n := range names {
		if n == d.container {
			d.container = names[(i+1)%len(names)]
			break
		}
	}
	d.stopFollow()
	for i := range d.panes {
		d.panes[i].loading = true
	}
	d.rep, d.hist = nil, history{}
	return tea.Batch(d.fetch(src, o.timeout()), d.fetchHistory(src, o))
}
