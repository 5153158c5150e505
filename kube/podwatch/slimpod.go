package podwatch

// The watcher's pod decoder. The rulebook's Classify reads a pod's status,
// a few fields of its metadata and a few of its spec (restart policies and
// rules included); a pod on the wire is
// mostly spec (env, volumes, probes, resources) and managed fields. Decoding
// all of it for 50,000 pods was most of the full view's time (BENCHMARKS.md),
// so the watcher walks each pod's protobuf wire format and decodes only what
// Classify reads; every other byte is skipped unread. FuzzSlimPod proves it
// agrees with the full decoder on what it keeps.

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

// protobufMagic prefixes every object the apiserver encodes as protobuf
// (k8s.io/apimachinery's protobuf serializer), before a runtime.Unknown.
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

// Field numbers of k8s.io/api's generated.proto that the slim decoder reads.
const (
	fieldUnknownTypeMeta = 1 // runtime.Unknown
	fieldUnknownRaw      = 2
	fieldTypeAPIVersion  = 1 // runtime.TypeMeta
	fieldTypeKind        = 2

	fieldListMeta  = 1 // PodList
	fieldListItems = 2

	fieldPodMeta   = 1 // Pod
	fieldPodSpec   = 2
	fieldPodStatus = 3

	fieldMetaName       = 1 // ObjectMeta
	fieldMetaNamespace  = 3
	fieldMetaUID        = 5
	fieldMetaRV         = 6
	fieldMetaCreated    = 8
	fieldMetaDeleted    = 9
	fieldMetaLabels     = 11
	fieldMetaAnnots     = 12
	fieldMetaOwnerRefs  = 13
	fieldMapKey         = 1 // a map entry
	fieldMapValue       = 2
	fieldSpecContainers = 2 // PodSpec
	fieldSpecRestart    = 3
	fieldSpecNodeName   = 10
	fieldSpecInit       = 20
	fieldContainerName  = 1 // Container
	fieldContainerRP    = 24
	fieldContainerRules = 25
	fieldRuleAction     = 1 // ContainerRestartRule
	fieldRuleExitCodes  = 2
	fieldCodesOperator  = 1 // ContainerRestartRuleOnExitCodes
	fieldCodesValues    = 2

	fieldStatusPhase      = 1 // PodStatus
	fieldStatusConditions = 2
	fieldStatusMessage    = 3
	fieldStatusReason     = 4
	fieldStatusStart      = 7
	fieldStatusContainers = 8
	fieldStatusInit       = 10
	fieldCSName           = 1 // ContainerStatus
	fieldCSState          = 2
	fieldCSLastState      = 3
	fieldCSReady          = 4 // varint
	fieldCSRestarts       = 5 // varint
	fieldCSStarted        = 9 // varint
)

// templateHashLabel is the one label Classify reads (a ReplicaSet's pods
// name their Deployment through it).
const templateHashLabel = "pod-template-hash"

// decodeTypeMeta reads an encoded runtime.TypeMeta.
func decodeTypeMeta(b []byte) (apiVersion, kind string, err error) {
	err = eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldTypeAPIVersion:
			apiVersion = string(v)
		case fieldTypeKind:
			kind = string(v)
		}
		return nil
	})
	return apiVersion, kind, err
}

// unknownPayload splits an apiserver protobuf object into its kind and the
// message bytes; ok is false for anything else (JSON, another encoding).
func unknownPayload(data []byte) (apiVersion, kind string, raw []byte, ok bool) {
	if !bytes.HasPrefix(data, protobufMagic) {
		return "", "", nil, false
	}
	err := eachField(data[len(protobufMagic):], func(num protowire.Number, v []byte) error {
		switch num {
		case fieldUnknownTypeMeta:
			var err error
			apiVersion, kind, err = decodeTypeMeta(v)
			return err
		case fieldUnknownRaw:
			raw = v
		}
		return nil
	})
	return apiVersion, kind, raw, err == nil
}

// eachField calls fn for every length-delimited field of a message and
// skips the others. fn's bytes alias b.
func eachField(b []byte, fn func(num protowire.Number, v []byte) error) error {
	return eachValue(b, fn, nil)
}

// eachValue is eachField that also hands varint fields to varint (when
// not nil); fixed-width fields, which nothing the slim decoder reads has,
// are skipped.
func eachValue(b []byte, fn func(num protowire.Number, v []byte) error, varint func(num protowire.Number, x uint64)) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if typ == protowire.VarintType && varint != nil {
			x, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			varint(num, x)
			continue
		}
		if typ != protowire.BytesType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return protowire.ParseError(n)
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		if err := fn(num, v); err != nil {
			return err
		}
	}
	return nil
}

