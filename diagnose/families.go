package diagnose

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// A family is a class of failure a log line can name: the finding it
// becomes, the category that follows from the evidence (doc.go says the
// rule), how decisive it is, and what to do. Signatures (signatures.go) say
// which words belong to which family.
type family struct {
	finding  string
	category string
	rank     int
	// verdict says what happened; %s is the detail, " (…)" or "".
	verdict string
	fix     string
	// cause is the CAUSE column's words; the detail follows.
	cause string
}

// Ranks of families: how decisive a line of the family is (see outranks).
const (
	rankSymptom   = 0 // a stack trace, an error line: something broke
	rankCause     = 1 // names why: a dependency, a file, a credential
	rankExhausted = 2 // a resource ran out: what fails after it follows from it
)

var families = map[string]family{
	LogOOM: {finding: FindingAppOutOfMemory, category: CategoryResources, rank: rankExhausted},
	LogThreads: {FindingThreadsExhausted, CategoryResources, rankExhausted,
		"The process could not start another thread%s: the container reached its limit of processes and threads (the pod's pids limit or ulimit -u), not its memory.",
		"Cap the app's threads (pool sizes, -Xss and thread pools for the JVM, GOMAXPROCS), find the leak of threads a thread dump shows, or raise the node's podPidsLimit if the workload needs more.",
		"thread limit reached"},
	LogDiskFull: {FindingDiskFull, CategoryResources, rankExhausted,
		"The disk it writes to is full%s: writes fail with ENOSPC (no space left or quota exceeded).",
		"Free or grow the volume behind the path (the PVC's size, an emptyDir's sizeLimit, the node's disk for the writable layer and logs); rotate or cap what the app writes there.",
		"disk full"},
	LogFileHandles: {FindingFileHandlesExhausted, CategoryResources, rankExhausted,
		"The process ran out of file descriptors%s: every open file, socket and watch counts, and the limit was reached (EMFILE/ENFILE or the inotify limits).",
		"Find the leak (connections or files never closed: ls /proc/1/fd | wc -l inside the container), or raise the limit: the container runtime's LimitNOFILE, or fs.inotify.max_user_watches / max_user_instances on the node for watchers.",
		"out of file descriptors"},
	LogCredentials: {FindingCredentialsRejected, CategoryConfiguration, rankCause,
		"A dependency rejected the app's credentials%s: the user, password, token or key it was given is wrong, expired, or not allowed from this address.",
		"Compare the Secret the credential comes from with what the dependency expects (user, password, token expiry, the server's allowed hosts: pg_hba.conf, MySQL's user@host); roll the pods after rotating a credential.",
		"credentials rejected"},
	LogTLS: {FindingTLSRejected, CategoryConfiguration, rankCause,
		"A TLS certificate was rejected%s: signed by an authority the client does not trust, expired, issued for another name, or a key that does not match it.",
		"Give the client the CA that signed the server's certificate (a CA bundle from a ConfigMap or Secret), renew an expired certificate, or connect by a name the certificate lists; do not turn verification off.",
		"TLS certificate rejected"},
	LogForbidden: {FindingAPIForbidden, CategoryConfiguration, rankCause,
		"The Kubernetes API refused the app's service account%s: its RBAC does not allow the request.",
		"Grant the verb and resource in a Role or ClusterRole bound to the pod's service account; check with kubectl auth can-i VERB RESOURCE --as system:serviceaccount:NAMESPACE:NAME.",
		"API forbidden for"},
	LogDatabaseMissing: {FindingDatabaseMissing, CategoryConfiguration, rankCause,
		"The database the app is configured to use does not exist on the server%s.",
		"Create the database (an init Job or the migration step) or fix the database name in the connection string the app is given.",
		"database missing:"},
	LogOverloaded: {FindingDependencyOverloaded, CategoryEnvironment, rankCause,
		"A dependency is up but refuses more work%s: its connection slots or memory are used up.",
		"Cap connections (replicas x pool size below the server's max_connections, or a pooler such as PgBouncer), or give the dependency more capacity; a restarting client that opens a new pool each time makes it worse.",
		"dependency overloaded"},
	LogIncompatible: {FindingImageIncompatible, CategoryConfiguration, rankCause,
		"The image does not fit this node or its own runtime%s: a binary for another CPU architecture, a script without a #! line, or a libc, JVM or .NET version the image does not have.",
		"Run the image built for the node's platform (a multi-arch image, or the tag for this architecture) on a base image with the runtime and libc versions the app was built for; start scripts with a #! line.",
		"image incompatible"},
	LogMissingLibrary: {FindingMissingLibrary, CategoryApplication, rankCause,
		"Code the app loads at start is missing from the image%s: a shared library, module, package or class.",
		"Install it in the image (the OS package, or the dependency in requirements.txt, package.json, pom.xml, the .csproj) and check that a multi-stage build copies it into the final stage.",
		"not in image:"},
	LogCRLF: {FindingScriptCRLF, CategoryApplication, rankCause,
		"The entrypoint script has Windows line endings (CRLF)%s: the kernel looks for an interpreter whose name ends in a carriage return.",
		"Convert the script to LF (dos2unix, or `*.sh text eol=lf` in .gitattributes) and rebuild the image.",
		"script has CRLF line endings"},
	LogPrivilegedPort: {FindingPrivilegedPort, CategoryConfiguration, rankCause,
		"The app may not listen on a port below 1024%s: it runs without root or CAP_NET_BIND_SERVICE.",
		"Listen on a port above 1024 and map it in the Service (targetPort), or add NET_BIND_SERVICE to the container's capabilities, or set the sysctl net.ipv4.ip_unprivileged_port_start in the pod's securityContext.",
		"privileged port as non-root"},
	LogPermissionDenied: {FindingPermissionDenied, CategoryConfiguration, rankCause,
		"The process may not write where it tries to%s.",
		"Give the path to the container's user (fsGroup/runAsUser in securityContext, an emptyDir or volume mounted there) or write somewhere writable.",
		"permission denied"},
	LogReadOnlyFS: {FindingReadOnlyFS, CategoryConfiguration, rankCause,
		"The process writes to a read-only file system%s.",
		"Mount a writable volume (an emptyDir) at the directory it writes to, or point it at one; a read-only root file system is a setting worth keeping.",
		"read-only filesystem"},
	LogConnRefused: {FindingDependencyUnreachable, CategoryEnvironment, rankCause,
		"A dependency is unreachable%s: the app gives up and exits.",
		"Make sure the dependency runs and is reachable at that address (Service, DNS, NetworkPolicy, sidecar); let the app retry with back-off instead of exiting, or gate start-up on readiness.",
		"dependency unreachable"},
	LogAddressInUse: {FindingPortInUse, CategoryConfiguration, rankCause,
		"The port is already in use%s.",
		"Two processes or containers in the pod bind the same port (pods share one network namespace); change one of them.",
		"port in use"},
	LogNotFound:   {finding: FindingCommandNotFound, category: CategoryConfiguration, rank: rankCause, cause: "command not found"},
	LogNoSuchFile: {finding: FindingMissingFile, category: CategoryApplication, rank: rankCause, cause: "missing file"},
	LogConfigError: {FindingConfigError, CategoryConfiguration, rankCause,
		"The app rejects its configuration or arguments%s.",
		"Fix the flags, environment or config file the app reads; compare with the last version that worked.",
		"app config rejected"},
	LogCodeBug: {FindingCodeBug, CategoryApplication, rankCause,
		"A programming error, as the runtime names it%s: the code failed on input or state it did not expect.",
		"The stack trace after this line names the function; fix the code, or roll back to the last version that worked while you do.",
		"bug:"},
}

