package core

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var ctx = context.Background()

func om(name, ns string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: ns, ResourceVersion: "1"}
}

// create runs Default, PrepareForCreate and Validate like the store.
func create(s registry.Strategy, obj runtime.Object) field.ErrorList {
	s.Default(obj)
	s.PrepareForCreate(ctx, obj)
	return s.Validate(ctx, obj)
}

// update runs Default, PrepareForUpdate and ValidateUpdate.
func update(s registry.Strategy, obj, old runtime.Object) field.ErrorList {
	s.Default(obj)
	s.PrepareForUpdate(ctx, obj, old)
	return s.ValidateUpdate(ctx, obj, old)
}

func TestNamespace(t *testing.T) {
	ns := &corev1.Namespace{ObjectMeta: om("team-a", "")}
	checkErrs(t, create(namespaceStrategy{}, ns))
	if ns.Labels[corev1.LabelMetadataName] != "team-a" || ns.Status.Phase != corev1.NamespaceActive ||
		len(ns.Spec.Finalizers) != 1 || ns.Spec.Finalizers[0] != corev1.FinalizerKubernetes {
		t.Errorf("namespace = %+v", ns)
	}
	bad := &corev1.Namespace{ObjectMeta: om("team.a", "")}
	checkErrs(t, create(namespaceStrategy{}, bad), wantErr{"metadata.name", field.ErrorTypeInvalid})

	upd := ns.DeepCopy()
	upd.Labels = map[string]string{corev1.LabelMetadataName: "other"}
	upd.Spec.Finalizers = nil
	checkErrs(t, update(namespaceStrategy{}, upd, ns))
	if upd.Labels[corev1.LabelMetadataName] != "team-a" || len(upd.Spec.Finalizers) != 1 {
		t.Errorf("update changed server-owned fields: %+v", upd)
	}
	st := ns.DeepCopy()
	st.Status.Phase = corev1.NamespaceTerminating
	checkErrs(t, namespaceStrategy{}.ValidateStatusUpdate(ctx, st, ns), wantErr{"status.phase", field.ErrorTypeInvalid})
	if got := namespaceResource().Fields(ns); got["status.phase"] != "Active" || got["name"] != "team-a" || len(got) != 2 {
		t.Errorf("fields = %v", got)
	}
}

func TestConfigMap(t *testing.T) {
	cases := []struct {
		name string
		cm   corev1.ConfigMap
		want []wantErr
	}{
		{"valid", corev1.ConfigMap{Data: map[string]string{"a.conf": "x"}, BinaryData: map[string][]byte{"b": {1}}}, nil},
		{"bad key", corev1.ConfigMap{Data: map[string]string{"a/b": "x"}}, []wantErr{{"data[a/b]", field.ErrorTypeInvalid}}},
		{"duplicate key", corev1.ConfigMap{Data: map[string]string{"k": "x"}, BinaryData: map[string][]byte{"k": {1}}},
			[]wantErr{{"binaryData[k]", field.ErrorTypeInvalid}}},
		{"too big", corev1.ConfigMap{Data: map[string]string{"k": strings.Repeat("x", maxDataSize+1)}},
			[]wantErr{{"[]", field.ErrorTypeTooLong}}},
	}
	for _, tc := range cases {
		cm := tc.cm
		cm.ObjectMeta = om("c", "default")
		t.Run(tc.name, func(t *testing.T) { checkErrs(t, create(configMapStrategy{}, &cm), tc.want...) })
	}
	old := &corev1.ConfigMap{ObjectMeta: om("c", "default"), Data: map[string]string{"k": "v"}, Immutable: ptr(true)}
	upd := old.DeepCopy()
	upd.Data["k"] = "w"
	upd.Immutable = nil
	checkErrs(t, update(configMapStrategy{}, upd, old),
		wantErr{"data", field.ErrorTypeForbidden}, wantErr{"immutable", field.ErrorTypeForbidden})
}

