package podwatch

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/crashlens/crashlens/diagnose"
	"github.com/crashlens/crashlens/hack/clustertest"
)

// protobufSerializer is client-go's protobuf serializer (the full decoder).
func protobufSerializer(tb testing.TB) runtime.Serializer {
	info, ok := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	if !ok {
		tb.Fatal("no protobuf serializer")
	}
	return info.Serializer
}

// recordedPods encodes every pod recorded from the real cluster
// (diagnose/testdata) as the apiserver sends it.
func recordedPods(tb testing.TB) map[string][]byte {
	tb.Helper()
	enc := scheme.Codecs.EncoderForVersion(protobufSerializer(tb), corev1.SchemeGroupVersion)
	dirs, err := filepath.Glob(filepath.Join("..", "..", "diagnose", "testdata", "*", "pod.json"))
	if err != nil || len(dirs) == 0 {
		tb.Fatalf("no recorded pods: %v", err)
	}
	out := map[string][]byte{}
	for _, path := range dirs {
		b, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		var pod corev1.Pod
		if err := json.Unmarshal(b, &pod); err != nil {
			tb.Fatal(err)
		}
		data, err := runtime.Encode(enc, &pod)
		if err != nil {
			tb.Fatal(err)
		}
		out[filepath.Base(filepath.Dir(path))] = data
	}
	return out
}

// slimView is what the slim decoder must keep of a fully decoded pod.
func slimView(full *corev1.Pod) *corev1.Pod {
	st := full.Status
	p := &corev1.Pod{Status: corev1.PodStatus{Phase: st.Phase, Conditions: st.Conditions, Message: st.Message, Reason: st.Reason, StartTime: st.StartTime}}
	slimCS := func(in []corev1.ContainerStatus) []corev1.ContainerStatus {
		var out []corev1.ContainerStatus
		for _, cs := range in {
			out = append(out, corev1.ContainerStatus{Name: cs.Name, State: cs.State, LastTerminationState: cs.LastTerminationState,
				Ready: cs.Ready, RestartCount: cs.RestartCount, Started: cs.Started})
		}
		return out
	}
	p.Status.ContainerStatuses, p.Status.InitContainerStatuses = slimCS(st.ContainerStatuses), slimCS(st.InitContainerStatuses)
	m := full.ObjectMeta
	p.ObjectMeta = metav1.ObjectMeta{Name: m.Name, Namespace: m.Namespace, UID: m.UID, ResourceVersion: m.ResourceVersion,
		CreationTimestamp: m.CreationTimestamp, DeletionTimestamp: m.DeletionTimestamp, OwnerReferences: m.OwnerReferences}
	if h, ok := m.Labels[templateHashLabel]; ok {
		p.Labels = map[string]string{templateHashLabel: h}
	}
	if v, ok := m.Annotations[metav1.InitialEventsAnnotationKey]; ok {
		p.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: v}
	}
	p.Spec.NodeName, p.Spec.RestartPolicy = full.Spec.NodeName, full.Spec.RestartPolicy
	for _, c := range full.Spec.Containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c.Name, RestartPolicy: c.RestartPolicy, RestartPolicyRules: c.RestartPolicyRules})
	}
	for _, c := range full.Spec.InitContainers {
		p.Spec.InitContainers = append(p.Spec.InitContainers, corev1.Container{Name: c.Name, RestartPolicy: c.RestartPolicy, RestartPolicyRules: c.RestartPolicyRules})
	}
	return p
}

// agree decodes data both ways: when the full decoder takes it, the slim
// one must too, keep exactly slimView of it, and the rulebook must judge
// both the same at the pod's own time and later.
func agree(t *testing.T, full runtime.Serializer, data []byte) {
	obj, _, err := full.Decode(data, nil, &corev1.Pod{})
	fullPod, isPod := obj.(*corev1.Pod)
	slim, _, slimErr := decodeSlim(data, nil)
	if err != nil || !isPod {
		return // not a pod the apiserver could send; the slim decoder only must not panic
	}
	if slimErr != nil {
		t.Fatalf("the full decoder takes it, the slim one fails: %v", slimErr)
	}
	slimPod := slim.(*corev1.Pod)
	if want := slimView(fullPod); !reflect.DeepEqual(slimPod, want) {
		t.Fatalf("slim pod differs from the full one's fields:\nslim %+v\nfull %+v", slimPod, want)
	}
	for _, now := range []time.Time{fullPod.CreationTimestamp.Add(time.Hour), time.Date(2026, 11, 21, 14, 10, 0, 0, time.UTC)} {
		if a, b := diagnose.Classify(fullPod, now), diagnose.Classify(slimPod, now); !reflect.DeepEqual(a, b) {
			t.Fatalf("the rulebook judges them differently at %s:\nfull %+v\nslim %+v", now, a, b)
		}
	}
}

