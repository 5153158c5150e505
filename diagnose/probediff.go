package diagnose

// The probe diff: a container's probes against the recommended template,
// as changes with reasons, a unified diff and the patch for its owner.

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"
)

// ProbeReport compares a container's probes with the template.
type ProbeReport struct {
	Changes      []ProbeChange `json:"changes,omitempty"`
	Diff         string        `json:"diff,omitempty"`  // unified diff, current -> proposed
	Patch        string        `json:"patch,omitempty"` // strategic merge patch for Target
	PatchCommand string        `json:"patchCommand,omitempty"`
	Target       string        `json:"target,omitempty"` // Deployment/name, or Pod/name
	Note         string        `json:"note,omitempty"`
}

// ProbeChange is one changed field with the reason for it.
type ProbeChange struct {
	Probe  string `json:"probe"` // livenessProbe, readinessProbe, startupProbe, lifecycle, terminationGracePeriodSeconds
	Field  string `json:"field"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
}

// ProbeSet is the part of a container and pod spec the probe template
// covers: what a container has, what the template recommends, and what the
// patch proposes.
type ProbeSet struct {
	StartupProbe                  *corev1.Probe     `json:"startupProbe,omitempty"`
	LivenessProbe                 *corev1.Probe     `json:"livenessProbe,omitempty"`
	ReadinessProbe                *corev1.Probe     `json:"readinessProbe,omitempty"`
	Lifecycle                     *corev1.Lifecycle `json:"lifecycle,omitempty"`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds,omitempty"`
}

// compareProbes adapts the template to the container and lists what would
// change, with a unified diff and a patch for the owner.
// builtinTemplate is DefaultTemplate parsed once: compareProbes only reads
// it, and parsing the YAML was a quarter of a report's cost.
var builtinTemplate = sync.OnceValue(DefaultTemplate)

