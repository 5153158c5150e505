package lint

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/crashlens/crashlens/diagnose"
)

// portLabel shows a probe port: its number, or its name when no port
// declares it (never :0).
func portLabel(port intstr.IntOrString, c *corev1.Container) string {
	if n, ok := diagnose.ResolvePort(port, c); ok {
		return strconv.Itoa(int(n))
	}
	return port.StrVal
}

// describe names what a probe checks, with named ports resolved, so two
// probes on the same thing compare equal and two undeclared names do not.
func describe(p *corev1.Probe, c *corev1.Container) string {
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		scheme := strings.ToLower(cmp.Or(string(h.HTTPGet.Scheme), "http")) // the kubelet's defaults: HTTP, the pod IP, "/"
		return fmt.Sprintf("%s %s:%s%s", scheme, h.HTTPGet.Host, portLabel(h.HTTPGet.Port, c), cmp.Or(h.HTTPGet.Path, "/"))
	case h.TCPSocket != nil:
		return fmt.Sprintf("tcp %s:%s", h.TCPSocket.Host, portLabel(h.TCPSocket.Port, c))
	case h.GRPC != nil:
		if h.GRPC.Service != nil && *h.GRPC.Service != "" {
			return fmt.Sprintf("grpc :%d service %s", h.GRPC.Port, *h.GRPC.Service)
		}
		return fmt.Sprintf("grpc :%d", h.GRPC.Port)
	case h.Exec != nil:
		return "exec " + strings.Join(h.Exec.Command, " ")
	}
	return "no handler"
}

// probePort is the port a network probe connects to; ok is false for exec.
func probePort(p *corev1.Probe) (port intstr.IntOrString, kind string, ok bool) {
	switch h := p.ProbeHandler; {
	case h.HTTPGet != nil:
		return h.HTTPGet.Port, "httpGet", true
	case h.TCPSocket != nil:
		return h.TCPSocket.Port, "tcpSocket", true
	case h.GRPC != nil:
		return intstr.FromInt32(h.GRPC.Port), "grpc", true
	}
	return intstr.IntOrString{}, "", false
}

// portFindings are the port checks diagnose does not make: a probe aimed at
// a port declared only as UDP or SCTP (the kubelet probes over TCP, so it
// cannot succeed), and a gRPC probe's port that no container port declares
// (diagnose checks httpGet's and tcpSocket's; an undeclared named port is
// already its error).
func portFindings(c *corev1.Container) []diagnose.Finding {
	var out []diagnose.Finding
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
	}{{"livenessProbe", c.LivenessProbe}, {"readinessProbe", c.ReadinessProbe}, {"startupProbe", c.StartupProbe}} {
		if p.probe == nil {
			continue
		}
		port, kind, ok := probePort(p.probe)
		if !ok {
			continue
		}
		n, ok := diagnose.ResolvePort(port, c)
		if !ok {
			continue
		}
		src := fmt.Sprintf("spec.containers{%s}.%s.%s.port", c.Name, p.name, kind)
		declared, tcp, protocols := false, false, []string{}
		for _, cp := range c.Ports {
			if cp.ContainerPort != n {
				continue
			}
			declared = true
			proto := cmp.Or(cp.Protocol, corev1.ProtocolTCP)
			tcp = tcp || proto == corev1.ProtocolTCP
			protocols = append(protocols, string(proto))
		}
		label := port.String()
		if port.Type == intstr.String && label != strconv.Itoa(int(n)) {
			label = fmt.Sprintf("%d (%s)", n, port.StrVal)
		}
		switch {
		case declared && !tcp:
			out = append(out, diagnose.Finding{ID: IDPortNotTCP, Category: diagnose.CategoryConfiguration, Severity: diagnose.SeverityError,
				Verdict:  fmt.Sprintf("The %s checks port %s, which the container declares as %s only: the kubelet probes over TCP, so the probe cannot succeed.", p.name, label, strings.Join(protocols, " and ")),
				Evidence: []diagnose.Evidence{{Kind: "probe", Source: src, Quote: port.String()}},
				Fix:      diagnose.Fix{Text: "Probe a TCP port the process serves, or use an exec probe for a server that only speaks UDP."}})
		case !declared && kind == "grpc":
			out = append(out, diagnose.Finding{ID: diagnose.FindingProbePortNotDeclared, Category: diagnose.CategoryConfiguration, Severity: diagnose.SeverityWarning,
				Verdict:  fmt.Sprintf("The %s's gRPC check uses port %d, which the container does not declare: a port change in the app silently breaks the probe.", p.name, n),
				Evidence: []diagnose.Evidence{{Kind: "probe", Source: src, Quote: port.String()}},
				Fix:      diagnose.Fix{Text: "Declare the port (ports: [{name: grpc, containerPort: " + strconv.Itoa(int(n)) + "}])."}})
		}
	}
	return out
}
