package diagnose

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
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

// probeEvidence is what the cluster showed about the probes; the zero value
// (for lint) means no runtime evidence.
type probeEvidence struct {
	livenessKilled  *corev1.Event // a Killing event after failed liveness probes
	neverReady      bool          // killed before the pod was ever Ready
	ranBeforeKill   time.Duration // how long the killed run lasted
	observedStart   time.Duration // time from start to Ready, when seen
	timeoutEvents   []string      // Unhealthy messages that are timeouts
	readinessFailed []string      // Readiness probe failed messages
}

// dependencyPath matches liveness paths that check more than the process:
// readiness endpoints and dependency health checks.
var dependencyPath = regexp.MustCompile(`(?i)(^|/)(readyz|ready|readiness|health/(db|database|deps|dependencies|redis|kafka|cache|downstream|all|deep)|deps|dependencies|deep)(/|$|\?)`)

// portNumber resolves a probe port (number or name) against the container.
func portNumber(port intstr.IntOrString, c *corev1.Container) (int32, bool) {
	if port.Type == intstr.Int {
		return port.IntVal, true
	}
	for _, p := range c.Ports {
		if p.Name == port.StrVal {
			return p.ContainerPort, true
		}
	}
	if n, err := strconv.Atoi(port.StrVal); err == nil {
		return int32(n), true
	}
	return 0, false
}

// endpoint names what a probe checks, with named ports resolved, so two
// probes on the same thing compare equal.
func endpoint(p *corev1.Probe, c *corev1.Container) string {
	if p == nil {
		return ""
	}
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		n, _ := portNumber(h.HTTPGet.Port, c)
		return fmt.Sprintf("http :%d%s", n, h.HTTPGet.Path)
	case h.TCPSocket != nil:
		n, _ := portNumber(h.TCPSocket.Port, c)
		return fmt.Sprintf("tcp :%d", n)
	case h.GRPC != nil:
		svc := ""
		if h.GRPC.Service != nil {
			svc = *h.GRPC.Service
		}
		return fmt.Sprintf("grpc :%d %s", h.GRPC.Port, svc)
	case h.Exec != nil:
		return "exec " + strings.Join(h.Exec.Command, " ")
	}
	return ""
}

func probeTiming(p *corev1.Probe) [5]int32 {
	return [5]int32{p.InitialDelaySeconds, p.PeriodSeconds, p.TimeoutSeconds, p.FailureThreshold, p.SuccessThreshold}
}

// livenessBudget is how long a starting container survives failing liveness
// probes: initial delay plus period times threshold, plus the last timeout.
func livenessBudget(p *corev1.Probe) time.Duration {
	period := orDefault(p.PeriodSeconds, 10)
	threshold := orDefault(p.FailureThreshold, 3)
	timeout := orDefault(p.TimeoutSeconds, 1)
	return time.Duration(p.InitialDelaySeconds+period*threshold+timeout) * time.Second
}

func orDefault(v, def int32) int32 {
	if v == 0 {
		return def
	}
	return v
}