func compareProbes(spec *corev1.PodSpec, c *corev1.Container, tmpl *Template, ev probeEvidence, target, namespace string) ProbeReport {
	if tmpl == nil {
		tmpl = builtinTemplate()
	}
	cur := ProbeSet{StartupProbe: c.StartupProbe, LivenessProbe: c.LivenessProbe, ReadinessProbe: c.ReadinessProbe,
		Lifecycle: c.Lifecycle, TerminationGracePeriodSeconds: spec.TerminationGracePeriodSeconds}
	if c.LivenessProbe == nil && c.ReadinessProbe == nil && c.StartupProbe == nil && len(c.Ports) == 0 {
		return ProbeReport{Note: "No probes and no ports: not a server the template applies to."}
	}
	prop := cur
	var changes []ProbeChange
	change := func(probe, field, from, to, reason string) {
		changes = append(changes, ProbeChange{Probe: probe, Field: field, From: from, To: to, Reason: reason})
	}
	port, havePort := serverPort(c)
	// Liveness: keep the handler unless it checks dependencies; template timing.
	if tl := tmpl.LivenessProbe; tl != nil && (c.LivenessProbe != nil || havePort) {
		p := adaptHandler(c.LivenessProbe, tl, port, c)
		if c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && dependencyPath.MatchString(c.LivenessProbe.HTTPGet.Path) && tl.HTTPGet != nil {
			p.HTTPGet.Path = tl.HTTPGet.Path
			change("livenessProbe", "httpGet.path", c.LivenessProbe.HTTPGet.Path, tl.HTTPGet.Path, "liveness must not check readiness or dependencies")
		}
		applyTiming(p, tl, "livenessProbe", c.LivenessProbe, change)
		prop.LivenessProbe = p
	}
	if tr := tmpl.ReadinessProbe; tr != nil && (c.ReadinessProbe != nil || havePort) {
		p := adaptHandler(c.ReadinessProbe, tr, port, c)
		if c.ReadinessProbe == nil && c.LivenessProbe != nil && c.LivenessProbe.HTTPGet != nil && dependencyPath.MatchString(c.LivenessProbe.HTTPGet.Path) && p.HTTPGet != nil {
			p.HTTPGet.Path = c.LivenessProbe.HTTPGet.Path // the dependency check belongs here
		}
		applyTiming(p, tr, "readinessProbe", c.ReadinessProbe, change)
		prop.ReadinessProbe = p
	}
	if ts := tmpl.StartupProbe; ts != nil && prop.LivenessProbe != nil {
		p := c.StartupProbe.DeepCopy()
		if p == nil {
			p = ts.DeepCopy()
			p.ProbeHandler = *prop.LivenessProbe.ProbeHandler.DeepCopy()
		}
		applyTiming(p, ts, "startupProbe", c.StartupProbe, change)
		need := startupNeed(ev, tmpl.StartupBudgetFactor)
		period := orDefault(p.PeriodSeconds, 10)
		if have := time.Duration(period*orDefault(p.FailureThreshold, 3)) * time.Second; need > have {
			ft := int32(math.Ceil(need.Seconds() / float64(period)))
			change("startupProbe", "failureThreshold", strconv.Itoa(int(orDefault(p.FailureThreshold, 3))), strconv.Itoa(int(ft)),
				fmt.Sprintf("budget must cover %.1fx the observed start (%s)", tmpl.StartupBudgetFactor, humanDuration(need)))
			p.FailureThreshold = ft
		}
		prop.StartupProbe = p
	}
	if tmpl.Lifecycle != nil && tmpl.Lifecycle.PreStop != nil && (c.Lifecycle == nil || c.Lifecycle.PreStop == nil) {
		l := c.Lifecycle.DeepCopy()
		if l == nil {
			l = &corev1.Lifecycle{}
		}
		l.PreStop = tmpl.Lifecycle.PreStop.DeepCopy()
		prop.Lifecycle = l
		change("lifecycle", "preStop", "not set", handlerString(l.PreStop), "give load balancers time to stop sending traffic before SIGTERM")
	}
	if g := tmpl.TerminationGracePeriodSeconds; g != nil && spec.TerminationGracePeriodSeconds != nil && *spec.TerminationGracePeriodSeconds < *g {
		prop.TerminationGracePeriodSeconds = g
		change("terminationGracePeriodSeconds", "", strconv.FormatInt(*spec.TerminationGracePeriodSeconds, 10), strconv.FormatInt(*g, 10),
			"room for preStop and a graceful shutdown before SIGKILL")
	}
	r := ProbeReport{Changes: changes, Target: target}
	if len(changes) == 0 {
		r.Note = "The probes match the recommended template."
		return r
	}
	r.Diff = unifiedDiff(mustYAML(cur), mustYAML(prop), "current", "recommended")
	r.Patch, r.PatchCommand = ownerPatch(c.Name, prop, target, namespace)
	return r
}

// serverPort is the port template probes should use: a port named like the
// template's ("http"), else the port of an existing HTTP probe, else the
// container's first port.
func serverPort(c *corev1.Container) (intstr.IntOrString, bool) {
	for _, p := range c.Ports {
		if p.Name == "http" {
			return intstr.FromString("http"), true
		}
	}
	for _, pr := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe, c.StartupProbe} {
		if pr != nil && pr.HTTPGet != nil {
			return pr.HTTPGet.Port, true
		}
	}
	if len(c.Ports) > 0 {
		if c.Ports[0].Name != "" {
			return intstr.FromString(c.Ports[0].Name), true
		}
		return intstr.FromInt32(c.Ports[0].ContainerPort), true
	}
	return intstr.IntOrString{}, false
}

// adaptHandler starts from the container's probe (keeping its handler) or,
// when it has none, from the template's handler on the container's port.
func adaptHandler(have, tmpl *corev1.Probe, port intstr.IntOrString, c *corev1.Container) *corev1.Probe {
	if have != nil {
		return have.DeepCopy()
	}
	p := &corev1.Probe{ProbeHandler: *tmpl.ProbeHandler.DeepCopy()}
	if p.HTTPGet != nil {
		if _, ok := portNumber(p.HTTPGet.Port, c); !ok {
			p.HTTPGet.Port = port
		}
	}
	if p.TCPSocket != nil {
		if _, ok := portNumber(p.TCPSocket.Port, c); !ok {
			p.TCPSocket.Port = port
		}
	}
	return p
}

