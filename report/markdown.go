// Package report renders an incident (a pod, what crashlens gathered about
// it and its diagnosis) as Markdown, for `crashlens explain`, the TUI's
// report key and incident documents. Every string from the cluster is
// sanitized; logs sit in fences they cannot close.
package report

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/crashlens/crashlens/crash"

	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/ledger"
	"github.com/crashlens/crashlens/sanitize"
)

// Bounds on each log block of the report.
const (
	MaxLogLines     = 60
	MaxLogLineRunes = 500
)

// Markdown writes the incident report; history is the crash ledger's rows
// of the pod's workload and container, newest first (nil without a ledger);
// the pod's own rows correct the back-off timeline (Backoff).
func Markdown(w io.Writer, inc crash.Incident, r diagnose.Report, history []ledger.Crash, now time.Time, version string) error {
	var b strings.Builder
	p := inc.Pod
	fmt.Fprintf(&b, "# Crash report: %s/%s\n\n", cell(p.Namespace), cell(p.Name))
	fmt.Fprintf(&b, "Container `%s`, generated %s by crashlens %s.\n\n", code(r.Pod.Container), now.UTC().Format(time.RFC3339), cell(version))
	if !r.Crashing {
		b.WriteString("> **Not crashing.** ")
	} else {
		b.WriteString("> **Verdict.** ")
	}
	if len(r.Findings) > 0 {
		b.WriteString(text(r.Findings[0].Verdict))
	}
	b.WriteString("\n\n")

	b.WriteString("| | |\n|---|---|\n")
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "| %s | %s |\n", k, v)
		}
	}
	row("Cluster", cell(inc.Cluster))
	row("State", cell(r.State))
	row("Workload", cell(strings.Join(r.Pod.OwnerChain, " ← ")))
	row("Node", cell(p.Spec.NodeName))
	row("Image", cell(imageOf(p, r.Pod.Container)))
	row("Restarts", fmt.Sprint(r.Restarts))
	if r.Exit != nil {
		row("Last exit", fmt.Sprintf("%s, killed by: %s", strings.TrimSpace(ExitText(r.Exit.Code, cell(r.Exit.Meaning))), r.Exit.Killer))
	}
	b.WriteString("\n")

	b.WriteString("## Findings\n\n")
	for i, f := range r.Findings {
		fmt.Fprintf(&b, "### %d. `%s` (%s, %s)\n\n%s\n\n", i+1, f.ID, f.Category, f.Severity, text(f.Verdict))
		if len(f.Evidence) > 0 {
			b.WriteString("Evidence:\n\n")
			for _, e := range f.Evidence {
				fmt.Fprintf(&b, "- %s: %s\n", cell(e.Source), inlineCode(e.Quote))
			}
			b.WriteString("\n")
		}
		if f.Fix.Text != "" {
			fmt.Fprintf(&b, "**Fix:** %s\n\n", text(f.Fix.Text))
		}
		if f.Fix.Patch != "" {
			b.WriteString(fenced("yaml", f.Fix.Patch))
		}
	}

	if e := r.Exit; e != nil {
		b.WriteString("## Exit code\n\n")
		fmt.Fprintf(&b, "%s\n\n", text(e.Explanation))
		b.WriteString("| code | signal | reason | started | finished | ran | killer |\n|---|---|---|---|---|---|---|\n")
		fmt.Fprintf(&b, "| %d | %s | %s | %s | %s | %.0fs | %s |\n\n", e.Code, cmp.Or(e.Signal, "-"), cell(e.Reason), stamp(e.StartedAt), stamp(e.FinishedAt), e.RanSeconds, e.Killer)
		if e.Message != "" {
			b.WriteString("Termination message:\n\n" + fenced("", e.Message))
		}
	}
	// The node's curve as the ledger saw it, as the TUI's header shows it.
	if t := Backoff(r, string(p.UID), history); t != nil {
		b.WriteString("## Back-off timeline\n\n")
		fmt.Fprintf(&b, "%s\n\n", text(t.Explanation))
		fmt.Fprintf(&b, "- current delay: %s (%s), cap %s\n", dur(t.DelaySeconds), t.DelaySource, t.CapText())
		if !t.NextRestart.IsZero() {
			fmt.Fprintf(&b, "- next restart: %s (in %s)\n", stamp(t.NextRestart), dur(t.NextRestartIn))
		}
		fmt.Fprintf(&b, "- last run: %s; back-off resets after %s of running: %v\n\n", dur(t.LastRunSeconds), dur(t.ResetWindow), map[bool]string{true: "yes, this run was long enough", false: "no"}[t.WillReset])
	}

	writeHistory(&b, history, now)

	b.WriteString("## Pod status\n\n")
	fmt.Fprintf(&b, "Phase %s, pod IP %s, created %s.\n\n", cell(string(p.Status.Phase)), cmp.Or(cell(p.Status.PodIP), "-"), stamp(p.CreationTimestamp.Time))
	b.WriteString("| container | state | ready | restarts | last exit | last reason |\n|---|---|---|---|---|---|\n")
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		last, reason := "-", "-"
		if t, _, _ := diagnose.LastTermination(cs); t != nil {
			last, reason = fmt.Sprint(t.ExitCode), cell(t.Reason)
		}
		fmt.Fprintf(&b, "| %s | %s | %v | %d | %s | %s |\n", cell(cs.Name), cell(stateWord(cs.State)), cs.Ready, cs.RestartCount, last, reason)
	}
	b.WriteString("\n## Resources\n\n| container | requests | limits | usage |\n|---|---|---|---|\n")
	for _, c := range crash.Containers(p) {
		usage := "-"
		if inc.UsageErr != nil {
			usage = cell(inc.UsageErr.Error())
		} else if u, ok := inc.Usage[c.Name]; ok {
			usage = cell(u)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(c.Name), resList(c.Resources.Requests), resList(c.Resources.Limits), usage)
	}

	writeEnv(&b, p, inc.Container)

	b.WriteString("\n## Events\n\n")
	switch {
	case inc.EventsErr != nil:
		fmt.Fprintf(&b, "Events are not available: %s\n\n", cell(inc.EventsErr.Error()))
	case len(r.Events) == 0:
		b.WriteString("No events (they expire after an hour by default).\n\n")
	default:
		b.WriteString("| last seen | type | reason | object | message |\n|---|---|---|---|---|\n")
		for _, e := range r.Events {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s %s |\n", stamp(e.Last), cell(e.Type), cell(e.Reason), cell(e.Object), cell(e.Message), e.Repeat())
		}
		b.WriteString("\n")
	}

	logSection(&b, "Previous log", "the instance that crashed", inc.PreviousLog, inc.PreviousLogErr, r.Log.FirstError)
	logSection(&b, "Current log", "the instance running or waiting now", inc.CurrentLog, inc.CurrentLogErr, nil)

	b.WriteString("## Probes\n\n")
	if len(r.Probes.Changes) == 0 {
		fmt.Fprintf(&b, "%s\n\n", text(cmp.Or(r.Probes.Note, "-")))
	} else {
		b.WriteString("| probe | field | from | to | why |\n|---|---|---|---|---|\n")
		for _, c := range r.Probes.Changes {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", c.Probe, cmp.Or(c.Field, "-"), cell(c.From), cell(c.To), cell(c.Reason))
		}
		b.WriteString("\n" + fenced("diff", r.Probes.Diff))
		fmt.Fprintf(&b, "Patch for %s:\n\n", cell(r.Probes.Target))
		b.WriteString(fenced("yaml", r.Probes.Patch))
		if r.Probes.PatchCommand != "" {
			b.WriteString(fenced("sh", r.Probes.PatchCommand))
		}
	}

	b.WriteString("## Quick checks\n\n")
	for _, q := range quickChecks(r) {
		mark := " "
		if q.hit {
			mark = "x"
		}
		fmt.Fprintf(&b, "- [%s] %s\n", mark, q.text)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// historyRows bounds the report's table of recorded crashes.
const historyRows = 20

// writeHistory is the report's section of the crash ledger: the summary,
// then the newest crashes.
func writeHistory(b *strings.Builder, rows []ledger.Crash, now time.Time) {
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Crash history (crashlens ledger)\n\n")
	fmt.Fprintf(b, "%s.\n\n", cell(HistorySummary(rows)))
	b.WriteString("| finished | ago | pod | ran | exit | cause | killer | first error |\n|---|---|---|---|---|---|---|---|\n")
	for _, r := range rows[:min(len(rows), historyRows)] {
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", stamp(r.FinishedAt), Ago(r.FinishedAt, now), cell(r.Pod), dur(r.RunSeconds),
			cell(RowExit(r)), cmp.Or(cell(r.Cause), "-"), cmp.Or(r.Killer, "-"), cmp.Or(cell(r.FirstError), "-"))
	}
	if len(rows) > historyRows {
		fmt.Fprintf(b, "\n%d older crashes: `crashlens history` lists them.\n", len(rows)-historyRows)
	}
	b.WriteString("\n")
}

