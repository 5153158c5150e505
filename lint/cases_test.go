package lint

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// found lists results as "Kind/name container id:severity", sorted, so a
// case states every finding it expects and nothing else slips in.
func found(rs []Result) []string {
	var out []string
	for _, r := range rs {
		who := r.Object
		switch {
		case r.Sidecar:
			who += " sidecar " + r.Container
		case r.Container != "":
			who += " " + r.Container
		}
		out = append(out, who+" "+r.ID+":"+r.Severity)
	}
	slices.Sort(out)
	return out
}

// exitCode is what `crashlens lint` exits with for these results.
func exitCode(rs []Result) int {
	if HasErrors(rs) {
		return 1
	}
	return 0
}

// TestCases lints each fixture of testdata/cases (one issue-29 item each)
// and checks every result, the exit code, lines where they matter, and
// phrases of the messages.
func TestCases(t *testing.T) {
	const shares, deps, noReady, undeclared = "probe-liveness-shares-readiness", "probe-liveness-checks-dependencies", "probe-liveness-without-readiness", "probe-port-not-declared"
	tests := []struct {
		file  string
		want  []string
		exit  int
		lines map[string]int // "Kind/name id" -> line
		says  []string       // phrases some message contains
		never []string       // phrases no message contains
	}{
		{file: "helm-empty-docs.yaml", exit: 0,
			want: []string{"Service/shop-web not-workload:info"}},
		{file: "anchors.yaml", exit: 1,
			want: []string{"Deployment/worker worker " + deps + ":error", "Deployment/worker worker " + shares + ":error"},
			says: []string{"(http :8080/ready)"}},
		{file: "concatenated.json", exit: 1,
			want: []string{
				"ConfigMap/ledger-config not-workload:info",
				"Deployment/orders orders " + deps + ":error",
				"Deployment/orders orders " + shares + ":error",
				"Pod/cache-0 cache " + shares + ":warning",
				"StatefulSet/ledger ledger " + shares + ":warning",
			},
			lines: map[string]int{"Deployment/orders " + shares: 6, "Pod/cache-0 " + shares: 17, "StatefulSet/ledger " + shares: 25, "ConfigMap/ledger-config not-workload": 29}},
		{file: "kinds.yaml", exit: 0,
			want: []string{
				"ConfigMap/settings not-workload:info",
				"CronJob/cronjob cronjob " + shares + ":warning",
				"DaemonSet/daemonset daemonset " + shares + ":warning",
				"Deployment/deployment deployment " + shares + ":warning",
				"DeploymentConfig/dc dc " + shares + ":warning",
				"DeploymentConfig/dc read-by-shape:info",
				"Job/job job " + shares + ":warning",
				"Pod/pod pod " + shares + ":warning",
				"ReplicaSet/replicaset replicaset " + shares + ":warning",
				"ReplicationController/replicationcontroller replicationcontroller " + shares + ":warning",
				"Report/report not-workload:info",
				"Rollout/rollout read-by-shape:info",
				"Rollout/rollout rollout " + shares + ":warning",
				"Service/ksvc ksvc " + shares + ":warning",
				"Service/ksvc read-by-shape:info",
				"StatefulSet/statefulset statefulset " + shares + ":warning",
				"WebApp/webapp read-by-shape:info",
				"WebApp/webapp webapp " + shares + ":warning",
			},
			says: []string{"read by shape: apps.openshift.io/v1 DeploymentConfig", "read by shape: argoproj.io/v1alpha1 Rollout", "read by shape: serving.knative.dev/v1 Service"}},
		{file: "identical-probes.yaml", exit: 1,
			want: []string{
				"Deployment/exec app " + shares + ":warning",
				"Deployment/exec-curl-deps app " + shares + ":error",
				"Deployment/exec-grpc-service app " + shares + ":error",
				"Deployment/exec-pg-isready app " + shares + ":warning",
				"Deployment/exec-ready-file app " + shares + ":error",
				"Deployment/grpc app " + shares + ":warning",
				"Deployment/grpc-readiness-service app " + shares + ":error",
				"Deployment/http-deps-thresholds app " + deps + ":error",
				"Deployment/http-deps-thresholds app " + shares + ":error",
				"Deployment/http-healthz app " + shares + ":warning",
				"Deployment/http-healthz-thresholds app " + shares + ":warning",
				"Deployment/http-other-host app " + shares + ":error",
				"Deployment/http-ready app " + deps + ":error",
				"Deployment/http-ready app " + shares + ":error",
				"Deployment/tcp app " + shares + ":warning",
				"Deployment/tcp-other-host app " + shares + ":error",
				"Deployment/tcp-other-host app " + undeclared + ":warning",
				"Deployment/tcp-other-host app " + undeclared + ":warning",
			},
			says: []string{"(grpc :9555)", "(tcp :6379)", "(path /health/db)", "(host db.shop.svc)", "(gRPC service readiness)", "(command /tmp/ready)"}},
		{file: "jobs.yaml", exit: 0,
			want: []string{
				"Deployment/greeter app " + noReady + ":warning",
				"Deployment/queue app " + noReady + ":warning",
				"Deployment/worker app " + noReady + ":warning",
				"Pod/greeter-debug app " + noReady + ":warning",
				"Service/external-db not-workload:info",
				"Service/greeter not-workload:info",
				"Service/greeter-admin not-workload:info",
				"Service/queue not-workload:info",
			},
			says:  []string{"Services greeter, greeter-admin select this pod", "if a Service selects this pod (none in this input does)"},
			never: []string{"the pod stays in the Service's endpoints"}},
		{file: "ports.yaml", exit: 1,
			want: []string{
				"DaemonSet/dns-cache dns " + IDPortNotTCP + ":error",
				"DaemonSet/dns-cache dns " + undeclared + ":warning",
				"Deployment/dns-both dns " + shares + ":warning",
				"Deployment/grpc-undeclared api " + shares + ":warning",
				"Deployment/grpc-undeclared api " + undeclared + ":warning",
				"Deployment/grpc-undeclared api " + undeclared + ":warning",
				"Deployment/media-relay relay " + IDPortNotTCP + ":error",
				"Deployment/media-relay relay " + IDPortNotTCP + ":error",
				"Deployment/named-undeclared api " + shares + ":warning",
				"Deployment/named-undeclared api " + undeclared + ":error",
				"Deployment/named-undeclared api " + undeclared + ":error",
				"Deployment/two-names api " + undeclared + ":error",
				"Deployment/two-names api " + undeclared + ":error",
			},
			says:  []string{"port 53 (dns), which the container declares as UDP only", "declares as SCTP only", "gRPC check uses port 9555", "(http :health/healthz)"},
			never: []string{":0"}},
		{file: "sidecars.yaml", exit: 1,
			want: []string{
				"Deployment/mesh-app sidecar log-shipper " + noReady + ":warning",
				"Deployment/mesh-app sidecar proxy " + deps + ":error",
				"Deployment/mesh-app sidecar proxy " + shares + ":error",
			},
			lines: map[string]int{"Deployment/mesh-app " + shares: 13, "Deployment/mesh-app " + noReady: 19}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rs, err := Linter{}.Paths([]string{filepath.Join("testdata", "cases", tc.file)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := slices.Sorted(slices.Values(tc.want))
			if got := found(rs); !slices.Equal(got, want) {
				t.Errorf("results\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
			if got := exitCode(rs); got != tc.exit {
				t.Errorf("exit %d, want %d", got, tc.exit)
			}
			for key, line := range tc.lines {
				if got := lineOf(rs, key); got != line {
					t.Errorf("%s on line %d, want %d", key, got, line)
				}
			}
			var msgs strings.Builder
			for _, r := range rs {
				fmt.Fprintln(&msgs, r.Message)
			}
			for _, s := range tc.says {
				if !strings.Contains(msgs.String(), s) {
					t.Errorf("no message says %q:\n%s", s, msgs.String())
				}
			}
			for _, s := range tc.never {
				if strings.Contains(msgs.String(), s) {
					t.Errorf("a message says %q:\n%s", s, msgs.String())
				}
			}
		})
	}
}

func lineOf(rs []Result, key string) int {
	for _, r := range rs {
		if r.Object+" "+r.ID == key {
			return r.Line
		}
	}
	return 0
}