func init() {
	// The network's kinds share the dependency family.
	dep := families[LogConnRefused]
	families[LogNoSuchHost], families[LogTimeout], families[LogUnreachable] = dep, dep, dep
}

// familyOf is a kind's family; symptoms have the zero family.
func familyOf(kind string) family { return families[kind] }

// logCauseFinding is the finding the log's cause line makes.
func logCauseFinding(pod *corev1.Pod, c *corev1.Container, m *LogMatch) (Finding, bool) {
	fam := familyOf(m.Kind)
	switch {
	case fam.rank == rankSymptom:
		return Finding{}, false
	case m.Kind == LogOOM:
		return appOutOfMemory(c, m), true
	case m.Kind == LogNoSuchFile:
		return missingFile(pod, c, m), true
	case m.Kind == LogReadOnlyFS:
		return readOnlyFS(c, m, fam), true
	case m.Kind == LogNotFound:
		return Finding{ID: FindingCommandNotFound, Category: CategoryConfiguration, Severity: SeverityError,
			Verdict: "The shell could not find the command" + detailOf(m) + ".",
			Fix:     Fix{Text: "Fix the command path in the pod template or add the binary to the image; check the image tag is the one you built."}}, true
	}
	detail := detailOf(m)
	if sg := signatureByID(m.Signature); sg != nil && sg.peer != "" {
		detail = " (" + sg.peer + ")"
		if m.Detail != "" {
			detail = " (" + sg.peer + ": " + m.Detail + ")"
		}
	}
	verdict := fmt.Sprintf(fam.verdict, detail)
	if m.Kind == LogCodeBug || m.Kind == LogConfigError {
		verdict = strings.TrimSuffix(verdict, ".") + ": " + m.Text
	}
	return Finding{ID: fam.finding, Category: fam.category, Severity: SeverityError, Verdict: verdict, Fix: Fix{Text: fam.fix}}, true
}

