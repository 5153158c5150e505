package ui

// The live log tail of the detail screen: a follow runs as a goroutine that
// hands lines to a tea.Cmd in batches; the pane keeps the last maxTail.

import (
	"context"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/crashlens/crashlens/sanitize"
	"github.com/crashlens/crashlens/theme"
)

// startFollow begins a live tail of the current container in the log pane.
func (d *detailModel) startFollow(src Source) tea.Cmd {
	ctx, cancel := context.WithCancel(context.Background())
	d.cancel, d.following, d.paused, d.tail = cancel, true, false, nil
	ch := make(chan followMsg, 64)
	d.followCh = ch
	uid, cluster, ns, name, container := d.pod.UID, d.group.Cluster, d.pod.Namespace, d.pod.Name, d.container
	go func() {
		defer close(ch)
		err := src.Follow(ctx, cluster, ns, name, container, func(line string) {
			select {
			case ch <- followMsg{uid: uid, lines: []string{line}}:
			case <-ctx.Done():
			}
		})
		if err != nil && ctx.Err() == nil {
			ch <- followMsg{uid: uid, lines: []string{"follow stopped: " + err.Error()}, done: true}
		}
	}()
	return waitFollow(ch)
}

// waitFollow delivers what arrived on the tail, batched.
func waitFollow(ch chan followMsg) tea.Cmd {
	return func() tea.Msg {
		m, ok := <-ch
		if !ok {
			return followMsg{done: true}
		}
		for len(m.lines) < 500 {
			select {
			case more, ok := <-ch:
				if !ok {
					return m
				}
				m.lines = append(m.lines, more.lines...)
			default:
				return m
			}
		}
		return m
	}
}

func (d *detailModel) stopFollow() {
	if d.cancel != nil {
		d.cancel()
	}
	d.following, d.cancel = false, nil
	d.builtW = 0
}

// maxTail bounds the live tail kept in memory.
const maxTail = 5000

func (d *detailModel) showTail(st theme.Styles) {
	state := "following"
	if d.paused {
		state = "paused (p)"
	}
	p := d.panes[paneLogs]
	p.title = "Live log: " + state
	w := d.builtW
	var lines []string
	for _, l := range d.tail {
		l = strings.ReplaceAll(sanitize.Line(l), "\t", "    ")
		if d.wrap && w > 10 {
			lines = append(lines, strings.Split(lipgloss.NewStyle().Width(w).Render(l), "\n")...)
		} else {
			lines = append(lines, l)
		}
	}
	atEnd := p.offset >= len(p.lines)-10
	p.setLines(lines)
	if atEnd && !d.paused {
		p.offset = max(len(p.lines)-10, 0)
	}
}
