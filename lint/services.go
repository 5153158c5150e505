package lint

import "encoding/json"

// service is a core Service of the input: the pods it sends traffic to are
// those its selector matches.
type service struct {
	name, namespace string
	selector        map[string]string
}

// isCoreService tells a v1 Service from a Knative one (same kind, but a pod
// template instead of a selector).
func isCoreService(o *object) bool {
	return o.kind == "Service" && (o.apiVersion == "v1" || o.apiVersion == "")
}

// services are the core Services of the whole input, so that the
// liveness-without-readiness finding can say whether traffic reaches a pod.
func services(in []entry) []service {
	var out []service
	for _, e := range in {
		if e.obj == nil || !isCoreService(e.obj) {
			continue
		}
		s := service{name: e.obj.name, namespace: e.obj.namespace}
		if v, ok := lookup(e.obj.raw, "spec", "selector"); ok {
			_ = json.Unmarshal(v, &s.selector) // a selector of the wrong shape selects nothing
		}
		if len(s.selector) > 0 { // no selector: endpoints are managed by hand, not by labels
			out = append(out, s)
		}
	}
	return out
}

// selecting names the Services that select pods with these labels. An
// object without a namespace may be applied to any (helm template and
// kustomize often leave it to `-n`), so it matches every namespace.
func selecting(svcs []service, namespace string, labels map[string]string) []string {
	var out []string
	for _, s := range svcs {
		if s.namespace != "" && namespace != "" && s.namespace != namespace {
			continue
		}
		match := true
		for k, v := range s.selector {
			if got, ok := labels[k]; !ok || got != v {
				match = false
				break
			}
		}
		if match {
			out = append(out, s.name)
		}
	}
	return out
}