// probeFindings judges one container's probes. ev carries runtime evidence;
// its zero value gives the static findings `lint` reports.
func probeFindings(c *corev1.Container, ev probeEvidence) []Finding {
	var out []Finding
	live, ready, startup := c.LivenessProbe, c.ReadinessProbe, c.StartupProbe
	src := "spec.containers{" + c.Name + "}"
	if live != nil && ready != nil && endpoint(live, c) == endpoint(ready, c) {
		same := probeTiming(live) == probeTiming(ready)
		sev, verdict := SeverityWarning, "Liveness and readiness probe the same endpoint ("+endpoint(live, c)+") with different thresholds: a dependency or warm-up failure can still restart the container."
		if same && live.TCPSocket == nil {
			sev, verdict = SeverityError, "Liveness and readiness are the same probe ("+endpoint(live, c)+"): whenever the pod is not ready, the kubelet also kills it."
		}
		if live.HTTPGet != nil && dependencyPath.MatchString(live.HTTPGet.Path) {
			sev = SeverityError
		}
		out = append(out, Finding{
			ID: FindingLivenessSharesReadiness, Category: CategoryConfiguration, Severity: sev, Verdict: verdict,
			Evidence: []Evidence{
				{Kind: "probe", Source: src + ".livenessProbe", Quote: endpoint(live, c)},
				{Kind: "probe", Source: src + ".readinessProbe", Quote: endpoint(ready, c)},
			},
			Fix:  Fix{Text: "Point liveness at a cheap endpoint that only says the process answers (/healthz); keep dependency and warm-up checks in readiness."},
			rank: 60,
		})
	}
	if live != nil && live.HTTPGet != nil && dependencyPath.MatchString(live.HTTPGet.Path) {
		out = append(out, Finding{
			ID: FindingLivenessChecksDeps, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  fmt.Sprintf("The liveness probe calls %s, a readiness or dependency check: a slow database or a warm-up makes the kubelet restart a healthy process.", live.HTTPGet.Path),
			Evidence: []Evidence{{Kind: "probe", Source: src + ".livenessProbe.httpGet.path", Quote: live.HTTPGet.Path}},
			Fix:      Fix{Text: "Use a liveness endpoint with no dependency checks (e.g. /healthz returning 200 while the process runs)."},
			rank:     58,
		})
	}
	if live != nil && ready == nil {
		out = append(out, Finding{
			ID: FindingLivenessNoReadiness, Category: CategoryConfiguration, Severity: SeverityWarning,
			Verdict:  "A liveness probe without a readiness probe: while the container restarts, the pod stays in the Service's endpoints and requests fail (connection refused, 502).",
			Evidence: []Evidence{{Kind: "probe", Source: src + ".readinessProbe", Quote: "not set"}},
			Fix:      Fix{Text: "Add a readiness probe so traffic stops before a restart and resumes when the container is ready."},
			rank:     45,
		})
	}
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", live}, {"readinessProbe", ready}, {"startupProbe", startup}} {
		if f, ok := undeclaredPort(c, p.name, p.probe); ok {
			out = append(out, f)
		}
	}
	if live != nil && orDefault(live.TimeoutSeconds, 1) <= 1 && len(ev.timeoutEvents) > 0 {
		out = append(out, Finding{
			ID: FindingProbeTimeoutTight, Category: CategoryConfiguration, Severity: SeverityWarning,
			Verdict:  "The liveness probe allows 1 s and probes have been timing out: a busy or throttled container is killed though it works.",
			Evidence: []Evidence{{Kind: "probe", Source: src + ".livenessProbe.timeoutSeconds", Quote: strconv.Itoa(int(orDefault(live.TimeoutSeconds, 1)))}, {Kind: "event", Source: "event Unhealthy", Quote: ev.timeoutEvents[0]}},
			Fix:      Fix{Text: "Give probes timeoutSeconds: 2 or more, and look at CPU throttling."},
			rank:     50,
		})
	}
	if live != nil && startup == nil && ev.livenessKilled != nil && ev.neverReady {
		budget := livenessBudget(live)
		out = append(out, Finding{
			ID: FindingNoStartupForSlowStart, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: fmt.Sprintf("The container ran %s without becoming ready before its liveness probe had it killed, and no startup probe holds liveness off while it starts.", humanDuration(ev.ranBeforeKill)),
			Evidence: []Evidence{{Kind: "probe", Source: src + ".startupProbe", Quote: "not set"},
				{Kind: "event", Source: "event Killing", Quote: ev.livenessKilled.Message}},
			Fix:  Fix{Text: "Add a startup probe on the liveness endpoint whose budget (periodSeconds x failureThreshold) covers the start with room to spare."},
			rank: 55,
		})
		if ev.ranBeforeKill >= budget-2*time.Second {
			out = append(out, Finding{
				ID: FindingLivenessBudgetShort, Category: CategoryConfiguration, Severity: SeverityError,
				Verdict: fmt.Sprintf("The liveness budget is %s (initialDelaySeconds %d + periodSeconds %d x failureThreshold %d + timeout), shorter than this container's start: it is killed before it can be ready.",
					humanDuration(budget), live.InitialDelaySeconds, orDefault(live.PeriodSeconds, 10), orDefault(live.FailureThreshold, 3)),
				Evidence: []Evidence{{Kind: "probe", Source: src + ".livenessProbe", Quote: fmt.Sprintf("initialDelaySeconds=%d periodSeconds=%d failureThreshold=%d", live.InitialDelaySeconds, orDefault(live.PeriodSeconds, 10), orDefault(live.FailureThreshold, 3))}},
				Fix:      Fix{Text: "Cover the start with a startup probe (preferred) or raise initialDelaySeconds past the observed start."},
				rank:     54,
			})
		}
	}
	return out
}

func undeclaredPort(c *corev1.Container, name string, p *corev1.Probe) (Finding, bool) {
	if p == nil {
		return Finding{}, false
	}
	var port intstr.IntOrString
	switch {
	case p.HTTPGet != nil:
		port = p.HTTPGet.Port
	case p.TCPSocket != nil:
		port = p.TCPSocket.Port
	default:
		return Finding{}, false
	}
	src := fmt.Sprintf("spec.containers{%s}.%s", c.Name, name)
	if port.Type == intstr.String {
		if _, ok := portNumber(port, c); !ok {
			return Finding{ID: FindingProbePortNotDeclared, Category: CategoryConfiguration, Severity: SeverityError,
				Verdict:  fmt.Sprintf("The %s uses the port name %q, which no container port declares: the probe cannot succeed.", name, port.StrVal),
				Evidence: []Evidence{{Kind: "probe", Source: src, Quote: port.StrVal}},
				Fix:      Fix{Text: "Name the container port (ports: [{name: " + port.StrVal + ", containerPort: ...}]) or use the number."},
				rank:     62}, true
		}
		return Finding{}, false
	}
	for _, cp := range c.Ports {
		if cp.ContainerPort == port.IntVal {
			return Finding{}, false
		}
	}
	return Finding{ID: FindingProbePortNotDeclared, Category: CategoryConfiguration, Severity: SeverityWarning,
		Verdict:  fmt.Sprintf("The %s checks port %d, which the container does not declare: a port change in the app silently breaks the probe.", name, port.IntVal),
		Evidence: []Evidence{{Kind: "probe", Source: src, Quote: port.String()}},
		Fix:      Fix{Text: "Declare the port with a name and probe it by name."},
		rank:     30}, true
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
func compareProbes(spec *corev1.PodSpec, c *corev1.Container, tmpl *Template, ev probeEvidence, target, namespace string) ProbeReport {
	if tmpl == nil {
		tmpl = DefaultTemplate()
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

// LintContainer returns the probe findings for a container that need no
// runtime evidence: what `crashlens lint` reports for manifests.
func LintContainer(c *corev1.Container) []Finding {
	return probeFindings(c, probeEvidence{})
}

// ProbeChanges compares a container's probes with a template, without
// runtime evidence (lint); nil tmpl uses the default template.
func ProbeChanges(spec *corev1.PodSpec, c *corev1.Container, tmpl *Template) []ProbeChange {
	return compareProbes(spec, c, tmpl, probeEvidence{}, "", "").Changes
}