func TestSecret(t *testing.T) {
	s := &corev1.Secret{ObjectMeta: om("s", "default"), StringData: map[string]string{"pw": "x"}}
	checkErrs(t, create(secretStrategy{}, s))
	if s.Type != corev1.SecretTypeOpaque || string(s.Data["pw"]) != "x" || s.StringData != nil {
		t.Errorf("secret = %+v", s)
	}
	if got := secretResource().Fields(s)["type"]; got != "Opaque" {
		t.Errorf("fields type = %q", got)
	}
	cases := []struct {
		typ  corev1.SecretType
		data map[string][]byte
		want []wantErr
	}{
		{corev1.SecretTypeTLS, map[string][]byte{"tls.crt": {1}}, []wantErr{{"data[tls.key]", field.ErrorTypeRequired}}},
		{corev1.SecretTypeTLS, map[string][]byte{"tls.crt": {1}, "tls.key": {1}}, nil},
		{corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": []byte("{")},
			[]wantErr{{"data[.dockerconfigjson]", field.ErrorTypeInvalid}}},
		{corev1.SecretTypeDockerConfigJson, map[string][]byte{".dockerconfigjson": []byte(`{"auths":{}}`)}, nil},
		{corev1.SecretTypeBasicAuth, nil, []wantErr{{"data[username]", field.ErrorTypeRequired}, {"data[password]", field.ErrorTypeRequired}}},
		{corev1.SecretTypeSSHAuth, nil, []wantErr{{"data[ssh-privatekey]", field.ErrorTypeRequired}}},
		{corev1.SecretTypeServiceAccountToken, nil,
			[]wantErr{{"metadata.annotations[kubernetes.io/service-account.name]", field.ErrorTypeRequired}}},
	}
	for _, tc := range cases {
		sec := &corev1.Secret{ObjectMeta: om("s", "default"), Type: tc.typ, Data: tc.data}
		t.Run(string(tc.typ), func(t *testing.T) { checkErrs(t, create(secretStrategy{}, sec), tc.want...) })
	}
	old := &corev1.Secret{ObjectMeta: om("s", "default"), Type: corev1.SecretTypeOpaque}
	upd := old.DeepCopy()
	upd.Type = "other"
	checkErrs(t, update(secretStrategy{}, upd, old), wantErr{"type", field.ErrorTypeInvalid})
}

func TestNode(t *testing.T) {
	n := &corev1.Node{ObjectMeta: om("node-1", ""), Spec: corev1.NodeSpec{PodCIDR: "10.244.0.0/24",
		PodCIDRs: []string{"10.244.0.0/24"}, Unschedulable: true}}
	n.Status.Capacity = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}
	checkErrs(t, create(nodeStrategy{}, n))
	if n.Status.Allocatable.Cpu().String() != "2" {
		t.Errorf("allocatable = %v", n.Status.Allocatable)
	}
	if got := nodeResource().Fields(n)["spec.unschedulable"]; got != "true" {
		t.Errorf("fields = %q", got)
	}
	upd := n.DeepCopy()
	upd.Spec.PodCIDR, upd.Spec.PodCIDRs = "10.245.0.0/24", []string{"10.245.0.0/24"}
	checkErrs(t, update(nodeStrategy{}, upd, n),
		wantErr{"spec.podCIDR", field.ErrorTypeForbidden}, wantErr{"spec.podCIDRs", field.ErrorTypeForbidden})
	tainted := n.DeepCopy()
	tainted.Spec.Taints = []corev1.Taint{{Key: "k", Effect: "Sometimes"}, {Key: "", Effect: corev1.TaintEffectNoSchedule}}
	checkErrs(t, nodeStrategy{}.Validate(ctx, tainted),
		wantErr{"spec.taints[0].effect", field.ErrorTypeNotSupported},
		wantErr{"spec.taints[1].key", field.ErrorTypeInvalid}, wantErr{"spec.taints[1].key", field.ErrorTypeInvalid})
}

func newRC() *corev1.ReplicationController {
	return &corev1.ReplicationController{ObjectMeta: om("rc", "default"), Spec: corev1.ReplicationControllerSpec{
		Template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x"}}, Spec: minimalSpec()},
	}}
}

