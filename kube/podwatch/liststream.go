package podwatch

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/protobuf/encoding/protowire"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
)

// maxListItem bounds one pod's bytes in a list stream (etcd's own limit is
// 1.5 MB): a broken or hostile stream fails the list instead of the memory.
const maxListItem = 16 << 20

// streamPodList decodes a LIST response as it arrives: each pod is decoded
// slim from the wire and handed to each before the next one is read, so the
// client decodes while the server still encodes, and no more than one pod's
// bytes are held at a time (the full view at 50,000 pods came within 1.3x
// of the LIST's own time only this way: issue 17). A protobuf response is
// walked field by field (runtime.Unknown, then the PodList inside it);
// anything else (a JSON response from a server or proxy that will not
// speak protobuf) is read whole and decoded as client-go would.
func streamPodList(r io.Reader, each func(*corev1.Pod)) (metav1.ListMeta, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	if head, err := br.Peek(len(protobufMagic)); err != nil || !bytes.Equal(head, protobufMagic) {
		return decodeWholeList(br, each)
	}
	_, _ = br.Discard(len(protobufMagic))
	w := &wireReader{br: br}
	var meta metav1.ListMeta
	sawList := false
	for {
		num, typ, err := w.tag()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return meta, err
		}
		switch {
		case num == fieldUnknownTypeMeta && typ == protowire.BytesType:
			b, err := w.bytes(nil)
			if err != nil {
				return meta, err
			}
			if _, kind, _ := decodeTypeMeta(b); kind != "PodList" {
				return meta, fmt.Errorf("a pod list response holds a %q", kind)
			}
		case num == fieldUnknownRaw && typ == protowire.BytesType:
			n, err := w.uvarint()
			if err != nil {
				return meta, err
			}
			if meta, err = w.podList(int64(n), each); err != nil {
				return meta, err
			}
			sawList = true
		default:
			if err := w.skip(typ); err != nil {
				return meta, err
			}
		}
	}
	if !sawList {
		return meta, errors.New("a pod list response without its list")
	}
	return meta, nil
}

// podList reads a PodList of n bytes: its ListMeta, then each item.
func (w *wireReader) podList(n int64, each func(*corev1.Pod)) (metav1.ListMeta, error) {
	var meta metav1.ListMeta
	var buf []byte
	end := w.read + n
	for w.read < end {
		num, typ, err := w.tag()
		if err != nil {
			return meta, noEOF(err)
		}
		switch {
		case num == fieldListMeta && typ == protowire.BytesType:
			b, err := w.bytes(nil)
			if err != nil {
				return meta, err
			}
			if err := meta.Unmarshal(b); err != nil {
				return meta, fmt.Errorf("decoding a pod list's metadata: %w", err)
			}
		case num == fieldListItems && typ == protowire.BytesType:
			if buf, err = w.bytes(buf); err != nil {
				return meta, err
			}
			pod := &corev1.Pod{}
			if err := decodeSlimPod(buf, pod); err != nil {
				return meta, fmt.Errorf("decoding a pod: %w", err)
			}
			each(pod) // the slim decoder copied what it keeps: buf is reused
		default:
			if err := w.skip(typ); err != nil {
				return meta, err
			}
		}
	}
	if w.read != end {
		return meta, errors.New("a pod list's last field runs past the list")
	}
	return meta, nil
}

// decodeWholeList is the fallback for a response that is not protobuf.
func decodeWholeList(r io.Reader, each func(*corev1.Pod)) (metav1.ListMeta, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return metav1.ListMeta{}, err
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(b, nil, &corev1.PodList{})
	if err != nil {
		return metav1.ListMeta{}, fmt.Errorf("decoding a pod list: %w", err)
	}
	list, ok := obj.(*corev1.PodList)
	if !ok {
		return metav1.ListMeta{}, fmt.Errorf("a pod list response holds a %T", obj)
	}
	for i := range list.Items {
		each(&list.Items[i])
	}
	return list.ListMeta, nil
}

// wireReader reads protobuf fields from a stream, counting the bytes read.
type wireReader struct {
	br   *bufio.Reader
	read int64
}

func (w *wireReader) ReadByte() (byte, error) {
	c, err := w.br.ReadByte()
	if err == nil {
		w.read++
	}
	return c, err
}

func (w *wireReader) uvarint() (uint64, error) {
	x, err := binary.ReadUvarint(w)
	return x, noEOF(err)
}

// tag reads a field's tag; io.EOF only when the stream ends before it.
func (w *wireReader) tag() (protowire.Number, protowire.Type, error) {
	start := w.read
	x, err := binary.ReadUvarint(w)
	if errors.Is(err, io.EOF) && w.read == start {
		return 0, 0, io.EOF
	}
	if err != nil {
		return 0, 0, noEOF(err)
	}
	num, typ := protowire.DecodeTag(x)
	if num < protowire.MinValidNumber {
		return 0, 0, errors.New("a pod list response with an invalid field")
	}
	return num, typ, nil
}

// length reads a length-delimited value's length, at most maxListItem.
func (w *wireReader) length() (uint64, error) {
	n, err := w.uvarint()
	if err == nil && n > maxListItem {
		err = fmt.Errorf("a pod list field of %d bytes (at most %d)", n, maxListItem)
	}
	return n, err
}

// bytes reads a length-delimited value into buf (grown when short).
func (w *wireReader) bytes(buf []byte) ([]byte, error) {
	n, err := w.length()
	if err != nil {
		return nil, err
	}
	if uint64(cap(buf)) < n {
		buf = make([]byte, n, max(n, 16<<10))
	}
	buf = buf[:n]
	if _, err := io.ReadFull(w.br, buf); err != nil {
		return nil, noEOF(err)
	}
	w.read += int64(n)
	return buf, nil
}

// skip passes over a value of a field the list decoder does not read.
func (w *wireReader) skip(typ protowire.Type) error {
	var n int
	switch typ {
	case protowire.VarintType:
		_, err := w.uvarint()
		return err
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
		l, err := w.length()
		if err != nil {
			return err
		}
		n = int(l)
	default:
		return fmt.Errorf("a pod list response with wire type %d", typ)
	}
	d, err := w.br.Discard(n)
	w.read += int64(d)
	return noEOF(err)
}

// noEOF turns an end of stream inside a value into an unexpected one.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
