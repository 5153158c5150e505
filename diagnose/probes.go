package diagnose

import (
	"cmp"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

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

// ResolvePort is the number a probe port means for the kubelet: the number,
// the container port of that name, or a name that is a number; ok is false
// for a name no port of the container declares. lint asks it too.
func ResolvePort(port intstr.IntOrString, c *corev1.Container) (int32, bool) {
	return portNumber(port, c)
}

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
		scheme := strings.ToLower(cmp.Or(string(h.HTTPGet.Scheme), "http")) // the kubelet's defaults: HTTP, the pod IP, "/"
		return fmt.Sprintf("%s %s:%d%s", scheme, h.HTTPGet.Host, n, cmp.Or(h.HTTPGet.Path, "/"))
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

// probeTiming is a probe's timing with the API's defaults filled in, so an
// unset field and its default compare equal.
func probeTiming(p *corev1.Probe) [5]int32 {
	return [5]int32{p.InitialDelaySeconds, orDefault(p.PeriodSeconds, 10), orDefault(p.TimeoutSeconds, 1),
		orDefault(p.FailureThreshold, 3), orDefault(p.SuccessThreshold, 1)}
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
		if same {
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
			Fix: Fix{Text: "Point liveness at a cheap endpoint that only says the process answers (/healthz); keep dependency and warm-up checks in readiness."}})
	}
	if live != nil && live.HTTPGet != nil && dependencyPath.MatchString(live.HTTPGet.Path) {
		out = append(out, Finding{
			ID: FindingLivenessChecksDeps, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict:  fmt.Sprintf("The liveness probe calls %s, a readiness or dependency check: a slow database or a warm-up makes the kubelet restart a healthy process.", live.HTTPGet.Path),
			Evidence: []Evidence{{Kind: "probe", Source: src + ".livenessProbe.httpGet.path", Quote: live.HTTPGet.Path}},
			Fix:      Fix{Text: "Use a liveness endpoint with no dependency checks (e.g. /healthz returning 200 while the process runs)."}})
	}
	if live != nil && ready == nil {
		out = append(out, Finding{
			ID: FindingLivenessNoReadiness, Category: CategoryConfiguration, Severity: SeverityWarning,
			Verdict:  "A liveness probe without a readiness probe: while the container restarts, the pod stays in the Service's endpoints and requests fail (connection refused, 502).",
			Evidence: []Evidence{{Kind: "probe", Source: src + ".readinessProbe", Quote: "not set"}},
			Fix:      Fix{Text: "Add a readiness probe so traffic stops before a restart and resumes when the container is ready."}})
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
			Fix:      Fix{Text: "Give probes timeoutSeconds: 2 or more, and look at CPU throttling."}})
	}
	if live != nil && startup == nil && ev.livenessKilled != nil && ev.neverReady {
		budget := livenessBudget(live)
		out = append(out, Finding{
			ID: FindingNoStartupForSlowStart, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: fmt.Sprintf("The container ran %s without becoming ready before its liveness probe had it killed, and no startup probe holds liveness off while it starts.", humanDuration(ev.ranBeforeKill)),
			Evidence: []Evidence{{Kind: "probe", Source: src + ".startupProbe", Quote: "not set"},
				{Kind: "event", Source: "event Killing", Quote: ev.livenessKilled.Message}},
			Fix: Fix{Text: "Add a startup probe on the liveness endpoint whose budget (periodSeconds x failureThreshold) covers the start with room to spare."}})
		if ev.ranBeforeKill >= budget-2*time.Second {
			out = append(out, Finding{
				ID: FindingLivenessBudgetShort, Category: CategoryConfiguration, Severity: SeverityError,
				Verdict: fmt.Sprintf("The liveness budget is %s (initialDelaySeconds %d + periodSeconds %d x failureThreshold %d + timeout), shorter than this container's start: it is killed before it can be ready.",
					humanDuration(budget), live.InitialDelaySeconds, orDefault(live.PeriodSeconds, 10), orDefault(live.FailureThreshold, 3)),
				Evidence: []Evidence{{Kind: "probe", Source: src + ".livenessProbe", Quote: fmt.Sprintf("initialDelaySeconds=%d periodSeconds=%d failureThreshold=%d", live.InitialDelaySeconds, orDefault(live.PeriodSeconds, 10), orDefault(live.FailureThreshold, 3))}},
				Fix:      Fix{Text: "Cover the start with a startup probe (preferred) or raise initialDelaySeconds past the observed start."}})
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
				Fix:      Fix{Text: "Name the container port (ports: [{name: " + port.StrVal + ", containerPort: ...}]) or use the number."}}, true
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
		Fix:      Fix{Text: "Declare the port with a name and probe it by name."}}, true
}

// LintContainer returns the probe findings for a container that need no
// runtime evidence: what `crashlens lint` reports for manifests.
func LintContainer(c *corev1.Container) []Finding {
	return probeFindings(c, probeEvidence{})
}

// IsDependencyPath tells whether an HTTP path looks like a readiness or
// dependency check, the kind of endpoint a liveness probe must not call.
// lint uses it to rate identical probes whose handler is not httpGet (an exec
// probe that curls /ready checks readiness just the same).
func IsDependencyPath(path string) bool {
	return dependencyPath.MatchString(path)
}