// TestSlimPodAgrees: on every pod recorded from the real cluster, the slim
// decoder keeps what Classify reads exactly as the full decoder has it, and
// the verdicts are the same; a pod list decodes item by item the same way.
func TestSlimPodAgrees(t *testing.T) {
	full := protobufSerializer(t)
	pods := recordedPods(t)
	for name, data := range pods {
		t.Run(name, func(t *testing.T) { agree(t, full, data) })
	}
	// A list through the negotiated client decoder, as the watcher's LIST
	// fallback gets it.
	var list corev1.PodList
	for _, data := range pods {
		obj, _, _ := full.Decode(data, nil, &corev1.Pod{})
		list.Items = append(list.Items, *obj.(*corev1.Pod))
	}
	list.ResourceVersion = "4242"
	data, err := runtime.Encode(scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion), &list)
	if err != nil {
		t.Fatal(err)
	}
	dec := slimCodecs{scheme.Codecs.WithoutConversion()}
	info, _ := runtime.SerializerInfoForMediaType(dec.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	obj, _, err := dec.DecoderToVersion(info.Serializer, corev1.SchemeGroupVersion).Decode(data, nil, &corev1.PodList{})
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*corev1.PodList)
	if got.ResourceVersion != "4242" || len(got.Items) != len(list.Items) {
		t.Fatalf("list rv %q, %d items of %d", got.ResourceVersion, len(got.Items), len(list.Items))
	}
	for i := range got.Items {
		if want := slimView(&list.Items[i]); !reflect.DeepEqual(&got.Items[i], want) {
			t.Errorf("item %d differs:\nslim %+v\nfull %+v", i, got.Items[i], want)
		}
	}
	// The watch-list's bookmark keeps the annotation that ends the initial
	// events (the reflector waits for it), and only that one.
	bookmark := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "4243",
		Annotations: map[string]string{metav1.InitialEventsAnnotationKey: "true", "other": "x"}}}
	data, err = runtime.Encode(scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion), bookmark)
	if err != nil {
		t.Fatal(err)
	}
	agree(t, full, data)
	if obj, _, err := decodeSlim(data, nil); err != nil || obj.(*corev1.Pod).Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Errorf("the bookmark lost its end-of-initial-events annotation: %+v %v", obj, err)
	}
	// Anything else decodes as before.
	st, _ := runtime.Encode(scheme.Codecs.EncoderForVersion(full, metav1.SchemeGroupVersion), &metav1.Status{Status: "Failure", Code: 410, Reason: metav1.StatusReasonGone})
	if obj, _, err := dec.DecoderToVersion(info.Serializer, metav1.SchemeGroupVersion).Decode(st, nil, nil); err != nil || obj.(*metav1.Status).Code != 410 {
		t.Errorf("a Status through the slim codecs: %v %v", obj, err)
	}
}

// FuzzSlimPod: any bytes, mutated from the recorded pods, never panic the
// slim decoder, and whatever the full decoder accepts the slim one decodes
// the same way.
func FuzzSlimPod(f *testing.F) {
	for _, data := range recordedPods(f) {
		f.Add(data)
	}
	full := protobufSerializer(f)
	for _, i := range []int{0, 7} { // crashing, running
		p := clustertest.RealisticPod(i)
		p.Status = clustertest.RealisticStatus(i, time.Date(2026, 11, 21, 14, 10, 0, 0, time.UTC))
		data, err := runtime.Encode(scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion), p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// A container with its own restart policy and rules (ContainerRestartRules).
	p := clustertest.RealisticPod(0)
	never := corev1.ContainerRestartPolicyNever
	p.Spec.RestartPolicy = corev1.RestartPolicyNever
	p.Spec.Containers[0].RestartPolicy = &never
	p.Spec.Containers[0].RestartPolicyRules = []corev1.ContainerRestartRule{
		{Action: corev1.ContainerRestartRuleActionRestart, ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpIn, Values: []int32{42, 43}}},
		{Action: corev1.ContainerRestartRuleActionRestartAllContainers, ExitCodes: &corev1.ContainerRestartRuleOnExitCodes{Operator: corev1.ContainerRestartRuleOnExitCodesOpNotIn, Values: []int32{0}}},
	}
	p.Status = clustertest.RealisticStatus(0, time.Date(2026, 11, 21, 14, 10, 0, 0, time.UTC))
	data, err := runtime.Encode(scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion), p)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) { agree(t, full, data) })
}

