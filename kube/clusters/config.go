package clusters

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/crashlens/crashlens/kube"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// DefaultProbeTimeout bounds the first request to a cluster when the user
// set no --request-timeout: an on-call engineer must hear "unreachable"
// within seconds, not after the kernel's TCP timeout.
const DefaultProbeTimeout = 5 * time.Second

// Flags are the cluster flags every cluster-facing command takes: kubectl's
// own (through cli-runtime) plus crashlens's scope and safety switches.
type Flags struct {
	Config        *genericclioptions.ConfigFlags
	AllContexts   bool // every context of the kubeconfig (see Contexts)
	AllNamespaces bool
	Selector      string
	Readonly      bool
}

// NewFlags returns Flags with kubectl's defaults.
func NewFlags() *Flags {
	return &Flags{Config: genericclioptions.NewConfigFlags(true)}
}

// Target says which cluster and scope a command talks to, for messages and
// the status bar.
type Target struct {
	Context   string // kubeconfig context name ("" when none)
	Server    string
	Namespace string // "" means all namespaces
	// ContextNamespace is the namespace of the kubeconfig context (or
	// "default"): the fallback scope when cluster-wide listing is forbidden.
	ContextNamespace string
}

// Describe names the cluster for one-line messages.
func (t Target) Describe() string {
	if t.Context != "" {
		return fmt.Sprintf("%s (context %q)", t.Server, t.Context)
	}
	return t.Server
}

// Resolve loads the kubeconfig and returns the REST config and the target,
// or an error whose message is one clear line.
func (f *Flags) Resolve() (*rest.Config, Target, error) {
	if names, err := f.Contexts(); err != nil {
		return nil, Target{}, err
	} else if names != nil {
		return nil, Target{}, fmt.Errorf("%d contexts selected (%s): this command looks at one cluster (the TUI, list, list --watch and history take several); pick one with --context",
			len(names), strings.Join(names, ", "))
	}
	loader := f.Config.ToRawKubeConfigLoader()
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, Target{}, kubeconfigError(f, err)
	}
	t := Target{Context: raw.CurrentContext}
	if len(raw.Clusters) == 0 && (f.Config.APIServer == nil || *f.Config.APIServer == "") {
		// Inside a pod (crashlens monitor) the service account is the
		// configuration; elsewhere client-go would quietly fall back to
		// http://localhost:8080.
		if cfg, err := rest.InClusterConfig(); err == nil {
			return f.inCluster(cfg)
		}
		return nil, t, fmt.Errorf("no cluster configured: %s is missing or has no clusters (set --kubeconfig or KUBECONFIG)", kubeconfigSource(f))
	}
	if f.Config.Context != nil && *f.Config.Context != "" {
		t.Context = *f.Config.Context
		if _, ok := raw.Contexts[t.Context]; !ok {
			return nil, t, fmt.Errorf("context %q not found in %s", t.Context, kubeconfigSource(f))
		}
	}
	cfg, err := f.Config.ToRESTConfig()
	if err != nil {
		return nil, t, kubeconfigError(f, err)
	}
	t.Server = cfg.Host
	ns, _, err := loader.Namespace()
	if err != nil || ns == "" {
		ns = "default"
	}
	t.ContextNamespace = ns
	if !f.AllNamespaces {
		t.Namespace = ns
		if f.Config.Namespace == nil || *f.Config.Namespace == "" {
			// Without -n, crashlens watches every namespace it may see:
			// crashes are rarely where the context points.
			t.Namespace = ""
		}
	}
	return cfg, t, nil
}

// InClusterContext names the cluster a pod runs in, where there is no
// kubeconfig context.
const InClusterContext = "in-cluster"

// inCluster is Resolve inside a pod: the service account's credentials and
// namespace, and the scope flags as anywhere else.
func (f *Flags) inCluster(cfg *rest.Config) (*rest.Config, Target, error) {
	t := Target{Context: InClusterContext, Server: cfg.Host, ContextNamespace: "default"}
	if b, err := os.ReadFile("/var/run/secrets/kubernetes.io/serviceaccount/namespace"); err == nil && len(b) > 0 {
		t.ContextNamespace = strings.TrimSpace(string(b))
	}
	cfg.Timeout = f.TimeoutOr(cfg.Timeout)
	if !f.AllNamespaces && f.Config.Namespace != nil && *f.Config.Namespace != "" {
		t.Namespace = *f.Config.Namespace
	}
	return cfg, t, nil
}

func kubeconfigSource(f *Flags) string {
	if f.Config.KubeConfig != nil && *f.Config.KubeConfig != "" {
		return *f.Config.KubeConfig
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		return env
	}
	return clientcmd.RecommendedHomeFile
}

