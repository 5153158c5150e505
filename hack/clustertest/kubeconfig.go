package clustertest

import (
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/crashlens/crashlens/demo"
)

// adminKubeconfig is the admin kubeconfig `clusterctl with` (make test,
// make bench) hands the tests; without one the test fails, never skips,
// and howToRun says how CI runs it.
func adminKubeconfig(tb testing.TB, howToRun string) string {
	tb.Helper()
	admin := os.Getenv("CRASHLENS_KUBECONFIG")
	if admin == "" {
		tb.Fatal("CRASHLENS_KUBECONFIG is not set: " + howToRun)
	}
	return admin
}

// Kubeconfig is the test cluster's kubeconfig for user: "admin", or one
// of the restricted users hack/cluster makes (viewer-ns, no-logs,
// no-events), whose kubeconfigs sit beside the admin's. Integration tests
// fail, never skip, without one (run them through `make test`).
func Kubeconfig(tb testing.TB, user string) string {
	tb.Helper()
	admin := adminKubeconfig(tb, "run integration tests through `make test`")
	if user == "admin" {
		return admin
	}
	return filepath.Join(filepath.Dir(admin), "kubeconfig-"+user)
}

// Config is the REST config of Kubeconfig(tb, user).
func Config(tb testing.TB, user string) *rest.Config {
	tb.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", Kubeconfig(tb, user))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// AdminConfig is the admin REST config of the cluster `make test` or
// `make bench` started: the fault tests' and the benchmarks' way in (the
// benchmarks run only under `make bench`, so its message names both).
func AdminConfig(tb testing.TB) *rest.Config {
	tb.Helper()
	cfg, err := clientcmd.BuildConfigFromFlags("", adminKubeconfig(tb, "run through `make test` or `make bench`"))
	if err != nil {
		tb.Fatal(err)
	}
	return cfg
}

// AdminClientset is a client of the real cluster as its admin.
func AdminClientset(tb testing.TB) kubernetes.Interface {
	tb.Helper()
	return ClientsetFor(tb, Config(tb, "admin"), nil)
}

// ClientsetAs is newClient's client of the test cluster as user, made
// from Config(tb, user) with version "test". The kube packages' tests pass
// kube.NewClientset: they read through crashlens's own client (protobuf,
// its user agent), which this package cannot import (kube's own tests
// import this package).
func ClientsetAs(tb testing.TB, user string, newClient func(cfg *rest.Config, version string) (kubernetes.Interface, error)) kubernetes.Interface {
	tb.Helper()
	c, err := newClient(Config(tb, user), "test")
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// ClientsetFor is a client of cfg, failing the test when cfg could not be
// built (err) or the client cannot.
func ClientsetFor(tb testing.TB, cfg *rest.Config, err error) kubernetes.Interface {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return cs
}

// ContextClientset talks to one context of a KUBECONFIG list (merged as
// kubectl merges it), as a fleet test reads several clusters.
func ContextClientset(tb testing.TB, kubeconfigList, context string) kubernetes.Interface {
	tb.Helper()
	rules := &clientcmd.ClientConfigLoadingRules{Precedence: filepath.SplitList(kubeconfigList)}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	return ClientsetFor(tb, cfg, err)
}

// RepoRoot is the crashlens checkout the test runs in (found from the
// test's working directory, its package's directory): tests in packages at
// any depth reach hack/cluster and the main package through it, not
// through "..".
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	root, err := demo.FindRoot(wd)
	if err != nil {
		tb.Fatal(err)
	}
	return root
}

// BinDir is the absolute directory of the cluster's binaries (kubectl,
// clusterctl), as hack/cluster/build.sh makes them.
func BinDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(RepoRoot(tb), "hack", "cluster", "bin")
}