type check struct {
	hit  bool
	text string
}

// quickChecks are seed 05's quick checks, answered from the findings.
func quickChecks(r diagnose.Report) []check {
	has := map[string]bool{}
	for _, f := range r.Findings {
		has[f.ID] = true
	}
	return []check{
		{has[diagnose.FindingOOMKilled], "OOMKilled: raise the memory limit"},
		{has[diagnose.FindingImagePullFailed], "image pull problem: check the image name and registry access"},
		{has[diagnose.FindingConfigRefMissing], "missing ConfigMap/Secret (or key): create it or fix the reference"},
		{has[diagnose.FindingMountFailed], "volume cannot mount (ConfigMap, Secret or PVC missing)"},
		{has[diagnose.FindingLivenessKill] || has[diagnose.FindingStartupKill], "killed by a probe, not crashed: fix the probe"},
		{has[diagnose.FindingDependencyUnreachable], "a dependency is unreachable"},
		{has[diagnose.FindingPermissionDenied], "permission denied on a path"},
		{has[diagnose.FindingBackoffNeverResets], "back-off will not reset (runs shorter than 10 minutes)"},
	}
}

func logSection(b *strings.Builder, title, what, log string, err error, first *diagnose.LogMatch) {
	fmt.Fprintf(b, "## %s\n\n", title)
	if err != nil {
		fmt.Fprintf(b, "Not available (%s): %s\n\n", what, cell(err.Error()))
		return
	}
	if strings.TrimSpace(log) == "" {
		fmt.Fprintf(b, "Empty: %s wrote nothing.\n\n", what)
		return
	}
	lines := strings.Split(strings.TrimRight(log, "\n"), "\n")
	if len(lines) > MaxLogLines {
		fmt.Fprintf(b, "Last %d of %d lines of %s.\n\n", MaxLogLines, len(lines), what)
		lines = lines[len(lines)-MaxLogLines:]
	} else {
		fmt.Fprintf(b, "The log of %s.\n\n", what)
	}
	if first != nil {
		fmt.Fprintf(b, "First error (line %d, %s): %s\n\n", first.Line, first.Kind, inlineCode(first.Text))
	}
	for i, l := range lines {
		lines[i] = sanitize.Truncate(l, MaxLogLineRunes)
	}
	b.WriteString(fenced("", strings.Join(lines, "\n")))
}

