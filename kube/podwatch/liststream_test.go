package podwatch

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"testing"
	"testing/iotest"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
)

// recordedList is every recorded pod in one PodList, encoded as the
// apiserver sends a LIST response, and the list decoded whole.
func recordedList(tb testing.TB) ([]byte, *corev1.PodList) {
	tb.Helper()
	full := protobufSerializer(tb)
	list := &corev1.PodList{}
	for _, data := range recordedPods(tb) {
		obj, _, err := full.Decode(data, nil, &corev1.Pod{})
		if err != nil {
			tb.Fatal(err)
		}
		list.Items = append(list.Items, *obj.(*corev1.Pod))
	}
	list.ResourceVersion = "4242"
	data, err := runtime.Encode(scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion), list)
	if err != nil {
		tb.Fatal(err)
	}
	return data, list
}

func collect(r io.Reader) ([]corev1.Pod, string, error) {
	var got []corev1.Pod
	meta, err := streamPodList(r, func(p *corev1.Pod) { got = append(got, *p) })
	return got, meta.ResourceVersion, err
}

// TestStreamPodListAgrees: a LIST response read a byte at a time (the
// worst a network can split it) gives each recorded pod exactly as the
// slim decoder gives it whole, in order, and the list's resource version;
// a JSON response gives the same; a cut or foreign response is an error,
// never a short list.
func TestStreamPodListAgrees(t *testing.T) {
	data, list := recordedList(t)
	got, rv, err := collect(iotest.OneByteReader(bytes.NewReader(data)))
	if err != nil || rv != "4242" || len(got) != len(list.Items) {
		t.Fatalf("streamed %d of %d pods, rv %q: %v", len(got), len(list.Items), rv, err)
	}
	for i := range got {
		if want := slimView(&list.Items[i]); !reflect.DeepEqual(&got[i], want) {
			t.Errorf("item %d differs:\nstreamed %+v\nfull     %+v", i, got[i], want)
		}
	}

	js, err := json.Marshal(list)
	if err != nil {
		t.Fatal(err)
	}
	js = append([]byte(`{"kind":"PodList","apiVersion":"v1",`), js[1:]...)
	if got, rv, err := collect(bytes.NewReader(js)); err != nil || rv != "4242" || len(got) != len(list.Items) || got[0].Name != list.Items[0].Name {
		t.Errorf("a JSON list: %d pods, rv %q: %v", len(got), rv, err)
	}

	for _, cut := range []int{5, len(data) / 2, len(data) - 1} {
		if got, _, err := collect(bytes.NewReader(data[:cut])); err == nil {
			t.Errorf("a list cut at %d of %d bytes decoded (%d pods) without an error", cut, len(data), len(got))
		}
	}
	pod := recordedPods(t)["segfault"]
	if _, _, err := collect(bytes.NewReader(pod)); err == nil {
		t.Error("a Pod where a PodList belongs decoded without an error")
	}
}

// FuzzStreamPodList: any bytes, mutated from a recorded LIST response,
// never panic the stream decoder, and whatever it decodes without an error
// the slim decoder of the whole response decodes the same way.
func FuzzStreamPodList(f *testing.F) {
	data, _ := recordedList(f)
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		got, rv, err := collect(bytes.NewReader(data))
		if err != nil || !bytes.HasPrefix(data, protobufMagic) {
			return
		}
		obj, _, werr := decodeSlim(data, nil)
		whole, ok := obj.(*corev1.PodList)
		if werr != nil || !ok {
			return // the stream is more lenient about a list's envelope
		}
		if whole.ResourceVersion != rv || len(whole.Items) != len(got) {
			t.Fatalf("streamed %d pods rv %q, whole %d rv %q", len(got), rv, len(whole.Items), whole.ResourceVersion)
		}
		for i := range got {
			if !reflect.DeepEqual(got[i], whole.Items[i]) {
				t.Fatalf("item %d: streamed %+v, whole %+v", i, got[i], whole.Items[i])
			}
		}
	})
}

// TestSlimListPages: the watcher's List asks for the most recent state
// (whatever version the reflector asked for) in a small first page and,
// when that is not all, for the whole list in one request; it hands on
// every pod of both, and its stubs and version are the whole list's. A
// first page that is all is the list.
func TestSlimListPages(t *testing.T) {
	full := protobufSerializer(t)
	enc := scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion)
	page := func(cont, rv string, names ...string) []byte {
		l := &corev1.PodList{}
		l.Continue, l.ResourceVersion = cont, rv
		for _, n := range names {
			l.Items = append(l.Items, corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: "shop"}})
		}
		b, err := runtime.Encode(enc, l)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct {
		name     string
		small    bool // the first page is all
		pods     []string
		stubs    int
		rv       string
		requests int
	}{
		{"large", false, []string{"api-1", "api-2", "api-1", "api-2", "web-1"}, 3, "43", 2},
		{"small", true, []string{"api-1", "api-2"}, 2, "42", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var queries []url.Values
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				queries = append(queries, q)
				w.Header().Set("Content-Type", runtime.ContentTypeProtobuf)
				switch {
				case tc.small:
					_, _ = w.Write(page("", "42", "api-1", "api-2"))
				case q.Get("limit") != "":
					_, _ = w.Write(page("next-page", "42", "api-1", "api-2"))
				default:
					_, _ = w.Write(page("", "43", "api-1", "api-2", "web-1"))
				}
			}))
			defer srv.Close()
			s, err := newSlimPods(&rest.Config{Host: srv.URL, ContentConfig: rest.ContentConfig{ContentType: runtime.ContentTypeProtobuf}})
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			obj, err := s.List(context.Background(), "shop", metav1.ListOptions{ResourceVersion: "0", Limit: 500, LabelSelector: "app=x"}, func(p *corev1.Pod) { names = append(names, p.Name) })
			if err != nil {
				t.Fatal(err)
			}
			stubs := obj.(*metav1.PartialObjectMetadataList)
			if !slices.Equal(names, tc.pods) || len(stubs.Items) != tc.stubs || stubs.ResourceVersion != tc.rv || stubs.Continue != "" {
				t.Fatalf("pods %v, %d stubs at %q (continue %q)", names, len(stubs.Items), stubs.ResourceVersion, stubs.Continue)
			}
			if len(queries) != tc.requests {
				t.Fatalf("%d requests, want %d", len(queries), tc.requests)
			}
			for i, q := range queries {
				limit := strconv.Itoa(listFirstPage)
				if i == 1 {
					limit = ""
				}
				if q.Get("resourceVersion") != "" || q.Get("continue") != "" || q.Get("limit") != limit || q.Get("labelSelector") != "app=x" {
					t.Errorf("request %d asked %v", i, q)
				}
			}
		})
	}
}