func TestReplicationController(t *testing.T) {
	rc := newRC()
	checkErrs(t, create(rcStrategy{}, rc))
	if *rc.Spec.Replicas != 1 || rc.Spec.Selector["app"] != "x" || rc.Labels["app"] != "x" ||
		rc.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("defaults: %+v", rc.Spec)
	}
	cases := []struct {
		name   string
		mutate func(*corev1.ReplicationController)
		want   []wantErr
	}{
		{"negative replicas", func(r *corev1.ReplicationController) { r.Spec.Replicas = ptr(int32(-1)) },
			[]wantErr{{"spec.replicas", field.ErrorTypeInvalid}}},
		{"selector mismatch", func(r *corev1.ReplicationController) { r.Spec.Selector = map[string]string{"app": "y"} },
			[]wantErr{{"spec.template.metadata.labels", field.ErrorTypeInvalid}}},
		{"restart never", func(r *corev1.ReplicationController) { r.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			[]wantErr{{"spec.template.spec.restartPolicy", field.ErrorTypeNotSupported}}},
		{"no template", func(r *corev1.ReplicationController) { r.Spec.Template = nil },
			[]wantErr{{"spec.template", field.ErrorTypeRequired}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRC()
			rcStrategy{}.Default(r)
			tc.mutate(r)
			errs := rcStrategy{}.Validate(ctx, r)
			checkErrs(t, errs, tc.want...)
			if tc.name == "negative replicas" && !strings.Contains(errs.ToAggregate().Error(), "must be greater than or equal to 0") {
				t.Errorf("message = %v", errs)
			}
		})
	}
	res := replicationControllerResource()
	rc.Status.Replicas = 3
	spec, status, sel := res.Scale.Get(rc)
	if spec != 1 || status != 3 || sel != "app=x" {
		t.Errorf("scale get = %d %d %q", spec, status, sel)
	}
	res.Scale.Set(rc, 5)
	if *rc.Spec.Replicas != 5 || res.Fields(rc)["status.replicas"] != "3" {
		t.Errorf("scale set / fields: %d %v", *rc.Spec.Replicas, res.Fields(rc))
	}
}

func TestPersistentVolumes(t *testing.T) {
	pv := &corev1.PersistentVolume{ObjectMeta: om("pv1", ""), Spec: corev1.PersistentVolumeSpec{
		Capacity:               corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")},
		AccessModes:            []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		PersistentVolumeSource: corev1.PersistentVolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/d"}},
	}}
	checkErrs(t, create(pvStrategy{}, pv))
	if pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain ||
		*pv.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || pv.Status.Phase != corev1.VolumePending {
		t.Errorf("pv defaults: %+v", pv)
	}
	if f := persistentVolumeResource().Fields(pv); f["name"] != "pv1" || len(f) != 1 {
		t.Errorf("pv fields = %v", f)
	}
	empty := &corev1.PersistentVolume{ObjectMeta: om("pv2", "")}
	checkErrs(t, create(pvStrategy{}, empty), wantErr{"spec.accessModes", field.ErrorTypeRequired},
		wantErr{"spec.capacity", field.ErrorTypeRequired}, wantErr{"spec", field.ErrorTypeRequired})

	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: om("c", "default"), Spec: corev1.PersistentVolumeClaimSpec{
		AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources:   corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}},
	}}
	checkErrs(t, create(pvcStrategy{}, pvc))
	if *pvc.Spec.VolumeMode != corev1.PersistentVolumeFilesystem || pvc.Status.Phase != corev1.ClaimPending {
		t.Errorf("pvc defaults: %+v", pvc)
	}
	noSize := pvc.DeepCopy()
	noSize.Spec.Resources.Requests = nil
	checkErrs(t, pvcStrategy{}.Validate(ctx, noSize), wantErr{"spec.resources[storage]", field.ErrorTypeRequired})

	grow := pvc.DeepCopy()
	grow.Spec.Resources.Requests[corev1.ResourceStorage] = resource.MustParse("2Gi")
	grow.Spec.VolumeName = "pv1"
	checkErrs(t, update(pvcStrategy{}, grow, pvc))
	mode := pvc.DeepCopy()
	mode.Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteMany}
	checkErrs(t, update(pvcStrategy{}, mode, pvc), wantErr{"spec", field.ErrorTypeForbidden})
}

