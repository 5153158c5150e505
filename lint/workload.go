package lint

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/crashlens/crashlens/diagnose"
)

// lintObject lints one object: the containers and native sidecars of a
// workload's pod spec; any other object is reported as skipped.
func (l Linter) lintObject(o *object, svcs []service) (out []Result) {
	defer func() {
		if r := recover(); r != nil { // a decoder panic must never take lint down
			out = append(out, Result{File: o.file, Line: o.line, Object: o.ref(), ID: IDUnreadable, Severity: diagnose.SeverityError, Message: fmt.Sprintf("cannot parse: %v", r)})
		}
	}()
	at := func(line int, id, sev, msg string) Result {
		return Result{File: o.file, Line: line, Object: o.ref(), ID: id, Severity: sev, Message: msg}
	}
	path, byShape, ok := podSpecPath(o)
	if !ok {
		return []Result{at(o.line, IDNotWorkload, diagnose.SeverityInfo, "skipped: not a workload with a pod template")}
	}
	if byShape {
		out = append(out, at(o.line, IDReadByShape, diagnose.SeverityInfo,
			fmt.Sprintf("read by shape: %s %s is not a built-in workload kind; its pod template at %s was linted", o.apiVersion, o.kind, strings.Join(path, "."))))
	}
	raw, found := lookup(o.raw, path...)
	if !found {
		return append(out, at(o.line, IDUnreadable, diagnose.SeverityError, "no pod spec at "+strings.Join(path, ".")))
	}
	var spec corev1.PodSpec
	if err := json.Unmarshal(raw, &spec); err != nil {
		return append(out, at(o.lineAt(path...), IDUnreadable, diagnose.SeverityError, "pod spec: "+err.Error()))
	}
	pod := podContext{runToCompletion: runsToCompletion(o.kind, string(spec.RestartPolicy))}
	if !pod.runToCompletion {
		var labels map[string]string
		if v, ok := lookup(o.raw, templateLabelsPath(path)...); ok {
			_ = json.Unmarshal(v, &labels)
		}
		pod.services = selecting(svcs, o.namespace, labels)
	}
	for _, ct := range probed(&spec) {
		line := o.itemLine(ct.index, append(path[:len(path):len(path)], ct.list)...)
		for _, f := range judge(ct.c, pod) {
			r := at(line, f.ID, f.Severity, f.Verdict)
			r.Container, r.Sidecar, r.Fix = ct.c.Name, ct.sidecar, f.Fix.Text
			out = append(out, r)
		}
		if l.Template != nil {
			for _, ch := range diagnose.ProbeChanges(&spec, ct.c, l.Template) {
				r := at(line, IDTemplate, diagnose.SeverityInfo, fmt.Sprintf("template: %s %s %s -> %s (%s)", ch.Probe, ch.Field, ch.From, ch.To, ch.Reason))
				r.Container, r.Sidecar = ct.c.Name, ct.sidecar
				out = append(out, r)
			}
		}
	}
	return out
}

// probedContainer is a container whose probes the kubelet runs, and where
// it is in the pod spec.
type probedContainer struct {
	c       *corev1.Container
	list    string // containers or initContainers
	index   int
	sidecar bool
}

// probed lists the app containers and the native sidecars (initContainers
// with restartPolicy: Always, which run beside the app and are probed like
// it). Plain init containers run to completion before the app and have no
// probes.
func probed(spec *corev1.PodSpec) []probedContainer {
	var out []probedContainer
	for i := range spec.InitContainers {
		c := &spec.InitContainers[i]
		if c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			out = append(out, probedContainer{c: c, list: "initContainers", index: i, sidecar: true})
		}
	}
	for i := range spec.Containers {
		out = append(out, probedContainer{c: &spec.Containers[i], list: "containers", index: i})
	}
	return out
}
