package history

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"reflect"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
)

// maxPrefix keeps "<prefix>-<hash>" within a DNS subdomain (253 bytes)
// for any hash this package produces.
const maxPrefix = 223

// Data returns the revision data of a DaemonSet or StatefulSet: a patch
// that replaces spec.template. It is built byte for byte as kubectl v1.32
// builds it (the object as JSON, keeping only spec.template, keys sorted),
// so that `kubectl rollout undo` recognizes a revision equal to the
// current template.
func Data(obj any) ([]byte, error) {
	whole, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", obj, err)
	}
	var raw map[string]any
	if err := json.Unmarshal(whole, &raw); err != nil {
		return nil, fmt.Errorf("decode %T: %w", obj, err)
	}
	spec, _ := raw["spec"].(map[string]any)
	template, ok := spec["template"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%T has no spec.template", obj)
	}
	template["$patch"] = "replace"
	// kubectl v1.32 (client-go before omitzero) encodes an unset
	// creationTimestamp as null and compares the bytes; write it the same
	// way so it recognizes the current template. Applying the patch is
	// unaffected.
	if md, ok := template["metadata"].(map[string]any); ok {
		if _, set := md["creationTimestamp"]; !set {
			md["creationTimestamp"] = nil
		}
	}
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// Hash names a revision: FNV-1a over its data and, once names have
// collided, the owner's collision count, in the alphabet pod names use.
func Hash(data []byte, collisionCount *int32) string {
	h := fnv.New32a()
	h.Write(data)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(strconv.FormatUint(uint64(h.Sum32()), 10))
}

// Name is the revision name for an owner name and a hash.
func Name(prefix, hash string) string {
	if len(prefix) > maxPrefix {
		prefix = prefix[:maxPrefix]
	}
	return prefix + "-" + hash
}

// Equal reports whether two revision data hold the same JSON document
// (the server may re-encode what it stores).
func Equal(a, b []byte) bool {
	if string(a) == string(b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// Template decodes the pod template a revision's data replaces, so a
// controller can run pods of an older revision.
func Template(data []byte) (*corev1.PodTemplateSpec, error) {
	var p struct {
		Spec struct {
			Template *corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("decode revision data: %w", err)
	}
	if p.Spec.Template == nil {
		return nil, fmt.Errorf("revision data has no spec.template")
	}
	return p.Spec.Template, nil
}

// Owner is the DaemonSet or StatefulSet whose revisions are kept.
type Owner struct {
	Object metav1.Object
	// Kind is the owner's kind, for ownerReferences.
	Kind schema.GroupVersionKind
	// TemplateLabels are copied onto revisions so that the owner's
	// selector (which kubectl lists them with) matches them.
	TemplateLabels map[string]string
}

// New builds the revision of o holding data.
func New(o Owner, data []byte, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	hash := Hash(data, collisionCount)
	lbls := make(map[string]string, len(o.TemplateLabels)+1)
	for k, v := range o.TemplateLabels {
		lbls[k] = v
	}
	lbls[appsv1.ControllerRevisionHashLabelKey] = hash
	var ann map[string]string
	if a := o.Object.GetAnnotations(); len(a) > 0 {
		// kubectl rollout history shows the change-cause annotation of a
		// revision, which the owner carried when the revision was made.
		ann = make(map[string]string, len(a))
		for k, v := range a {
			ann[k] = v
		}
	}
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name: Name(o.Object.GetName(), hash), Namespace: o.Object.GetNamespace(),
			Labels: lbls, Annotations: ann,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(o.Object, o.Kind)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
}