// decodeSlimPodList decodes a PodList's list metadata and, slim, its pods.
func decodeSlimPodList(b []byte, list *corev1.PodList) error {
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldListMeta:
			return list.ListMeta.Unmarshal(v)
		case fieldListItems:
			list.Items = append(list.Items, corev1.Pod{})
			return decodeSlimPod(v, &list.Items[len(list.Items)-1])
		}
		return nil
	})
}

// decodeSlimPod fills pod with what Classify reads: name, namespace, UID,
// resource version, creation and deletion time, owner references and the
// pod-template-hash label (and the annotation that marks the end of a
// watch-list's initial events, which the reflector reads); the spec's node,
// restart policy and container names (init containers with their restart
// policy, the sidecar rule); the status without what only a describe shows
// (addresses, QoS class, images and IDs, resources, volume mounts): see
// decodeSlimStatus.
func decodeSlimPod(b []byte, pod *corev1.Pod) error {
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldPodMeta:
			return decodeSlimMeta(v, &pod.ObjectMeta)
		case fieldPodSpec:
			return decodeSlimSpec(v, &pod.Spec)
		case fieldPodStatus:
			return decodeSlimStatus(v, &pod.Status)
		}
		return nil
	})
}

// decodeSlimStatus keeps the status's phase, conditions, message, reason,
// start time and the containers' and init containers' statuses; of those,
// each one's name, state, last state, readiness, restart count and started
// flag. Images, image and container IDs, resources and volume mounts were a
// third of a running pod's status and most of its allocations.
func decodeSlimStatus(b []byte, s *corev1.PodStatus) error {
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldStatusPhase:
			s.Phase = corev1.PodPhase(v)
		case fieldStatusConditions:
			s.Conditions = append(s.Conditions, corev1.PodCondition{})
			return s.Conditions[len(s.Conditions)-1].Unmarshal(v)
		case fieldStatusMessage:
			s.Message = string(v)
		case fieldStatusReason:
			s.Reason = string(v)
		case fieldStatusStart:
			t := metav1.Time{}
			if err := t.Unmarshal(v); err != nil {
				return err
			}
			s.StartTime = &t
		case fieldStatusContainers:
			s.ContainerStatuses = append(s.ContainerStatuses, corev1.ContainerStatus{})
			return decodeSlimContainerStatus(v, &s.ContainerStatuses[len(s.ContainerStatuses)-1])
		case fieldStatusInit:
			s.InitContainerStatuses = append(s.InitContainerStatuses, corev1.ContainerStatus{})
			return decodeSlimContainerStatus(v, &s.InitContainerStatuses[len(s.InitContainerStatuses)-1])
		}
		return nil
	})
}

func decodeSlimContainerStatus(b []byte, cs *corev1.ContainerStatus) error {
	return eachValue(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldCSName:
			cs.Name = string(v)
		case fieldCSState:
			return cs.State.Unmarshal(v)
		case fieldCSLastState:
			return cs.LastTerminationState.Unmarshal(v)
		}
		return nil
	}, func(num protowire.Number, x uint64) {
		switch num {
		case fieldCSReady:
			cs.Ready = x != 0
		case fieldCSRestarts:
			cs.RestartCount = int32(x)
		case fieldCSStarted:
			started := x != 0
			cs.Started = &started
		}
	})
}

func decodeSlimMeta(b []byte, m *metav1.ObjectMeta) error {
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldMetaName:
			m.Name = string(v)
		case fieldMetaNamespace:
			m.Namespace = string(v)
		case fieldMetaUID:
			m.UID = types.UID(v)
		case fieldMetaRV:
			m.ResourceVersion = string(v)
		case fieldMetaCreated:
			return m.CreationTimestamp.Unmarshal(v)
		case fieldMetaDeleted:
			t := metav1.Time{}
			if err := t.Unmarshal(v); err != nil {
				return err
			}
			m.DeletionTimestamp = &t
		case fieldMetaLabels:
			key, value, err := mapEntry(v)
			if err == nil && string(key) == templateHashLabel {
				m.Labels = map[string]string{templateHashLabel: string(value)}
			}
			return err
		case fieldMetaAnnots:
			// The watch-list's bookmark ends the initial events with this
			// annotation: the reflector waits for it.
			key, value, err := mapEntry(v)
			if err == nil && string(key) == metav1.InitialEventsAnnotationKey {
				m.Annotations = map[string]string{metav1.InitialEventsAnnotationKey: string(value)}
			}
			return err
		case fieldMetaOwnerRefs:
			m.OwnerReferences = append(m.OwnerReferences, metav1.OwnerReference{})
			return m.OwnerReferences[len(m.OwnerReferences)-1].Unmarshal(v)
		}
		return nil
	})
}

