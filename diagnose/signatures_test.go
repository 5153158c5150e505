package diagnose

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// signatureLogs: for every log in testdata/signatures (the previous log of a
// container that crashed that way, 20 lines or more, the cause in the
// middle, written in the style of the runtime that prints it), the signature
// that must name the cause, the finding and category Diagnose must put
// first, and the detail it must quote.
var signatureLogs = []struct {
	file      string
	exit      int32
	signature string
	finding   string
	category  string
	detail    string
}{
	{"glibc-enospc", 1, "errno-enospc", "disk-full", "resources", "/data/cache/segment-0042.bin"},
	{"glibc-edquot", 1, "errno-edquot", "disk-full", "resources", "/backup/orders/2026-12-05.tar"},
	{"glibc-emfile", 1, "errno-emfile", "file-handles-exhausted", "resources", "/var/lib/ingest/idx/part-881"},
	{"glibc-enfile", 1, "errno-enfile", "file-handles-exhausted", "resources", ""},
	{"glibc-erofs", 1, "errno-erofs", "read-only-filesystem", "configuration", "/app/run/worker.pid"},
	{"glibc-eacces", 1, "errno-eacces", "permission-denied", "configuration", "/var/lib/orders"},
	{"glibc-thread-eagain", 134, "errno-eagain-thread", "threads-exhausted", "resources", ""},
	{"ldso-missing-lib", 127, "ldso-missing-lib", "missing-library", "application", "libssl.so.3"},
	{"ldso-glibc-version", 1, "ldso-glibc-version", "image-incompatible", "configuration", "GLIBC_2.34"},
	{"glibc-double-free", 134, "glibc-heap-corruption", "code-bug", "application", "free(): double free detected in tcache 2"},
	{"glibc-hostname", 6, "curl-resolve", "dependency-unreachable", "environment", "inventory.shop.svc.cluster.local"},
	{"glibc-ehostunreach", 1, "network-unreachable", "dependency-unreachable", "environment", "10.244.3.17 port 9200"},
	{"glibc-enetunreach", 1, "network-unreachable", "dependency-unreachable", "environment", "10.96.0.10:53"},
	{"script-crlf-shebang", 126, "script-crlf", "script-windows-line-endings", "application", "/docker-entrypoint.sh"},
	{"bash-interpreter-missing", 127, "bash-interpreter-missing", "command-not-found", "configuration", "/docker-entrypoint.sh"},
	{"script-crlf-env", 127, "script-crlf", "script-windows-line-endings", "application", ""},
	{"musl-name-not-resolve", 1, "musl-dns", "dependency-unreachable", "environment", "config-server.platform.svc.cluster.local"},
	{"musl-missing-lib", 127, "musl-missing-lib", "missing-library", "application", "libstdc++.so.6"},
	{"musl-symbol-not-found", 127, "musl-symbol", "image-incompatible", "configuration", "__memcpy_chk"},
	{"go-enospc", 1, "errno-enospc", "disk-full", "resources", "/data/wal/000123.log"},
	{"go-emfile", 1, "errno-emfile", "file-handles-exhausted", "resources", ""},
	{"go-thread-limit", 2, "go-thread-limit", "threads-exhausted", "resources", ""},
	{"go-nil-pointer", 2, "go-runtime-error", "code-bug", "application", "invalid memory address or nil pointer dereference"},
	{"go-index-range", 2, "go-runtime-error", "code-bug", "application", "index out of range [5] with length 3"},
	{"go-concurrent-map", 2, "go-fatal-bug", "code-bug", "application", "concurrent map writes"},
	{"go-deadlock", 2, "go-fatal-bug", "code-bug", "application", "all goroutines are asleep - deadlock!"},
	{"go-x509-unknown-authority", 1, "go-x509", "tls-certificate-rejected", "configuration", ""},
	{"go-x509-expired", 1, "go-x509", "tls-certificate-rejected", "configuration", ""},
	{"go-x509-hostname", 1, "go-x509", "tls-certificate-rejected", "configuration", "payments.internal"},
	{"go-tls-keypair", 1, "go-tls-keypair", "tls-certificate-rejected", "configuration", ""},
	{"go-tls-no-pem", 1, "go-tls-keypair", "tls-certificate-rejected", "configuration", ""},
	{"go-bind-privileged", 1, "bind-privileged", "privileged-port", "configuration", ":80"},
	{"go-k8s-forbidden", 1, "k8s-forbidden", "api-forbidden", "configuration", "system:serviceaccount:ops:reporter"},
	{"go-envconfig-required", 1, "env-required", "config-error", "configuration", "DATABASE_URL"},
	{"runc-exec-format", 1, "exec-format", "image-incompatible", "configuration", "/app/server"},
	{"jvm-native-thread", 1, "jvm-native-thread", "threads-exhausted", "resources", ""},
	{"jvm-too-many-files", 1, "errno-emfile", "file-handles-exhausted", "resources", ""},
	{"jvm-enospc", 1, "errno-enospc", "disk-full", "resources", ""},
	{"jvm-connect-refused", 1, "errno-econnrefused", "dependency-unreachable", "environment", ""},
	{"jvm-unknown-host", 1, "jvm-unknown-host", "dependency-unreachable", "environment", "kafka-0.kafka-headless.streaming.svc.cluster.local"},
	{"jvm-socket-timeout", 1, "connect-timeout", "dependency-unreachable", "environment", ""},
	{"jvm-pkix", 1, "jvm-pkix", "tls-certificate-rejected", "configuration", ""},
	{"jvm-cert-expired", 1, "jvm-cert-expired", "tls-certificate-rejected", "configuration", ""},
	{"jvm-bind", 1, "spring-port-in-use", "port-in-use", "configuration", "8080"},
	{"jvm-class-not-found", 1, "jvm-class-missing", "missing-library", "application", "org.postgresql.Driver"},
	{"jvm-class-version", 1, "jvm-class-version", "image-incompatible", "configuration", ""},
	{"jvm-npe", 1, "jvm-bug", "code-bug", "application", "NullPointerException"},
	{"jvm-stack-overflow", 1, "jvm-bug", "code-bug", "application", "StackOverflowError"},
	{"spring-placeholder", 1, "env-required", "config-error", "configuration", "ORDERS_DB_URL"},
	{"kafka-sasl-auth", 1, "kafka-sasl", "credentials-rejected", "configuration", ""},
	{"py-enospc", 1, "errno-enospc", "disk-full", "resources", "/data/export/part-0003.parquet"},
	{"py-emfile", 1, "errno-emfile", "file-handles-exhausted", "resources", "/srv/cache/thumbs/8812.webp"},
	{"py-connection-refused", 1, "errno-econnrefused", "dependency-unreachable", "environment", ""},
	{"py-gaierror", 1, "dns-lookup", "dependency-unreachable", "environment", ""},
	{"py-ssl-verify", 1, "openssl-verify", "tls-certificate-rejected", "configuration", ""},
	{"py-module-not-found", 3, "python-module", "missing-library", "application", "psycopg2"},
	{"py-env-keyerror", 1, "env-required", "config-error", "configuration", "DATABASE_URL"},
	{"py-permission", 1, "errno-eacces", "permission-denied", "configuration", "/var/lib/app/state.db"},
	{"py-file-not-found", 1, "errno-enoent", "missing-file", "configuration", "/etc/app/settings.toml"},
	{"py-address-in-use", 1, "errno-eaddrinuse", "port-in-use", "configuration", ""},
	{"py-attribute-none", 1, "python-bug", "code-bug", "application", "AttributeError: 'NoneType' object has no attribute 'get'"},
	{"py-recursion", 1, "python-bug", "code-bug", "application", "RecursionError: maximum recursion depth exceeded while calling a Python object"},
	{"django-improperly-configured", 1, "env-required", "config-error", "configuration", ""},
	{"node-emfile", 1, "errno-emfile", "file-handles-exhausted", "resources", "/app/uploads/tmp-8812"},
	{"node-enospc", 1, "errno-enospc", "disk-full", "resources", ""},
	{"node-inotify", 1, "node-inotify-watchers", "file-handles-exhausted", "resources", "/app/src"},
	{"node-listen-eacces", 1, "bind-privileged", "privileged-port", "configuration", "0.0.0.0:80"},
	{"node-cannot-find-module", 1, "node-module", "missing-library", "application", "express"},
	{"node-cert-leaf", 1, "node-tls", "tls-certificate-rejected", "configuration", ""},
	{"node-cert-expired", 1, "node-tls", "tls-certificate-rejected", "configuration", ""},
	{"node-self-signed", 1, "node-tls", "tls-certificate-rejected", "configuration", ""},
	{"node-typeerror-undefined", 1, "node-bug", "code-bug", "application", "TypeError: Cannot read properties of undefined (reading 'id')"},
	{"node-eai-again", 1, "dns-lookup", "dependency-unreachable", "environment", "auth.identity.svc.cluster.local"},
	{"dotnet-enospc", 134, "errno-enospc", "disk-full", "resources", "/app/data/journal.bin"},
	{"dotnet-file-not-found", 134, "dotnet-file-not-found", "missing-file", "configuration", "/app/config/tenants.json"},
	{"dotnet-appsettings", 134, "dotnet-file-not-found", "missing-file", "configuration", "/app/appsettings.Production.json"},
	{"dotnet-assembly", 134, "dotnet-assembly", "missing-library", "application", "Npgsql"},
	{"dotnet-framework-missing", 150, "dotnet-framework-missing", "image-incompatible", "configuration", ""},
	{"dotnet-bind", 134, "errno-eaddrinuse", "port-in-use", "configuration", "http://[::]:8080"},
	{"dotnet-cert", 134, "dotnet-remote-cert", "tls-certificate-rejected", "configuration", ""},
	{"dotnet-null-reference", 134, "dotnet-bug", "code-bug", "application", "System.NullReferenceException: Object reference not set to an instance of an object."},
	{"dotnet-socket-refused", 134, "errno-econnrefused", "dependency-unreachable", "environment", ""},
	{"dotnet-sqlserver-login", 134, "sqlserver-login", "credentials-rejected", "configuration", "orders"},
	{"postgres-password", 1, "postgres-auth", "credentials-rejected", "configuration", "orders"},
	{"postgres-hba", 1, "postgres-auth", "credentials-rejected", "configuration", "orders"},
	{"postgres-db-missing", 1, "postgres-db-missing", "database-missing", "configuration", "orders"},
	{"postgres-too-many-clients", 1, "postgres-too-many-clients", "dependency-overloaded", "environment", ""},
	{"postgres-initdb-not-empty", 1, "initdb-not-empty", "config-error", "configuration", "/var/lib/postgresql/data"},
	{"postgres-wal-enospc", 1, "postgres-disk-full", "disk-full", "resources", "pg_wal/xlogtemp.1"},
	{"mysql-access-denied", 1, "mysql-access-denied", "credentials-rejected", "configuration", "orders"},
	{"mysql-unknown-db", 1, "mysql-unknown-db", "database-missing", "configuration", "orders"},
	{"mysql-too-many", 1, "mysql-too-many-connections", "dependency-overloaded", "environment", ""},
	{"mysql-cant-connect", 1, "mysql-cant-connect", "dependency-unreachable", "environment", "mysql.data.svc:3306"},
	{"redis-wrongpass", 1, "redis-auth", "credentials-rejected", "configuration", ""},
	{"redis-noauth", 1, "redis-auth", "credentials-rejected", "configuration", ""},
	{"redis-maxmemory", 1, "redis-maxmemory", "dependency-overloaded", "environment", ""},
	{"redis-refused", 1, "errno-econnrefused", "dependency-unreachable", "environment", "redis-master:6379"},
	{"mongo-auth", 1, "mongo-auth", "credentials-rejected", "configuration", ""},
	{"mongo-selection-timeout", 1, "connect-timeout", "dependency-unreachable", "environment", ""},
	{"rabbitmq-access-refused", 1, "amqp-access-refused", "credentials-rejected", "configuration", ""},
	{"kafka-broker-unavailable", 1, "kafka-broker", "dependency-unreachable", "environment", "kafka/10.96.7.21:9092"},
	{"nginx-host-not-found", 1, "nginx-host-not-found", "dependency-unreachable", "environment", "api:8080"},
	{"nginx-bind-in-use", 1, "errno-eaddrinuse", "port-in-use", "configuration", "0.0.0.0:80"},
	{"nginx-bind-eacces", 1, "bind-privileged", "privileged-port", "configuration", "0.0.0.0:80"},
	{"nginx-open-missing", 1, "nginx-open", "missing-file", "configuration", "/etc/nginx/conf.d/upstreams.conf"},
	{"nginx-unknown-directive", 1, "nginx-config", "config-error", "configuration", ""},
	{"nginx-mkdir-eacces", 1, "errno-eacces", "permission-denied", "configuration", "/var/cache/nginx/client_temp"},
	{"aws-expired-token", 1, "aws-credentials", "credentials-rejected", "configuration", "ExpiredToken"},
	{"aws-invalid-key", 1, "aws-credentials", "credentials-rejected", "configuration", "InvalidAccessKeyId"},
	{"jvm-heap", 3, "jvm-heap", "app-out-of-memory", "application", ""},
	{"node-heap", 134, "node-heap", "app-out-of-memory", "application", ""},
	{"go-oom", 2, "go-oom", "app-out-of-memory", "resources", ""},
	{"dotnet-oom", 134, "dotnet-oom", "app-out-of-memory", "resources", ""},
	{"python-memoryerror", 1, "python-memoryerror", "app-out-of-memory", "resources", ""},
	{"errno-enomem", 1, "errno-enomem", "app-out-of-memory", "resources", ""},
	{"sqlite-full", 1, "sqlite-full", "disk-full", "resources", ""},
	{"generic-auth-failed", 1, "generic-auth-failed", "credentials-rejected", "configuration", ""},
	{"dotnet-dns", 134, "dotnet-dns", "dependency-unreachable", "environment", ""},
	{"shell-not-found", 127, "shell-not-found", "command-not-found", "configuration", "gunicorn"},
	{"app-config", 2, "app-config", "config-error", "configuration", ""},
}