// BenchmarkDecodePod: one realistic pod (the scale benchmark's: two
// containers with env, probes, resources, mounts, an annotation) decoded
// whole and slim.
func BenchmarkDecodePod(b *testing.B) {
	full := protobufSerializer(b)
	p := clustertest.RealisticPod(7)
	p.Status = clustertest.RealisticStatus(7, time.Now())
	data, err := runtime.Encode(scheme.Codecs.EncoderForVersion(full, corev1.SchemeGroupVersion), p)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("full", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, _, err := full.Decode(data, nil, &corev1.Pod{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("slim", func(b *testing.B) {
		b.SetBytes(int64(len(data)))
		for b.Loop() {
			if _, _, err := decodeSlim(data, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestWatchEventSerializerAgrees: a watch stream's frames (every recorded
// pod as an event, a bookmark, an ERROR with a Status) decode to the same
// type and object bytes as client-go's decoder has them, the bytes
// aliasing the frame instead of a copy; a broken frame is an error.
func TestWatchEventSerializerAgrees(t *testing.T) {
	info, _ := runtime.SerializerInfoForMediaType(scheme.Codecs.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	full := info.StreamSerializer.Serializer
	slimInfo, _ := runtime.SerializerInfoForMediaType(slimCodecs{scheme.Codecs.WithoutConversion()}.SupportedMediaTypes(), runtime.ContentTypeProtobuf)
	slim := slimInfo.StreamSerializer.Serializer
	if _, ok := slim.(watchEventSerializer); !ok {
		t.Fatalf("the slim codecs' stream serializer is %T", slim)
	}
	if info.StreamSerializer.Serializer != full {
		t.Fatal("the slim codecs changed client-go's own stream serializer")
	}
	st, _ := runtime.Encode(scheme.Codecs.EncoderForVersion(protobufSerializer(t), metav1.SchemeGroupVersion), &metav1.Status{Status: "Failure", Code: 410})
	events := []metav1.WatchEvent{{Type: "BOOKMARK", Object: runtime.RawExtension{Raw: []byte("k8s\x00bookmark")}}, {Type: "ERROR", Object: runtime.RawExtension{Raw: st}}}
	for _, data := range recordedPods(t) {
		events = append(events, metav1.WatchEvent{Type: "ADDED", Object: runtime.RawExtension{Raw: data}})
	}
	for _, ev := range events {
		var frame bytes.Buffer
		if err := full.Encode(&ev, &frame); err != nil {
			t.Fatal(err)
		}
		var want, got metav1.WatchEvent
		if _, _, err := full.Decode(frame.Bytes(), nil, &want); err != nil {
			t.Fatal(err)
		}
		if res, _, err := slim.Decode(frame.Bytes(), nil, &got); err != nil || res != &got {
			t.Fatalf("%s: %v (%T)", ev.Type, err, res)
		}
		if got.Type != want.Type || !bytes.Equal(got.Object.Raw, want.Object.Raw) {
			t.Errorf("%s: got %q and %d bytes, want %q and %d", ev.Type, got.Type, len(got.Object.Raw), want.Type, len(want.Object.Raw))
		}
		if len(got.Object.Raw) > 0 && &got.Object.Raw[0] == &want.Object.Raw[0] {
			t.Error("the test compares a buffer with itself")
		}
		if b := frame.Bytes(); len(got.Object.Raw) > 0 {
			// Aliasing: a change to the frame shows in the object's bytes.
			first := got.Object.Raw[0]
			b[bytes.Index(b, got.Object.Raw)] ^= 0xff
			if got.Object.Raw[0] == first {
				t.Errorf("%s: the object is a copy, not the frame's bytes", ev.Type)
			}
			b[bytes.Index(b, got.Object.Raw)] ^= 0xff
		}
		if _, _, err := slim.Decode(frame.Bytes()[:frame.Len()-3], nil, &got); err == nil && len(ev.Object.Raw) > 3 {
			t.Errorf("%s: a cut frame decoded without error", ev.Type)
		}
	}
}
