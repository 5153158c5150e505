package podwatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// podSource lists and watches pods: the watcher's only API calls.
type podSource interface {
	// List hands each pod to each as it is decoded and returns the list
	// of their stubs (classifiedStub), which is what the reflector's
	// Replace gets: the watcher classified every pod on the way.
	List(ctx context.Context, namespace string, opts metav1.ListOptions, each func(*corev1.Pod)) (runtime.Object, error)
	Watch(ctx context.Context, namespace string, opts metav1.ListOptions) (watch.Interface, error)
}

// typedPods is the clientset's pods, decoded whole: for clients that are
// not built from a rest.Config (the fake clientset of unit tests).
type typedPods struct{ c kubernetes.Interface }

func (t typedPods) List(ctx context.Context, ns string, opts metav1.ListOptions, each func(*corev1.Pod)) (runtime.Object, error) {
	l, err := t.c.CoreV1().Pods(ns).List(ctx, opts)
	if err != nil {
		return nil, err
	}
	stubs := &metav1.PartialObjectMetadataList{ListMeta: l.ListMeta, Items: make([]metav1.PartialObjectMetadata, 0, len(l.Items))}
	for i := range l.Items {
		each(&l.Items[i])
		stubs.Items = append(stubs.Items, *classifiedStub(&l.Items[i]))
	}
	return stubs, nil
}

func (t typedPods) Watch(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	return t.c.CoreV1().Pods(ns).Watch(ctx, opts)
}

// slimPods is the same requests through a REST client whose protobuf
// decoder decodes pods slim (slimpod.go).
type slimPods struct{ rc rest.Interface }

// newSlimPods builds the watcher's REST client from the session's config
// (transport, auth, user agent and protobuf as every other call).
func newSlimPods(cfg *rest.Config) (slimPods, error) {
	c := rest.CopyConfig(cfg)
	c.GroupVersion, c.APIPath = &corev1.SchemeGroupVersion, "/api"
	c.NegotiatedSerializer = slimCodecs{scheme.Codecs.WithoutConversion()}
	rc, err := rest.RESTClientFor(c)
	return slimPods{rc}, err
}

// listFirstPage is the size of the watcher's first, small LIST: a whole
// list at 50,000 pods makes the server work a second or more before its
// first byte, a page of 500 comes in tens of milliseconds and shows the
// first crash groups in it.
const listFirstPage = 500

// List streams the pods through the slim decoder, pod by pod as they
// arrive (liststream.go). When the first page is not all, the whole list
// follows in one unpaged request, which hands on the first page's pods
// again: the server serves a continuation of a large list much more slowly
// than a whole one (measured at 50,000 pods: 6 to 21 s against 4 to 7.5),
// and 500 pods twice cost little. It always asks for the most recent state
// (resourceVersion unset, as kubectl does): never older than what the
// reflector last saw, which is all a relist needs, and the only way the
// server pages a list from its watch cache.
func (s slimPods) List(ctx context.Context, ns string, opts metav1.ListOptions, each func(*corev1.Pod)) (runtime.Object, error) {
	opts.ResourceVersion, opts.ResourceVersionMatch = "", ""
	opts.Limit, opts.Continue = listFirstPage, ""
	var stubs *metav1.PartialObjectMetadataList
	keep := func(pod *corev1.Pod) {
		each(pod)
		stubs.Items = append(stubs.Items, *classifiedStub(pod))
	}
	for _, limit := range []int64{listFirstPage, 0} {
		opts.Limit = limit
		stubs = &metav1.PartialObjectMetadataList{}
		meta, err := s.listPage(ctx, ns, opts, keep)
		if err != nil {
			return nil, err
		}
		stubs.ResourceVersion = meta.ResourceVersion
		if meta.Continue == "" {
			break
		}
	}
	return stubs, nil
}

func (s slimPods) listPage(ctx context.Context, ns string, opts metav1.ListOptions, each func(*corev1.Pod)) (metav1.ListMeta, error) {
	body, err := s.rc.Get().Namespace(ns).Resource("pods").VersionedParams(&opts, scheme.ParameterCodec).Stream(ctx)
	if err != nil {
		return metav1.ListMeta{}, err
	}
	defer body.Close()
	return streamPodList(body, each)
}

func (s slimPods) Watch(ctx context.Context, ns string, opts metav1.ListOptions) (watch.Interface, error) {
	var timeout time.Duration
	if opts.TimeoutSeconds != nil {
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	opts.Watch = true
	return s.rc.Get().Namespace(ns).Resource("pods").VersionedParams(&opts, scheme.ParameterCodec).Timeout(timeout).Watch(ctx)
}

// slimCodecs is client-go's codecs with the protobuf decoder swapped for
// one that decodes v1 pods and pod lists slim; every other object (a
// Status, an error) decodes as before.
type slimCodecs struct{ runtime.NegotiatedSerializer }

func (c slimCodecs) SupportedMediaTypes() []runtime.SerializerInfo {
	infos := slices.Clone(c.NegotiatedSerializer.SupportedMediaTypes())
	for i := range infos {
		if infos[i].MediaType == runtime.ContentTypeProtobuf {
			infos[i].Serializer = slimSerializer{infos[i].Serializer}
			if st := infos[i].StreamSerializer; st != nil {
				st := *st
				st.Serializer = watchEventSerializer{st.Serializer}
				infos[i].StreamSerializer = &st
			}
		}
	}
	return infos
}

// watchEventSerializer decodes a watch stream's frames (protobuf
// WatchEvents) without copying the object: the generated decoder copies
// each event's raw object (a pod's 6.5 KB) before the object is decoded.
// The object's bytes alias the frame buffer, which client-go's watch
// decoder reuses only for the next frame, after it decoded this one's
// object; the slim decoder copies what it keeps.
type watchEventSerializer struct{ runtime.Serializer }

// Field numbers of metav1.WatchEvent and runtime.RawExtension.
const (
	fieldEventType   = 1
	fieldEventObject = 2
	fieldRawBytes    = 1
)

func (s watchEventSerializer) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	ev, ok := into.(*metav1.WatchEvent)
	if !ok {
		return s.Serializer.Decode(data, defaults, into)
	}
	*ev = metav1.WatchEvent{}
	err := eachField(data, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldEventType:
			ev.Type = string(v)
		case fieldEventObject:
			return eachField(v, func(num protowire.Number, v []byte) error {
				if num == fieldRawBytes {
					ev.Object.Raw = v
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("decoding a watch event: %w", err)
	}
	gvk := metav1.SchemeGroupVersion.WithKind("WatchEvent")
	return ev, &gvk, nil
}

type slimSerializer struct{ runtime.Serializer }

func (s slimSerializer) Decode(data []byte, defaults *schema.GroupVersionKind, into runtime.Object) (runtime.Object, *schema.GroupVersionKind, error) {
	obj, kind, err := decodeSlim(data, into)
	if errors.Is(err, errNotPod) {
		return s.Serializer.Decode(data, defaults, into)
	}
	gvk := corev1.SchemeGroupVersion.WithKind(kind)
	return obj, &gvk, err
}