func TestQuotaAndLimitRange(t *testing.T) {
	q := &corev1.ResourceQuota{ObjectMeta: om("q", "default"), Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
		"pods": resource.MustParse("10"), "requests.cpu": resource.MustParse("4"), "count/deployments.apps": resource.MustParse("2"),
	}}}
	checkErrs(t, create(resourceQuotaStrategy{}, q))
	q.Spec.Hard["widgets"] = resource.MustParse("1")
	q.Spec.Scopes = []corev1.ResourceQuotaScope{"Sometimes"}
	checkErrs(t, resourceQuotaStrategy{}.Validate(ctx, q),
		wantErr{"spec.hard[widgets]", field.ErrorTypeInvalid}, wantErr{"spec.scopes[0]", field.ErrorTypeNotSupported})

	lr := &corev1.LimitRange{ObjectMeta: om("l", "default"), Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
		Type: corev1.LimitTypeContainer,
		Max:  corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
		Min:  corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("64Mi")},
	}}}}
	checkErrs(t, create(limitRangeStrategy{}, lr))
	item := lr.Spec.Limits[0]
	if item.Default.Cpu().String() != "2" || item.DefaultRequest.Cpu().String() != "2" || item.DefaultRequest.Memory().String() != "64Mi" {
		t.Errorf("limit defaults: %+v", item)
	}
	bad := lr.DeepCopy()
	bad.Spec.Limits[0].Min = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("3")}
	bad.Spec.Limits = append(bad.Spec.Limits, corev1.LimitRangeItem{Type: "Cluster"})
	checkErrs(t, limitRangeStrategy{}.Validate(ctx, bad), wantErr{"spec.limits[0].min[cpu]", field.ErrorTypeInvalid},
		wantErr{"spec.limits[0].defaultRequest[cpu]", field.ErrorTypeInvalid}, wantErr{"spec.limits[0].default[cpu]", field.ErrorTypeInvalid},
		wantErr{"spec.limits[1].type", field.ErrorTypeNotSupported})
}

func TestEventsEndpointsServiceAccounts(t *testing.T) {
	ev := &corev1.Event{ObjectMeta: om("e", "default"), Reason: "Started", Type: "Normal",
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "p", UID: "u"},
		Source:         corev1.EventSource{Component: "kubelet"}}
	checkErrs(t, create(eventStrategy{}, ev))
	f := eventResource().Fields(ev)
	if f["involvedObject.kind"] != "Pod" || f["involvedObject.uid"] != "u" || f["source"] != "kubelet" || f["reason"] != "Started" || f["type"] != "Normal" {
		t.Errorf("event fields = %v", f)
	}
	ev.InvolvedObject.Namespace = "other"
	checkErrs(t, eventStrategy{}.Validate(ctx, ev), wantErr{"involvedObject.namespace", field.ErrorTypeInvalid})
	nodeEv := &corev1.Event{ObjectMeta: om("e2", "default"), InvolvedObject: corev1.ObjectReference{Kind: "Node", Name: "n"}}
	checkErrs(t, eventStrategy{}.Validate(ctx, nodeEv))

	ep := &corev1.Endpoints{ObjectMeta: om("web", "default"), Subsets: []corev1.EndpointSubset{{
		Addresses: []corev1.EndpointAddress{{IP: "10.0.0.1"}}, Ports: []corev1.EndpointPort{{Port: 80}},
	}}}
	checkErrs(t, create(endpointsStrategy{}, ep))
	if ep.Subsets[0].Ports[0].Protocol != corev1.ProtocolTCP {
		t.Errorf("endpoint port protocol not defaulted")
	}
	ep.Subsets[0].Addresses[0].IP = "nope"
	ep.Subsets[0].Ports = append(ep.Subsets[0].Ports, corev1.EndpointPort{Port: 81, Protocol: "TCP"})
	checkErrs(t, endpointsStrategy{}.Validate(ctx, ep), wantErr{"subsets[0].addresses[0].ip", field.ErrorTypeInvalid},
		wantErr{"subsets[0].ports[0].name", field.ErrorTypeRequired}, wantErr{"subsets[0].ports[1].name", field.ErrorTypeRequired})

	sa := &corev1.ServiceAccount{ObjectMeta: om("Bad", "default")}
	checkErrs(t, create(serviceAccountStrategy{}, sa), wantErr{"metadata.name", field.ErrorTypeInvalid})
}