// crashedPod is a Deployment's pod whose only container crash-loops with
// exit code, as the kubelet shows it between restarts.
func crashedPod(code int32) *corev1.Pod {
	now := time.Date(2026, 12, 5, 3, 15, 0, 0, time.UTC)
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "orders-7d9f8-abcde", CreationTimestamp: metav1.NewTime(now.Add(-10 * time.Minute))},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.local/orders:1.4.2"}}},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "app", RestartCount: 4,
			State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container=app pod=orders-7d9f8-abcde_shop(1)"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: "Error",
				StartedAt: metav1.NewTime(now.Add(-70 * time.Second)), FinishedAt: metav1.NewTime(now.Add(-62 * time.Second))}},
		}}},
	}
}

// TestSignatureCatalogue: every realistic log is classified by the
// signature it was written for, and Diagnose puts the family's finding
// first with the category the evidence gives; every signature of the
// catalogue that names a cause is exercised by at least one log, and every
// log in the folder is in the table.
func TestSignatureCatalogue(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range signatureLogs {
		t.Run(tc.file, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("testdata", "signatures", tc.file+".log"))
			if err != nil {
				t.Fatal(err)
			}
			log := string(b)
			lines := strings.Count(log, "\n")
			if lines < 20 {
				t.Fatalf("%d lines: a realistic log has 20 or more", lines)
			}
			s := ClassifyLog(strings.NewReader(log))
			if s.Cause == nil {
				t.Fatalf("no cause line found (first error %+v)", s.FirstError)
			}
			if s.Cause.Signature != tc.signature || s.Cause.Detail != tc.detail {
				t.Errorf("cause line %d %q: signature %s detail %q, want %s %q", s.Cause.Line, s.Cause.Text, s.Cause.Signature, s.Cause.Detail, tc.signature, tc.detail)
			}
			if s.Cause.Line <= 3 || s.Cause.Line >= lines-1 {
				t.Errorf("the cause is on line %d of %d: not in the middle of the log", s.Cause.Line, lines)
			}
			seen[s.Cause.Signature] = true
			r := Diagnose(Input{Pod: crashedPod(tc.exit), PreviousLog: log, Now: time.Date(2026, 12, 5, 3, 15, 0, 0, time.UTC)})
			top := r.Findings[0]
			if top.ID != tc.finding || top.Category != tc.category {
				t.Errorf("top finding %s (%s): %s; want %s (%s)", top.ID, top.Category, top.Verdict, tc.finding, tc.category)
			}
			if !slices.ContainsFunc(top.Evidence, func(e Evidence) bool { return e.Kind == "log" && e.Quote == s.Cause.Text }) {
				t.Errorf("the top finding does not quote the cause line: %+v", top.Evidence)
			}
			if c := r.Cause(); c == "" || strings.HasPrefix(c, "exit ") {
				t.Errorf("CAUSE %q does not name the class", c)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "signatures", "*.log"))
	if len(files) != len(signatureLogs) {
		t.Errorf("%d logs in testdata/signatures, %d in the table", len(files), len(signatureLogs))
	}
	for _, sg := range signatures {
		if sg.source == "" {
			t.Errorf("signature %s cites no source", sg.id)
		}
		if familyOf(sg.kind).rank != rankSymptom && !seen[sg.id] {
			t.Errorf("signature %s (%s) is exercised by no log in testdata/signatures", sg.id, sg.kind)
		}
	}
}

// TestNeedlesNeverHideAMatch: the substring prefilter of a signature never
// skips a line its expression matches, on every line of every log in
// testdata (the realistic logs and the recordings).
func TestNeedlesNeverHideAMatch(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*", "*.log"))
	if len(files) < 100 {
		t.Fatalf("only %d logs", len(files))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			lower := strings.ToLower(line)
			for i := range signatures {
				if sg := &signatures[i]; sg.re.MatchString(line) && !sg.mayMatch(lower) {
					t.Errorf("%s: signature %s matches %q but its needles %q skip it", f, sg.id, line, sg.needles)
				}
			}
		}
	}
}