// applyTiming sets the template's timing fields, recording each change.
func applyTiming(p, tmpl *corev1.Probe, name string, had *corev1.Probe, change func(probe, field, from, to, reason string)) {
	if had == nil {
		change(name, "", "not set", handlerString(&corev1.LifecycleHandler{HTTPGet: p.HTTPGet, TCPSocket: p.TCPSocket, Exec: p.Exec}), addReason[name])
	}
	set := func(field string, cur *int32, want, def int32, reason string) {
		if want == 0 || orDefault(*cur, def) == want {
			return
		}
		if had != nil {
			change(name, field, strconv.Itoa(int(orDefault(*cur, def))), strconv.Itoa(int(want)), reason)
		}
		*cur = want
	}
	set("periodSeconds", &p.PeriodSeconds, tmpl.PeriodSeconds, 10, "template period")
	set("timeoutSeconds", &p.TimeoutSeconds, tmpl.TimeoutSeconds, 1, "1 s kills busy containers that still work")
	if name == "startupProbe" && orDefault(p.FailureThreshold, 3) > tmpl.FailureThreshold {
		return // a startup budget above the template's is never cut
	}
	set("failureThreshold", &p.FailureThreshold, tmpl.FailureThreshold, 3, "tolerate brief hiccups")
}

var addReason = map[string]string{
	"livenessProbe":  "restart a process that hangs",
	"readinessProbe": "stop traffic while the container is not ready, including during restarts",
	"startupProbe":   "hold liveness off until the container has started",
}

// startupNeed is the startup budget the evidence calls for.
func startupNeed(ev probeEvidence, factor float64) time.Duration {
	start := ev.observedStart
	if ev.neverReady && ev.ranBeforeKill > start {
		// It was still not ready when killed: the start takes at least that.
		start = ev.ranBeforeKill
	}
	return time.Duration(float64(start) * factor)
}

func handlerString(h *corev1.LifecycleHandler) string {
	switch {
	case h == nil:
		return ""
	case h.HTTPGet != nil:
		return fmt.Sprintf("httpGet %s port %s", h.HTTPGet.Path, h.HTTPGet.Port.String())
	case h.TCPSocket != nil:
		return "tcpSocket port " + h.TCPSocket.Port.String()
	case h.Exec != nil:
		return "exec " + strings.Join(h.Exec.Command, " ")
	case h.Sleep != nil:
		return fmt.Sprintf("sleep %ds", h.Sleep.Seconds)
	}
	return ""
}

func mustYAML(v any) string {
	b, err := yaml.Marshal(v)
	if err != nil {
		return fmt.Sprintf("# cannot render: %v\n", err)
	}
	return string(b)
}

// ownerPatch is a strategic merge patch setting the proposed fields on the
// owner's pod template, and the kubectl command that applies it.
func ownerPatch(container string, prop ProbeSet, target, namespace string) (string, string) {
	c := map[string]any{"name": container}
	if prop.StartupProbe != nil {
		c["startupProbe"] = prop.StartupProbe
	}
	if prop.LivenessProbe != nil {
		c["livenessProbe"] = prop.LivenessProbe
	}
	if prop.ReadinessProbe != nil {
		c["readinessProbe"] = prop.ReadinessProbe
	}
	if prop.Lifecycle != nil {
		c["lifecycle"] = prop.Lifecycle
	}
	podSpec := map[string]any{"containers": []any{c}}
	if prop.TerminationGracePeriodSeconds != nil {
		podSpec["terminationGracePeriodSeconds"] = *prop.TerminationGracePeriodSeconds
	}
	kind, name, _ := strings.Cut(target, "/")
	var patch map[string]any
	if kind == "Pod" || kind == "" {
		return mustYAML(podSpec), "" // probes of a bare pod cannot be patched: recreate it
	}
	patch = map[string]any{"spec": map[string]any{"template": map[string]any{"spec": podSpec}}}
	js, err := json.Marshal(patch)
	if err != nil {
		return "", ""
	}
	cmd := fmt.Sprintf("kubectl -n %s patch %s %s --type strategic -p '%s'", namespace, strings.ToLower(kind), name, js)
	return mustYAML(patch), cmd
}

// ProbeChanges compares a container's probes with a template, without
// runtime evidence (lint); nil tmpl uses the default template.
func ProbeChanges(spec *corev1.PodSpec, c *corev1.Container, tmpl *Template) []ProbeChange {
	return compareProbes(spec, c, tmpl, probeEvidence{}, "", "").Changes
}
