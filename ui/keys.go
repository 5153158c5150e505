// Package ui is crashlens's terminal UI: a root model that owns layout,
// screens and the watcher's batches; a list screen of crash groups with a
// fuzzy filter; a detail screen of panes for one pod. Slow work (API calls,
// fuzzy matching of large sets) runs as tea.Cmds; Update never blocks.
package ui

import "charm.land/bubbles/v2/key"

// KeyMap is every key binding of the UI, in one place. Scopes: global,
// list, filter (while typing), detail, logs (the focused log pane).
type KeyMap struct {
	Quit, Back, Help                                              key.Binding
	Up, Down, PageUp, PageDown, Top, Bottom                       key.Binding
	Filter, Open, Sort, Expand, Recent, Clusters                  key.Binding
	NextPane, PrevPane, Zoom, Shell, Logs, Describe, Copy, Report key.Binding
	Search, SearchNext, SearchPrev, Pause, Wrap, Container        key.Binding
}

// Keys is the key map: k9s-like where users expect it.
var Keys = KeyMap{
	Quit:       key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	Back:       key.NewBinding(key.WithKeys("q", "esc"), key.WithHelp("q/esc", "back")),
	Help:       key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "help")),
	Up:         key.NewBinding(key.WithKeys("k", "up"), key.WithHelp("k/↑", "up")),
	Down:       key.NewBinding(key.WithKeys("j", "down"), key.WithHelp("j/↓", "down")),
	PageUp:     key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
	PageDown:   key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
	Top:        key.NewBinding(key.WithKeys("g", "home"), key.WithHelp("g", "top")),
	Bottom:     key.NewBinding(key.WithKeys("G", "end"), key.WithHelp("G", "bottom")),
	Filter:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
	Open:       key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "open")),
	Sort:       key.NewBinding(key.WithKeys("o"), key.WithHelp("o", "sort")),
	Expand:     key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "expand pods")),
	Recent:     key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "hide/show restarted-recently")),
	Clusters:   key.NewBinding(key.WithKeys("C"), key.WithHelp("C", "clusters: states, pick one")),
	NextPane:   key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "next pane")),
	PrevPane:   key.NewBinding(key.WithKeys("shift+tab"), key.WithHelp("shift+tab", "prev pane")),
	Zoom:       key.NewBinding(key.WithKeys("z"), key.WithHelp("z", "zoom")),
	Shell:      key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "shell/debug")),
	Logs:       key.NewBinding(key.WithKeys("l"), key.WithHelp("l", "follow logs")),
	Describe:   key.NewBinding(key.WithKeys("d"), key.WithHelp("d", "describe")),
	Copy:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "copy fix")),
	Report:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "write report")),
	Container:  key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "next container")),
	Search:     key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "search log")),
	SearchNext: key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "next match")),
	SearchPrev: key.NewBinding(key.WithKeys("N"), key.WithHelp("N", "prev match")),
	Pause:      key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pause")),
	Wrap:       key.NewBinding(key.WithKeys("w"), key.WithHelp("w", "wrap")),
}

// scopes lists the bindings active together; no key may mean two things
// within one scope (TestKeyScopesDoNotCollide).
func (k KeyMap) scopes() map[string][]key.Binding {
	global := []key.Binding{k.Quit, k.Back, k.Help}
	nav := []key.Binding{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom}
	return map[string][]key.Binding{
		"list":   append(append(append([]key.Binding{}, global...), nav...), k.Filter, k.Open, k.Sort, k.Expand, k.Recent, k.Clusters),
		"detail": append(append(append([]key.Binding{}, global...), nav...), k.NextPane, k.PrevPane, k.Zoom, k.Shell, k.Logs, k.Describe, k.Copy, k.Report, k.Container),
		"logs": append(append(append([]key.Binding{}, global...), nav...), k.NextPane, k.PrevPane, k.Zoom, k.Shell, k.Logs, k.Describe, k.Copy, k.Report, k.Container,
			k.Search, k.SearchNext, k.SearchPrev, k.Pause, k.Wrap),
		"history": append(append(append([]key.Binding{}, global...), nav...), k.NextPane, k.PrevPane, k.Zoom, k.Shell, k.Logs, k.Describe, k.Copy, k.Report,
			k.Container, k.Open),
	}
}
