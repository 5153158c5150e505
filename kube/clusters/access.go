package clusters

import (
	"context"
	"fmt"

	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// Scope is what the watcher watches and why.
type Scope struct {
	Namespace string // "" for all namespaces
	// Note says why the scope differs from what was asked, e.g. "forbidden
	// to list pods cluster-wide; watching namespace team-a".
	Note string
}

// can asks the API server whether the user may verb pods in namespace.
func can(ctx context.Context, c kubernetes.Interface, verb, resource, namespace string) (bool, error) {
	r, err := c.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Verb: verb, Resource: resource, Namespace: namespace}},
	}, metav1.CreateOptions{})
	if err != nil {
		return false, err
	}
	return r.Status.Allowed, nil
}

// ResolveScope checks what the user may watch. Without -n it wants every
// namespace; when listing pods cluster-wide is forbidden it falls back to
// the kubeconfig context's namespace and says so. It fails only when even
// that is forbidden.
func ResolveScope(ctx context.Context, c kubernetes.Interface, t Target) (Scope, error) {
	want := t.Namespace
	okList, err := can(ctx, c, "list", "pods", want)
	if err != nil {
		return Scope{}, err
	}
	okWatch, err := can(ctx, c, "watch", "pods", want)
	if err != nil {
		return Scope{}, err
	}
	if okList && okWatch {
		return Scope{Namespace: want}, nil
	}
	if want != "" {
		return Scope{}, fmt.Errorf("forbidden to list and watch pods in namespace %s", want)
	}
	fallback := t.ContextNamespace
	if ok, err := can(ctx, c, "list", "pods", fallback); err != nil || !ok {
		return Scope{}, fmt.Errorf("forbidden to list pods cluster-wide and in namespace %s (the context's namespace); pass -n NAMESPACE", fallback)
	}
	return Scope{Namespace: fallback, Note: "forbidden to list pods cluster-wide; watching namespace " + fallback}, nil
}
