package ui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/crashlens/crashlens/theme"
)

// Pane is what the detail screen lays out and routes keys to: it handles
// its keys, draws itself in a w x h box, and names the keys it adds for
// the help bar.
type Pane interface {
	Update(msg tea.KeyPressMsg, height int) bool
	View(st theme.Styles, w, h int, focused bool) string
	Help() []key.Binding
}

// pane is one scrollable box of the detail screen. Its content is lines of
// already sanitized (and possibly styled) text; it never wraps by itself.
type pane struct {
	title      string
	lines      []string
	offset     int
	loading    bool
	err        string // shown instead of the content
	searchable bool   // the log pane: / n N
	selectable bool   // the history pane: a row opens with enter
	// search in the pane (the log pane): the query and matching lines.
	query   string
	matches []int
	match   int
}

func (p *pane) setLines(lines []string) {
	p.lines, p.loading, p.err = lines, false, ""
	p.offset = min(p.offset, max(len(p.lines)-1, 0))
	p.research()
}

func (p *pane) setError(msg string) { p.err, p.loading, p.lines = msg, false, nil }

// Update handles the navigation keys; height is the visible line count.
func (p *pane) Update(msg tea.KeyPressMsg, height int) bool {
	last := max(len(p.lines)-height, 0)
	switch {
	case key.Matches(msg, Keys.Down):
		p.offset = min(p.offset+1, last)
	case key.Matches(msg, Keys.Up):
		p.offset = max(p.offset-1, 0)
	case key.Matches(msg, Keys.PageDown):
		p.offset = min(p.offset+max(height-1, 1), last)
	case key.Matches(msg, Keys.PageUp):
		p.offset = max(p.offset-max(height-1, 1), 0)
	case key.Matches(msg, Keys.Top):
		p.offset = 0
	case key.Matches(msg, Keys.Bottom):
		p.offset = last
	default:
		return false
	}
	return true
}

// search sets the query and jumps to the first match at or after the
// current position.
func (p *pane) search(q string) {
	p.query = q
	p.research()
	p.match = 0
	for i, l := range p.matches {
		if l >= p.offset {
			p.match = i
			break
		}
	}
	p.jump()
}

func (p *pane) research() {
	p.matches = p.matches[:0]
	if p.query == "" {
		return
	}
	q := strings.ToLower(p.query)
	for i, l := range p.lines {
		if strings.Contains(strings.ToLower(ansi.Strip(l)), q) {
			p.matches = append(p.matches, i)
		}
	}
}

// next moves to the next (dir 1) or previous (dir -1) match.
func (p *pane) next(dir int) {
	if len(p.matches) == 0 {
		return
	}
	p.match = (p.match + dir + len(p.matches)) % len(p.matches)
	p.jump()
}

func (p *pane) jump() {
	if len(p.matches) > 0 {
		p.offset = max(p.matches[p.match]-2, 0)
	}
}

// Help lists the pane's keys; the log pane adds search.
func (p *pane) Help() []key.Binding {
	if p.searchable {
		return []key.Binding{Keys.Down, Keys.Search, Keys.SearchNext}
	}
	if p.selectable {
		return []key.Binding{Keys.Down, Keys.Open}
	}
	return []key.Binding{Keys.Down, Keys.PageDown, Keys.Top}
}

// View renders the pane in a w x h box with a border and its title.
func (p *pane) View(st theme.Styles, w, h int, focused bool) string {
	if w < 4 || h < 3 {
		return ""
	}
	innerW, innerH := w-2, h-2
	var body []string
	switch {
	case p.loading:
		body = []string{st.Muted.Render("loading…")}
	case p.err != "":
		body = []string{st.Warning.Render(ansi.Truncate(p.err, innerW, "…"))}
	default:
		end := min(p.offset+innerH, len(p.lines))
		for i := p.offset; i < end; i++ {
			l := ansi.Truncate(p.lines[i], innerW, "…")
			if p.query != "" && p.isMatch(i) {
				l = st.Match.Render(ansi.Strip(l))
			}
			body = append(body, l)
		}
	}
	for len(body) < innerH {
		body = append(body, "")
	}
	border := st.Border
	if focused {
		border = st.Focused
	}
	title := " " + p.title + " "
	if n := len(p.lines); n > innerH && p.err == "" && !p.loading {
		title += st.Muted.Render(scrollInfo(p.offset, innerH, n)) + " "
	}
	if p.query != "" {
		title += st.Muted.Render("/"+p.query+" "+matchInfo(p.match, len(p.matches))) + " "
	}
	top := border.Render("┌") + st.Title.Render(ansi.Truncate(title, innerW, "…")) + border.Render(strings.Repeat("─", max(innerW-lipgloss.Width(ansi.Truncate(title, innerW, "…")), 0))+"┐")
	var b strings.Builder
	b.WriteString(top + "\n")
	for _, l := range body {
		b.WriteString(border.Render("│") + l + strings.Repeat(" ", max(innerW-lipgloss.Width(l), 0)) + border.Render("│") + "\n")
	}
	b.WriteString(border.Render("└" + strings.Repeat("─", innerW) + "┘"))
	return b.String()
}

func (p *pane) isMatch(line int) bool {
	for _, m := range p.matches {
		if m == line {
			return true
		}
	}
	return false
}

func scrollInfo(offset, h, n int) string {
	return "[" + itoa(offset+1) + "-" + itoa(min(offset+h, n)) + "/" + itoa(n) + "]"
}

func matchInfo(i, n int) string {
	if n == 0 {
		return "no match"
	}
	return itoa(i+1) + "/" + itoa(n)
}
