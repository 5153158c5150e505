package lint

import "encoding/json"

// podSpecPaths are where each built-in workload kind keeps its pod spec.
var podSpecPaths = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
}

// shapePath is where pod templates live by convention: OpenShift's
// DeploymentConfig, Argo's Rollout, Knative's Service and most operators'
// CRDs keep theirs there, so lint need not know each kind.
var shapePath = []string{"spec", "template", "spec"}

// podSpecPath tells where o keeps its pod spec: by kind for the built-in
// workloads, by shape (byShape) for any other object whose
// spec.template.spec.containers is a list. ok is false for objects without
// a pod template (a core Service, a ConfigMap).
func podSpecPath(o *object) (path []string, byShape, ok bool) {
	if p, known := podSpecPaths[o.kind]; known {
		return p, false, true
	}
	if isCoreService(o) {
		return nil, false, false
	}
	v, found := lookup(o.raw, append(shapePath[:len(shapePath):len(shapePath)], "containers")...)
	if !found {
		return nil, false, false
	}
	var containers []json.RawMessage
	if json.Unmarshal(v, &containers) != nil {
		return nil, false, false
	}
	return shapePath, true, true
}

// templateLabelsPath is where the labels of the pods a workload creates are:
// the metadata beside its pod spec.
func templateLabelsPath(specPath []string) []string {
	p := append([]string{}, specPath[:len(specPath)-1]...)
	return append(p, "metadata", "labels")
}

// runsToCompletion tells pods that are meant to finish (Jobs, CronJobs, and
// any pod spec that does not restart on success): no Service sends them
// traffic to take away, so readiness matters little.
func runsToCompletion(kind, restartPolicy string) bool {
	return kind == "Job" || kind == "CronJob" || restartPolicy == "Never" || restartPolicy == "OnFailure"
}