func kubeconfigError(f *Flags, err error) error {
	src := kubeconfigSource(f)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("kubeconfig %s does not exist (set --kubeconfig or KUBECONFIG)", src)
	case clientcmd.IsEmptyConfig(err):
		return fmt.Errorf("no cluster configured: %s is missing or empty (set --kubeconfig or KUBECONFIG)", src)
	case clientcmd.IsContextNotFound(err):
		return fmt.Errorf("context not found in %s: %v", src, kube.OneLine(err))
	case clientcmd.IsConfigurationInvalid(err):
		return fmt.Errorf("kubeconfig %s is invalid: %s", src, kube.OneLine(err))
	case strings.Contains(err.Error(), "couldn't get version/kind"):
		return fmt.Errorf("kubeconfig %s is not a kubeconfig (no apiVersion/kind)", src)
	case strings.Contains(err.Error(), "error loading config file"):
		msg := kube.OneLine(err)
		if i := strings.LastIndex(msg, `": `); i >= 0 {
			msg = msg[i+3:]
		}
		return fmt.Errorf("kubeconfig %s cannot be read: %s", src, msg)
	}
	return fmt.Errorf("kubeconfig %s: %s", src, kube.OneLine(err))
}

// Probe asks the server for its version, bounded by --request-timeout (or
// DefaultProbeTimeout when none is set), and explains a failure in one line
// naming the server. It returns the server's version.
func Probe(ctx context.Context, cfg *rest.Config, t Target) (string, error) {
	c := rest.CopyConfig(cfg)
	if c.Timeout == 0 {
		c.Timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	dc, err := discovery.NewDiscoveryClientForConfig(c)
	if err != nil {
		return "", fmt.Errorf("%s: %s", t.Describe(), kube.OneLine(err))
	}
	type result struct {
		v   string
		err error
	}
	done := make(chan result, 1)
	go func() {
		body, err := dc.RESTClient().Get().AbsPath("/version").Do(ctx).Raw()
		if err != nil {
			done <- result{err: err}
			return
		}
		v := string(body)
		if i := strings.Index(v, `"gitVersion": "`); i >= 0 {
			v = v[i+len(`"gitVersion": "`):]
			v = v[:strings.IndexByte(v, '"')]
		}
		done <- result{v: v}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return "", ExplainConnError(t, r.err, c.Timeout)
		}
		return r.v, nil
	case <-ctx.Done():
		return "", fmt.Errorf("%s did not answer within %s", t.Describe(), c.Timeout)
	}
}

// ExplainConnError turns a transport or API error into one line that names
// the server and the cause, without Go's nested error chains.
func ExplainConnError(t Target, err error, timeout time.Duration) error {
	var dnsErr *net.DNSError
	var urlErr *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || isTimeout(err):
		return fmt.Errorf("%s did not answer within %s", t.Describe(), timeout)
	case strings.Contains(err.Error(), "getting credentials: "):
		// The kubeconfig's exec plugin (an SSO login, typically) failed.
		msg := kube.OneLine(err)
		msg = msg[strings.Index(msg, "getting credentials: ")+len("getting credentials: "):]
		return credentialsError(fmt.Sprintf("cannot get credentials for %s: %s (log in again?)", t.Describe(), msg))
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot reach %s: connection refused (is the cluster running?)", t.Describe())
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot reach %s: cannot resolve %s", t.Describe(), dnsErr.Name)
	case apierrors.IsUnauthorized(err):
		return credentialsError(fmt.Sprintf("%s rejected the credentials (Unauthorized): log in again or refresh the token", t.Describe()))
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: forbidden: %s", t.Describe(), kube.OneLine(err))
	case errors.As(err, &urlErr):
		return fmt.Errorf("cannot reach %s: %s", t.Describe(), kube.OneLine(urlErr.Err))
	}
	return fmt.Errorf("%s: %s", t.Describe(), kube.OneLine(err))
}

// ErrCredentials matches the errors of rejected or unobtainable
// credentials: trying again at once cannot help (Fleet waits minutes).
var ErrCredentials = errors.New("credentials rejected")

type credentialsError string

func (e credentialsError) Error() string        { return string(e) }
func (e credentialsError) Is(target error) bool { return target == ErrCredentials }

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TimeoutOr is --request-timeout when it is set and valid, else def.
func (f *Flags) TimeoutOr(def time.Duration) time.Duration {
	if f.Config.Timeout != nil {
		if d, err := time.ParseDuration(*f.Config.Timeout); err == nil && d > 0 {
			return d
		}
	}
	return def
}
