package ui

// The detail screen's jumps out of crashlens: kubectl exec, debug and
// describe, the clipboard (OSC 52) and the incident report file.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/crashlens/crashlens/kube"
	"github.com/crashlens/crashlens/report"
)

// kubectlArgs are the flags kubectl gets for this pod: in a fleet run the
// row's own context, never the kubeconfig's current one.
func (d *detailModel) kubectlArgs(o Options) kube.KubectlArgs {
	a := o.Args
	if o.fleet() && d.group.Cluster != "" {
		a.Context = d.group.Cluster
	}
	return a
}

// jumps: exec, debug, describe. They run kubectl in the foreground through
// tea.ExecProcess; the TUI suspends and comes back where it was.
func (d *detailModel) shell(o Options) (tea.Cmd, string) {
	if o.Readonly {
		return nil, "read-only mode (--readonly): exec and debug are disabled"
	}
	if o.Kubectl == "" {
		return nil, kube.ErrNoKubectl.Error()
	}
	running := d.pod.Running
	if d.inc != nil {
		for _, cs := range append(toStatus(d.inc.Pod.Status.InitContainerStatuses), toStatus(d.inc.Pod.Status.ContainerStatuses)...) {
			if cs.name == d.container {
				running = cs.running
			}
		}
	}
	if running {
		cmd := exec.Command(o.Kubectl, d.kubectlArgs(o).Exec(d.pod.Namespace, d.pod.Name, d.container)...)
		return tea.ExecProcess(cmd, func(err error) tea.Msg { return noticeMsg(resultText("exec", err)) }), ""
	}
	if !d.confirm {
		d.confirm = true
		return nil, "container " + d.container + " is not running, so exec cannot work: press s again for kubectl debug (an ephemeral busybox sharing its process namespace)"
	}
	d.confirm = false
	cmd := exec.Command(o.Kubectl, d.kubectlArgs(o).DebugEphemeral(d.pod.Namespace, d.pod.Name, d.container, o.DebugImage)...)
	return tea.ExecProcess(cmd, func(err error) tea.Msg { return noticeMsg(resultText("debug", err)) }), ""
}

func (d *detailModel) describe(o Options) (tea.Cmd, string) {
	if o.Kubectl == "" {
		return nil, kube.ErrNoKubectl.Error()
	}
	argv := d.kubectlArgs(o).Describe(d.pod.Namespace, d.pod.Name)
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	script := "'" + o.Kubectl + "' " + strings.Join(quoted, " ") + ` 2>&1 | ${PAGER:-less -R} || true`
	if _, err := exec.LookPath("less"); err != nil && os.Getenv("PAGER") == "" {
		script = "'" + o.Kubectl + "' " + strings.Join(quoted, " ") + ` 2>&1 | more`
	}
	cmd := exec.Command("sh", "-c", script)
	return tea.ExecProcess(cmd, func(err error) tea.Msg { return noticeMsg(resultText("describe", err)) }), ""
}

// copyFix puts the probe patch, else the top fix, on the clipboard (OSC 52).
func (d *detailModel) copyFix() (tea.Cmd, string) {
	if d.rep == nil {
		return nil, "nothing to copy yet"
	}
	text, what := "", ""
	switch {
	case d.rep.Probes.PatchCommand != "":
		text, what = d.rep.Probes.PatchCommand, "the kubectl patch command"
	case d.rep.Probes.Patch != "":
		text, what = d.rep.Probes.Patch, "the probe patch"
	case len(d.rep.Findings) > 0 && d.rep.Findings[0].Fix.Patch != "":
		text, what = d.rep.Findings[0].Fix.Patch, "the fix patch"
	case len(d.rep.Findings) > 0:
		text, what = d.rep.Findings[0].Fix.Text, "the fix"
	}
	if text == "" {
		return nil, "nothing to copy"
	}
	return tea.SetClipboard(text), "copied " + what + " to the clipboard (OSC 52)"
}

// writeReport writes the incident report next to where crashlens runs.
func (d *detailModel) writeReport(version string) string {
	if d.inc == nil || d.rep == nil {
		return "nothing to report yet"
	}
	name := fmt.Sprintf("crashlens-%s-%s-%s.md", d.pod.Namespace, d.pod.Name, time.Now().UTC().Format("20060102-150405"))
	f, err := os.Create(name)
	if err != nil {
		return "cannot write the report: " + err.Error()
	}
	defer f.Close()
	if err := report.Markdown(f, *d.inc, *d.rep, d.hist.rows, time.Now(), version); err != nil {
		return "cannot write the report: " + err.Error()
	}
	abs, _ := filepath.Abs(name)
	return "report written to " + abs
}

type noticeMsg string

func resultText(what string, err error) string {
	if err != nil {
		return what + " ended: " + err.Error()
	}
	return what + " ended"
}
