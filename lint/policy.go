package lint

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
)

// podContext is what lint knows of a container's pod beyond the container:
// enough to say whether a missing readiness probe costs traffic.
type podContext struct {
	runToCompletion bool     // a Job's pod: nothing sends it traffic
	services        []string // Services of the input that select the pod
}

// judge is lint's verdict on one container: diagnose's static probe
// findings (the rules the detail pane and `explain` apply), re-rated where a
// manifest alone is less evidence than a running pod, plus the port checks
// diagnose does not make. The re-rating lives here, not in diagnose, so the
// reports of recorded incidents stay as they are. POLICY.md says why each
// finding has its severity.
func judge(c *corev1.Container, pod podContext) []diagnose.Finding {
	var out []diagnose.Finding
	for _, f := range diagnose.LintContainer(c) {
		switch f.ID {
		case diagnose.FindingLivenessSharesReadiness:
			var same bool
			if f, same = sharedProbe(c, f); !same {
				continue
			}
			out = append(out, f)
		case diagnose.FindingLivenessNoReadiness:
			if pod.runToCompletion {
				continue
			}
			f.Verdict = noReadinessVerdict(pod.services)
			out = append(out, f)
		default:
			out = append(out, f)
		}
	}
	return append(out, portFindings(c)...)
}

// sharedProbe rates identical liveness and readiness probes. They restart
// healthy containers only when the probe can fail while the process is
// fine: when it checks readiness or dependencies (an error). A gRPC health
// check, a TCP connect or an exec probe with no such evidence only says the
// process answers, which is common and mostly harmless (a warning). same is
// false when the probes differ after all (two different undeclared port
// names, which diagnose cannot tell apart).
func sharedProbe(c *corev1.Container, f diagnose.Finding) (_ diagnose.Finding, same bool) {
	live, ready := c.LivenessProbe, c.ReadinessProbe
	what := describe(live, c)
	if what != describe(ready, c) {
		return f, false
	}
	sameTiming := timing(live) == timing(ready)
	why := dependencyEvidence(live)
	switch {
	case why != "" && sameTiming:
		f.Severity = diagnose.SeverityError
		f.Verdict = fmt.Sprintf("Liveness and readiness are the same probe (%s), and it checks readiness or dependencies (%s): whenever the pod is not ready, the kubelet also kills it.", what, why)
	case why != "":
		f.Severity = diagnose.SeverityError
		f.Verdict = fmt.Sprintf("Liveness and readiness probe the same endpoint (%s) with different thresholds, and it checks readiness or dependencies (%s): a dependency or warm-up failure still restarts the container.", what, why)
	case sameTiming:
		f.Severity = diagnose.SeverityWarning
		f.Verdict = fmt.Sprintf("Liveness and readiness are the same probe (%s): mostly harmless while it only tells that the process answers, but a stall takes the pod out of traffic and restarts it at once, and a dependency check added to it later would restart healthy containers.", what)
		f.Fix.Text = "Give liveness a larger failureThreshold than readiness, so a stall takes the pod out of traffic before it restarts it; keep dependency checks out of this endpoint."
	default:
		f.Severity = diagnose.SeverityWarning
		f.Verdict = fmt.Sprintf("Liveness and readiness probe the same endpoint (%s) with different thresholds: fine while it only tells that the process answers; a dependency check added to it later would restart healthy containers.", what)
		f.Fix.Text = "Keep dependency and warm-up checks out of this endpoint, or give readiness its own."
	}
	return f, true
}

// noReadinessVerdict says what a missing readiness probe costs: requests
// sent to a restarting container, which happens only when a Service selects
// the pod. Services outside the input are unknown, so without one the
// verdict is conditional.
func noReadinessVerdict(svcs []string) string {
	switch len(svcs) {
	case 0:
		return "A liveness probe without a readiness probe: if a Service selects this pod (none in this input does), the pod stays in its endpoints while the container restarts, and requests fail (connection refused, 502)."
	case 1:
		return "A liveness probe without a readiness probe: Service " + svcs[0] + " selects this pod, so while the container restarts the pod stays in its endpoints and requests fail (connection refused, 502)."
	}
	return "A liveness probe without a readiness probe: Services " + strings.Join(svcs, ", ") + " select this pod, so while the container restarts the pod stays in their endpoints and requests fail (connection refused, 502)."
}

// timing is a probe's timing with the API's defaults filled in, so an unset
// field and its default compare equal.
func timing(p *corev1.Probe) [5]int32 {
	def := func(v, d int32) int32 {
		if v == 0 {
			return d
		}
		return v
	}
	return [5]int32{p.InitialDelaySeconds, def(p.PeriodSeconds, 10), def(p.TimeoutSeconds, 1), def(p.FailureThreshold, 3), def(p.SuccessThreshold, 1)}
}

// dependencyService matches gRPC health service names that ask for more
// than "the server answers": readiness or a dependency's state.
var dependencyService = regexp.MustCompile(`(?i)(^|[^a-z])(ready|readyz|readiness|deps|dependencies|deep|downstream|upstream|db|database)([^a-z]|$)`)

// localHosts are the hosts a probe may name and still check the container
// itself.
var localHosts = map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "0.0.0.0": true}

// dependencyEvidence says what in a probe shows that it checks readiness or
// dependencies, or "" when nothing does: an HTTP path such as /ready or
// /health/db, a host other than the pod's own, a gRPC health service named
// for readiness, or an exec command naming such a path, URL or service.
func dependencyEvidence(p *corev1.Probe) string {
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		if diagnose.IsDependencyPath(h.HTTPGet.Path) {
			return "path " + h.HTTPGet.Path
		}
		if h.HTTPGet.Host != "" && !localHosts[h.HTTPGet.Host] {
			return "host " + h.HTTPGet.Host
		}
	case h.TCPSocket != nil:
		if h.TCPSocket.Host != "" && !localHosts[h.TCPSocket.Host] {
			return "host " + h.TCPSocket.Host
		}
	case h.GRPC != nil:
		if h.GRPC.Service != nil && dependencyService.MatchString(*h.GRPC.Service) {
			return "gRPC service " + *h.GRPC.Service
		}
	case h.Exec != nil:
		for _, tok := range strings.Fields(strings.Join(h.Exec.Command, " ")) {
			tok = strings.Trim(tok, `'";`)
			if path := pathIn(tok); path != "" && diagnose.IsDependencyPath(path) {
				return "command " + tok
			}
			if _, svc, ok := strings.Cut(tok, "-service="); ok && dependencyService.MatchString(svc) {
				return "command " + tok
			}
		}
	}
	return ""
}

// pathIn is the path a command-line word names: a URL's path
// (http://localhost:8080/ready), what follows host:port (localhost:8080/ready)
// or a file (/tmp/ready); "" when it names none.
func pathIn(tok string) string {
	if strings.Contains(tok, "://") {
		if u, err := url.Parse(tok); err == nil {
			return u.Path
		}
		return ""
	}
	if i := strings.Index(tok, "/"); i >= 0 {
		return tok[i:]
	}
	return ""
}
