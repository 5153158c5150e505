package diagnose

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// runtimeMemory is what crashlens knows of one runtime's own memory limit.
type runtimeMemory struct {
	name string
	// heap: the runtime hit a cap of its own (JVM heap, Node's old space),
	// an application matter; otherwise the process could not get memory
	// from the system, a resources matter.
	heap bool
	fix  string
}

// runtimeOf tells which runtime wrote an out-of-memory line.
func runtimeOf(line string) runtimeMemory {
	l := strings.ToLower(line)
	switch {
	case strings.Contains(l, "metaspace"):
		return runtimeMemory{"JVM", true, "Raise -XX:MaxMetaspaceSize (or find the class-loader leak); keep heap plus metaspace plus threads under the container's memory limit (%s)."}
	case strings.Contains(l, "outofmemoryerror"):
		return runtimeMemory{"JVM", true, "Size the heap for the workload with -Xmx or -XX:MaxRAMPercentage (about 75%% of the container's memory limit, %s), or fix the leak a heap dump (-XX:+HeapDumpOnOutOfMemoryError) shows."}
	case strings.Contains(l, "javascript heap out of memory"):
		return runtimeMemory{"Node.js runtime", true, "Raise --max-old-space-size (in MiB, via NODE_OPTIONS) to fit the workload but stay below the container's memory limit (%s), or fix the leak a heap snapshot shows."}
	case strings.Contains(l, "outofmemoryexception"):
		return runtimeMemory{".NET runtime", false, "Set DOTNET_GCHeapHardLimitPercent (or GCHeapHardLimit) below the container's memory limit (%s) and raise the limit if the workload needs more."}
	case strings.Contains(l, "runtime: out of memory"):
		return runtimeMemory{"Go runtime", false, "Set GOMEMLIMIT a little below the container's memory limit (%s) so the GC works harder before the system refuses memory; raise the limit if the live heap needs more."}
	case strings.Contains(l, "memoryerror"):
		return runtimeMemory{"Python interpreter", false, "Python has no heap cap: reduce what it holds (stream instead of loading whole files) or raise the container's memory limit (%s)."}
	}
	return runtimeMemory{"process", false, "Find what uses the memory and raise the container's memory limit (%s) if the workload needs more."}
}

// appOutOfMemory: the application reported running out of memory and
// exited by itself. Not an OOM kill: the kernel killed nothing (that is only
// a termination reason of OOMKilled).
func appOutOfMemory(c *corev1.Container, m *LogMatch) Finding {
	rt := runtimeOf(m.Text)
	cat, whose := CategoryResources, "the system refused it more memory"
	if rt.heap {
		cat, whose = CategoryApplication, "its own heap limit was reached"
	}
	return Finding{ID: FindingAppOutOfMemory, Category: cat, Severity: SeverityError,
		Verdict: fmt.Sprintf("The %s ran out of memory and the app exited by itself (%s): %s. Not an OOM kill: the container's termination reason is not OOMKilled.", rt.name, whose, m.Text),
		Fix:     Fix{Text: fmt.Sprintf(rt.fix, memLimit(c))}}
}

// missingFile: the app exits because a file is missing. A path under one of
// the container's volume mounts is expected from that volume (a ConfigMap,
// Secret or claim): configuration. So is a path that names configuration
// (configPath: /etc/..., *.yaml, a key or certificate) the app was told to
// read. Anything else is code that should be in the image: application.
func missingFile(pod *corev1.Pod, c *corev1.Container, m *LogMatch) Finding {
	path := m.Detail
	if vm, vol, ok := mountFor(pod, c, path); ok {
		src := volumeSource(vol)
		return Finding{ID: FindingMissingFile, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: fmt.Sprintf("A file the app expects from its mount is missing: %s is under %s, where volume %s (%s) is mounted, and the volume does not hold it.", path, vm.MountPath, vm.Name, src),
			Fix:     Fix{Text: fmt.Sprintf("Add the file to %s (the key's name is the file's name, unless items or subPath map it), or point the app at the path the volume provides.", src)}}
	}
	if configPath(path) {
		return Finding{ID: FindingMissingFile, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "A configuration file the app was told to read is missing" + detailOf(m) + ": no volume is mounted there, and the path names configuration (a config file, certificate or key), not code.",
			Fix:     Fix{Text: "Mount it (a ConfigMap or Secret volume at that path) or point the app's flag or environment at where the file is; check the image did not move it."}}
	}
	return Finding{ID: FindingMissingFile, Category: CategoryApplication, Severity: SeverityError,
		Verdict: "A file the app needs is missing from the image" + detailOf(m) + ": no volume is mounted there.",
		Fix:     Fix{Text: "Ship the file in the image (check the Dockerfile's COPY and the working directory) or mount it; check for paths from a developer's machine."}}
}

// mountFor finds the container's volume mount that holds path, the deepest
// one when mounts nest.
func mountFor(pod *corev1.Pod, c *corev1.Container, path string) (corev1.VolumeMount, *corev1.Volume, bool) {
	best, found := corev1.VolumeMount{}, false
	for _, vm := range c.VolumeMounts {
		dir := strings.TrimSuffix(vm.MountPath, "/")
		if path == "" || dir == "" || (path != dir && !strings.HasPrefix(path, dir+"/")) {
			continue
		}
		if strings.HasPrefix(dir, "/var/run/secrets/kubernetes.io") {
			continue // the service account token, never the app's file
		}
		if !found || len(dir) > len(best.MountPath) {
			best, found = vm, true
		}
	}
	if !found {
		return best, nil, false
	}
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == best.Name {
			return best, &pod.Spec.Volumes[i], true
		}
	}
	return best, nil, true
}

func volumeSource(v *corev1.Volume) string {
	switch {
	case v == nil:
		return "an undeclared volume"
	case v.ConfigMap != nil:
		return "ConfigMap " + v.ConfigMap.Name
	case v.Secret != nil:
		return "Secret " + v.Secret.SecretName
	case v.PersistentVolumeClaim != nil:
		return "PersistentVolumeClaim " + v.PersistentVolumeClaim.ClaimName
	case v.Projected != nil:
		return "a projected volume"
	case v.EmptyDir != nil:
		return "an emptyDir, empty at start"
	}
	return "volume " + v.Name
}
