package clusters

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"k8s.io/cli-runtime/pkg/genericclioptions"
)

// Several kubeconfig contexts in one run: --context a,b,c, a glob
// (--context 'prod-*') or --all-contexts. Each context is then a cluster of
// its own, with its own flags, client, scope and connection.

// Contexts names the kubeconfig contexts the flags select, in name order:
// nil when they select one context the usual way (a single --context name
// or the current context).
func (f *Flags) Contexts() ([]string, error) {
	sel := ""
	if f.Config.Context != nil {
		sel = *f.Config.Context
	}
	if !f.AllContexts && !strings.ContainsAny(sel, ",*?[") {
		return nil, nil
	}
	raw, err := f.Config.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return nil, kubeconfigError(f, err)
	}
	var names []string
	for name := range raw.Contexts {
		if f.AllContexts || matchesAny(name, strings.Split(sel, ",")) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		if f.AllContexts {
			return nil, fmt.Errorf("no contexts in %s", kubeconfigSource(f))
		}
		return nil, fmt.Errorf("no context in %s matches %q", kubeconfigSource(f), sel)
	}
	return names, nil
}

// matchesAny: name is one of the patterns or matches one as a glob.
func matchesAny(name string, patterns []string) bool {
	for _, p := range patterns {
		p = strings.TrimSpace(p)
		if ok, err := path.Match(p, name); p == name || (err == nil && ok) {
			return true
		}
	}
	return false
}

// ForContext is a copy of the flags for one context. The kubeconfig, its
// user-facing overrides and crashlens's own switches carry over; cli-runtime
// caches its loader, so the copy starts from fresh ConfigFlags.
func (f *Flags) ForContext(name string) *Flags {
	c := genericclioptions.NewConfigFlags(true)
	src := f.Config
	c.KubeConfig, c.Namespace, c.Impersonate, c.ImpersonateUID, c.ImpersonateGroup = src.KubeConfig, src.Namespace, src.Impersonate, src.ImpersonateUID, src.ImpersonateGroup
	c.Timeout, c.CacheDir, c.Insecure, c.DisableCompression = src.Timeout, src.CacheDir, src.Insecure, src.DisableCompression
	c.Context = &name
	return &Flags{Config: c, AllNamespaces: f.AllNamespaces, Selector: f.Selector, Readonly: f.Readonly}
}