// mapEntry reads one entry of a protobuf map<string, string>, without
// copying: most entries are skipped.
func mapEntry(b []byte) (key, value []byte, err error) {
	err = eachField(b, func(num protowire.Number, b []byte) error {
		switch num {
		case fieldMapKey:
			key = b
		case fieldMapValue:
			value = b
		}
		return nil
	})
	return key, value, err
}

func decodeSlimSpec(b []byte, s *corev1.PodSpec) error {
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldSpecContainers:
			c, err := decodeSlimContainer(v)
			s.Containers = append(s.Containers, c)
			return err
		case fieldSpecInit:
			c, err := decodeSlimContainer(v)
			s.InitContainers = append(s.InitContainers, c)
			return err
		case fieldSpecRestart:
			s.RestartPolicy = corev1.RestartPolicy(v)
		case fieldSpecNodeName:
			s.NodeName = string(v)
		}
		return nil
	})
}

func decodeSlimContainer(b []byte) (corev1.Container, error) {
	var c corev1.Container
	err := eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldContainerName:
			c.Name = string(v)
		case fieldContainerRP:
			rp := corev1.ContainerRestartPolicy(v)
			c.RestartPolicy = &rp
		case fieldContainerRules:
			r, err := decodeSlimRule(v)
			c.RestartPolicyRules = append(c.RestartPolicyRules, r)
			return err
		}
		return nil
	})
	return c, err
}

// decodeSlimRule decodes a container restart rule: the rulebook decides by
// it whether an exit restarts the container.
func decodeSlimRule(b []byte) (corev1.ContainerRestartRule, error) {
	var r corev1.ContainerRestartRule
	err := eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case fieldRuleAction:
			r.Action = corev1.ContainerRestartRuleAction(v)
		case fieldRuleExitCodes:
			codes := &corev1.ContainerRestartRuleOnExitCodes{}
			r.ExitCodes = codes
			return eachValue(v, func(num protowire.Number, v []byte) error {
				switch num {
				case fieldCodesOperator:
					codes.Operator = corev1.ContainerRestartRuleOnExitCodesOperator(v)
				case fieldCodesValues: // packed
					for len(v) > 0 {
						x, n := protowire.ConsumeVarint(v)
						if n < 0 {
							return protowire.ParseError(n)
						}
						codes.Values = append(codes.Values, int32(x))
						v = v[n:]
					}
				}
				return nil
			}, func(num protowire.Number, x uint64) {
				if num == fieldCodesValues {
					codes.Values = append(codes.Values, int32(x))
				}
			})
		}
		return nil
	})
	return r, err
}

// errNotPod: the slim decoder was handed something it does not decode.
var errNotPod = errors.New("not a protobuf v1 Pod or PodList")

// decodeSlim decodes an apiserver protobuf object that is a v1 Pod or
// PodList, slim, into into (a *corev1.Pod or *corev1.PodList, or nil for a
// new one), and says which it was.
func decodeSlim(data []byte, into runtime.Object) (runtime.Object, string, error) {
	apiVersion, kind, raw, ok := unknownPayload(data)
	if !ok || apiVersion != "v1" {
		return nil, "", errNotPod
	}
	switch kind {
	case "Pod":
		pod, _ := into.(*corev1.Pod)
		if pod == nil {
			pod = &corev1.Pod{}
		}
		*pod = corev1.Pod{}
		if err := decodeSlimPod(raw, pod); err != nil {
			return nil, kind, fmt.Errorf("decoding a pod: %w", err)
		}
		return pod, kind, nil
	case "PodList":
		list, _ := into.(*corev1.PodList)
		if list == nil {
			list = &corev1.PodList{}
		}
		*list = corev1.PodList{}
		if err := decodeSlimPodList(raw, list); err != nil {
			return nil, kind, fmt.Errorf("decoding a pod list: %w", err)
		}
		return list, kind, nil
	}
	return nil, kind, errNotPod
}