// causeWords is the CAUSE column's text for a log cause line.
func causeWords(m *LogMatch) string {
	fam := familyOf(m.Kind)
	sg := signatureByID(m.Signature)
	words := fam.cause
	if sg != nil && sg.cause != "" {
		return sg.cause
	}
	switch m.Kind {
	case LogConnRefused:
		if m.Detail != "" {
			return "dependency " + m.Detail + " refused"
		}
	case LogNoSuchHost:
		if m.Detail != "" {
			return "DNS: " + m.Detail + " not found"
		}
		return "DNS lookup failed"
	case LogTimeout:
		words = "dependency timed out"
	case LogUnreachable:
		words = "no route to dependency"
	case LogCredentials:
		if sg != nil && sg.peer != "" {
			words = sg.peer + " rejected credentials"
		}
	case LogConfigError:
		if m.Detail != "" {
			return "config rejected: " + m.Detail
		}
	case LogCodeBug:
		if m.Detail != "" {
			return "bug: " + m.Detail
		}
		return "bug: " + m.Text
	}
	if m.Detail != "" && m.Kind != LogCredentials {
		return words + " " + m.Detail
	}
	return words
}

var signatureIndex = func() map[string]*signature {
	m := make(map[string]*signature, len(signatures))
	for i := range signatures {
		m[signatures[i].id] = &signatures[i]
	}
	return m
}()

func signatureByID(id string) *signature { return signatureIndex[id] }

// configPath: a path whose name says it is configuration the app was told
// to read (a config file, a certificate or key), so a missing one is
// configuration even when no volume is mounted there.
func configPath(p string) bool {
	l := strings.ToLower(p)
	if strings.HasPrefix(l, "/etc/") || strings.HasPrefix(l, "/config/") || strings.HasPrefix(l, "/conf/") ||
		strings.Contains(l, "/config/") || strings.Contains(l, "/conf.d/") || strings.Contains(l, "/secrets/") {
		return true
	}
	for _, ext := range []string{".yaml", ".yml", ".json", ".toml", ".ini", ".conf", ".cfg", ".properties", ".env", ".pem", ".crt", ".key", ".cert", ".p12", ".jks"} {
		if strings.HasSuffix(l, ext) {
			return true
		}
	}
	return false
}

// readOnlyFS: a write refused with EROFS. The container's
// readOnlyRootFilesystem, when set, is why, unless a volume is mounted at
// the path (then the volume is read-only: a ConfigMap, a Secret, a
// readOnly mount).
func readOnlyFS(c *corev1.Container, m *LogMatch, fam family) Finding {
	f := Finding{ID: fam.finding, Category: fam.category, Severity: SeverityError, Verdict: fmt.Sprintf(fam.verdict, detailOf(m)), Fix: Fix{Text: fam.fix}}
	if c == nil {
		return f
	}
	if mount := mountOf(c, m.Detail); mount != nil {
		f.Verdict = fmt.Sprintf("The process writes to %s, under volume %s mounted read-only at %s.", m.Detail, mount.Name, mount.MountPath)
		f.Fix.Text = "Write somewhere else (an emptyDir), or mount the volume writable if it is meant to be written (ConfigMap, Secret and projected volumes never are)."
		f.Evidence = append(f.Evidence, Evidence{Kind: "spec", Source: "spec.containers{" + c.Name + "}.volumeMounts{" + mount.Name + "}", Quote: mount.MountPath})
		return f
	}
	if sc := c.SecurityContext; sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
		dir := "the directory it writes to"
		if i := strings.LastIndexByte(m.Detail, '/'); i > 0 {
			dir = m.Detail[:i]
		}
		f.Verdict = fmt.Sprintf("The process writes to %s on the root file system, which the container's securityContext makes read-only.", orWord(m.Detail, "a path"))
		f.Fix.Text = fmt.Sprintf("Mount an emptyDir at %s (or point the app at a mounted volume); keep readOnlyRootFilesystem.", dir)
		f.Evidence = append(f.Evidence, Evidence{Kind: "spec", Source: "spec.containers{" + c.Name + "}.securityContext.readOnlyRootFilesystem", Quote: "true"})
	}
	return f
}

// mountOf is the container's volume mount that holds path, the deepest
// one; nil when none does.
func mountOf(c *corev1.Container, path string) *corev1.VolumeMount {
	var best *corev1.VolumeMount
	for i := range c.VolumeMounts {
		vm := &c.VolumeMounts[i]
		dir := strings.TrimSuffix(vm.MountPath, "/")
		if path == "" || (path != dir && !strings.HasPrefix(path, dir+"/")) {
			continue
		}
		if best == nil || len(vm.MountPath) > len(best.MountPath) {
			best = vm
		}
	}
	return best
}