// fenced puts text in a code fence longer than any backtick run in it, so
// the text cannot end the block.
func fenced(lang, s string) string {
	s = sanitize.Text(s)
	fence := strings.Repeat("`", max(3, longestBacktickRun(s)+1))
	return fence + lang + "\n" + strings.TrimRight(s, "\n") + "\n" + fence + "\n\n"
}

// inlineCode quotes one line as inline code that its own backticks cannot
// end.
func inlineCode(s string) string {
	s = sanitize.Truncate(sanitize.Line(s), 300)
	if s == "" {
		return "(empty)"
	}
	ticks := strings.Repeat("`", longestBacktickRun(s)+1)
	return ticks + " " + s + " " + ticks
}

// longestBacktickRun is the longest run of backticks in s: a code span or
// fence must be longer to contain s.
func longestBacktickRun(s string) int {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// cell makes one line safe for a Markdown table or prose: no controls, no
// raw HTML, no column breaks.
func cell(s string) string {
	s = sanitize.Truncate(sanitize.Line(s), 500)
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;", "`", "'").Replace(s)
}

// text is prose crashlens wrote around cluster strings: sanitized, no HTML.
func text(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;").Replace(sanitize.Line(s))
}

func code(s string) string { return strings.ReplaceAll(sanitize.Line(s), "`", "'") }

func stamp(t time.Time) string {
	if t.IsZero() || t.Unix() <= 0 {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func dur(sec float64) string { return Age(time.Duration(sec * float64(time.Second))) }

func imageOf(p *corev1.Pod, container string) string {
	for _, c := range crash.Containers(p) {
		if c.Name == container {
			return c.Image
		}
	}
	return ""
}

func stateWord(s corev1.ContainerState) string {
	switch {
	case s.Waiting != nil:
		return "waiting: " + s.Waiting.Reason
	case s.Terminated != nil:
		return "terminated: " + s.Terminated.Reason
	case s.Running != nil:
		return "running"
	}
	return "-"
}

func resList(l corev1.ResourceList) string {
	if len(l) == 0 {
		return "not set"
	}
	var parts []string
	for k, v := range l {
		parts = append(parts, string(k)+"="+v.String())
	}
	sort.Strings(parts)
	return cell(strings.Join(parts, ", "))
}

// writeEnv lists the failing container's environment: config errors
// (CreateContainerConfigError) are about a missing Secret or ConfigMap key.
// Values from Secrets are never fetched, so the report names the reference
// only; a literal value whose name looks secret is hidden, because reports
// get pasted into incident channels.
func writeEnv(b *strings.Builder, p *corev1.Pod, container string) {
	var c *corev1.Container
	all := crash.Containers(p)
	for i := range all {
		if all[i].Name == container {
			c = &all[i]
		}
	}
	if c == nil || (len(c.Env) == 0 && len(c.EnvFrom) == 0) {
		return
	}
	fmt.Fprintf(b, "\n## Environment of %s\n\n| name | value or source |\n|---|---|\n", cell(c.Name))
	for _, e := range c.EnvFrom {
		prefix := ""
		if e.Prefix != "" {
			prefix = " (prefix " + cell(e.Prefix) + ")"
		}
		switch {
		case e.SecretRef != nil:
			fmt.Fprintf(b, "| * | every key of Secret %s%s |\n", cell(e.SecretRef.Name), prefix)
		case e.ConfigMapRef != nil:
			fmt.Fprintf(b, "| * | every key of ConfigMap %s%s |\n", cell(e.ConfigMapRef.Name), prefix)
		}
	}
	for _, e := range c.Env {
		fmt.Fprintf(b, "| %s | %s |\n", cell(e.Name), envSource(e))
	}
}

// secretName matches variable names whose literal values should stay out
// of a report.
var secretName = regexp.MustCompile(`(?i)pass|secret|token|key|credential|auth|private`)

func envSource(e corev1.EnvVar) string {
	if f := e.ValueFrom; f != nil {
		switch {
		case f.SecretKeyRef != nil:
			return fmt.Sprintf("Secret %s, key %s (value not read)", cell(f.SecretKeyRef.Name), cell(f.SecretKeyRef.Key))
		case f.ConfigMapKeyRef != nil:
			return fmt.Sprintf("ConfigMap %s, key %s", cell(f.ConfigMapKeyRef.Name), cell(f.ConfigMapKeyRef.Key))
		case f.FieldRef != nil:
			return "field " + cell(f.FieldRef.FieldPath)
		case f.ResourceFieldRef != nil:
			return "resource " + cell(f.ResourceFieldRef.Resource)
		}
		return "-"
	}
	if secretName.MatchString(e.Name) {
		return "(literal value hidden: the name looks secret)"
	}
	return "`" + cell(sanitize.Truncate(e.Value, 120)) + "`"
}
