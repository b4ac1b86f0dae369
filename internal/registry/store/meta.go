package store

import (
	"crypto/rand"
	"reflect"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
)

// The API types share a shape: ObjectMeta, then usually Spec and Status.
// These helpers reach those fields by reflection so that the store can
// apply spec/status rules without a case per type.

func structField(obj runtime.Object, name string) reflect.Value {
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		return reflect.Value{}
	}
	return v.Elem().FieldByName(name)
}

// generationTracked lists the resources whose metadata.generation upstream
// maintains: those whose controllers report status.observedGeneration.
// Others (Services, Namespaces, Nodes, volumes, ...) leave it unset.
var generationTracked = map[string]bool{
	"pods": true, "replicationcontrollers": true, "deployments": true, "replicasets": true,
	"statefulsets": true, "daemonsets": true, "jobs": true, "cronjobs": true,
	"horizontalpodautoscalers": true, "poddisruptionbudgets": true,
}

// specChanged reports whether Spec differs semantically.
func specChanged(a, b runtime.Object) bool {
	sa, sb := structField(a, "Spec"), structField(b, "Spec")
	if !sa.IsValid() || !sb.IsValid() {
		return false
	}
	return !equality.Semantic.DeepEqual(sa.Interface(), sb.Interface())
}

// copyField sets dst.name = src.name.
func copyField(dst, src runtime.Object, name string) {
	d, s := structField(dst, name), structField(src, name)
	if d.IsValid() && s.IsValid() && d.CanSet() {
		d.Set(s)
	}
}

// clearField zeroes obj.name.
func clearField(obj runtime.Object, name string) {
	if f := structField(obj, name); f.IsValid() && f.CanSet() {
		f.Set(reflect.Zero(f.Type()))
	}
}

// nameChars leaves out vowels and look-alikes, as upstream does, so that
// generated names never spell words.
const nameChars = "bcdfghjklmnpqrstvwxz2456789"

func randomSuffix(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = nameChars[int(b[i])%len(nameChars)]
	}
	return string(b)
}

// maxGeneratedNameLength keeps generateName + suffix within 63 characters.
const maxGeneratedNameLength = 63 - 5

func generateName(base string) string {
	if len(base) > maxGeneratedNameLength {
		base = base[:maxGeneratedNameLength]
	}
	return base + randomSuffix(5)
}
