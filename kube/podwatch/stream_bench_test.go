package podwatch

import (
	"bytes"
	"io"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/streaming"
	"k8s.io/client-go/kubernetes/scheme"
	restclientwatch "k8s.io/client-go/rest/watch"

	"github.com/crashlens/crashlens/hack/clustertest"
)

// initialStream is n realistic pods (1% crashing) as an apiserver sends a
// watch-list's initial events: length-delimited protobuf WatchEvent frames.
func initialStream(b *testing.B, n int) []byte {
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	enc := scheme.Codecs.EncoderForVersion(info.Serializer, corev1.SchemeGroupVersion)
	var buf bytes.Buffer
	fw := info.StreamSerializer.Framer.NewFrameWriter(&buf)
	now := time.Now()
	for i := range n {
		p := clustertest.RealisticPod(i)
		p.Status = clustertest.RealisticStatus(i, now)
		raw, err := runtime.Encode(enc, p)
		if err != nil {
			b.Fatal(err)
		}
		if err := info.StreamSerializer.Serializer.Encode(&metav1.WatchEvent{Type: "ADDED", Object: runtime.RawExtension{Raw: raw}}, fw); err != nil {
			b.Fatal(err)
		}
	}
	return buf.Bytes()
}

// BenchmarkInitialStream: the client's side of a watch-list's initial
// events (how the watcher synced before it streamed a LIST), without an
// apiserver: 10,000 pods' events decoded as client-go's watch decoder does,
// each classified into the watcher's store, through the slim decoder (as
// every watch event still is) and through the full one. ns/op is per pod.
func BenchmarkInitialStream(b *testing.B) {
	const n = 10000
	data := initialStream(b, n)
	for _, tc := range []struct {
		name   string
		codecs runtime.NegotiatedSerializer
	}{{"slim", slimCodecs{scheme.Codecs.WithoutConversion()}}, {"full", scheme.Codecs.WithoutConversion()}} {
		b.Run(tc.name, func(b *testing.B) {
			neg := runtime.NewClientNegotiator(tc.codecs, corev1.SchemeGroupVersion)
			b.ReportAllocs()
			for b.Loop() {
				objDec, streamSer, framer, err := neg.StreamDecoder(runtime.ContentTypeProtobuf, nil)
				if err != nil {
					b.Fatal(err)
				}
				d := restclientwatch.NewDecoder(streaming.NewDecoder(framer.NewFrameReader(io.NopCloser(bytes.NewReader(data))), streamSer), objDec)
				w := NewWatcher(nil, "", "")
				for {
					_, obj, err := d.Decode()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					w.upsert(obj)
					_ = classifiedStub(obj.(*corev1.Pod))
				}
				if len(w.pods) != n || len(w.groupOf) != n/100 {
					b.Fatalf("%d pods, %d crashing", len(w.pods), len(w.groupOf))
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pod")
		})
	}
}

// BenchmarkListStream: the client's side of the full view as the watcher
// now reads it, without an apiserver: one LIST response of 10,000 realistic
// pods streamed through streamPodList, each classified into the store.
// ns/op is per pod; compare with BenchmarkInitialStream's watch events.
func BenchmarkListStream(b *testing.B) {
	const n = 10000
	full := protobufSerializer(b)
	list := &corev1.PodList{}
	now := time.Now()
	for i := range n {
		p := clustertest.RealisticPod(i)
		p.Status = clustertest.RealisticStatus(i, now)
		list.Items = append(list.Items, *p)
	}
	data, err := runtime.Encode(scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion), list)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		w := NewWatcher(nil, "", "")
		if _, err := streamPodList(bytes.NewReader(data), w.upsertPod); err != nil {
			b.Fatal(err)
		}
		if len(w.pods) != n || len(w.groupOf) != n/100 {
			b.Fatalf("%d pods, %d crashing", len(w.pods), len(w.groupOf))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/pod")
}
