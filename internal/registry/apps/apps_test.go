package apps

import (
	"context"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/navarch/navarch/internal/registry"
)

var ctx = context.Background()

func template() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{
		ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
	}
}

func selector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
}

func meta() metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: "web", Namespace: "default", ResourceVersion: "1"}
}

// hasError reports whether errs holds an error of type typ at path.
func hasError(errs field.ErrorList, typ field.ErrorType, path string) bool {
	for _, e := range errs {
		if e.Type == typ && e.Field == path {
			return true
		}
	}
	return false
}

// checkCase runs default+validate and checks the expected error (or none).
func checkCase(t *testing.T, s registry.Strategy, obj runtime.Object, typ field.ErrorType, path string) {
	t.Helper()
	s.Default(obj)
	errs := s.Validate(ctx, obj)
	if path == "" {
		if len(errs) != 0 {
			t.Fatalf("unexpected errors: %v", errs)
		}
		return
	}
	if !hasError(errs, typ, path) {
		t.Fatalf("want %s at %s, got %v", typ, path, errs)
	}
}

func TestDeploymentDefaults(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: meta(), Spec: appsv1.DeploymentSpec{Selector: selector(), Template: template()}}
	DeploymentStrategy{}.Default(d)
	s := d.Spec
	if *s.Replicas != 1 || *s.RevisionHistoryLimit != 10 || *s.ProgressDeadlineSeconds != 600 {
		t.Errorf("replicas/revisionHistoryLimit/progressDeadline = %d/%d/%d", *s.Replicas, *s.RevisionHistoryLimit, *s.ProgressDeadlineSeconds)
	}
	if s.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("strategy type = %q", s.Strategy.Type)
	}
	ru := s.Strategy.RollingUpdate
	if ru.MaxSurge.String() != "25%" || ru.MaxUnavailable.String() != "25%" {
		t.Errorf("rollingUpdate = %v/%v", ru.MaxSurge, ru.MaxUnavailable)
	}
	if s.Template.Spec.RestartPolicy != corev1.RestartPolicyAlways {
		t.Errorf("template not defaulted: restartPolicy %q", s.Template.Spec.RestartPolicy)
	}
	recreate := &appsv1.Deployment{Spec: appsv1.DeploymentSpec{Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}}}
	DeploymentStrategy{}.Default(recreate)
	if recreate.Spec.Strategy.RollingUpdate != nil {
		t.Error("Recreate strategy got rollingUpdate defaults")
	}
}

func TestDeploymentValidate(t *testing.T) {
	zero := intstr.FromInt32(0)
	cases := []struct {
		name   string
		mutate func(*appsv1.Deployment)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*appsv1.Deployment) {}, "", ""},
		{"bad name", func(d *appsv1.Deployment) { d.Name = "Web_1" }, field.ErrorTypeInvalid, "metadata.name"},
		{"negative replicas", func(d *appsv1.Deployment) { d.Spec.Replicas = int32Ptr(-1) }, field.ErrorTypeInvalid, "spec.replicas"},
		{"no selector", func(d *appsv1.Deployment) { d.Spec.Selector = nil }, field.ErrorTypeRequired, "spec.selector"},
		{"empty selector", func(d *appsv1.Deployment) { d.Spec.Selector = &metav1.LabelSelector{} }, field.ErrorTypeInvalid, "spec.selector"},
		{"selector mismatch", func(d *appsv1.Deployment) { d.Spec.Template.Labels = map[string]string{"app": "db"} },
			field.ErrorTypeInvalid, "spec.template.metadata.labels"},
		{"no image", func(d *appsv1.Deployment) { d.Spec.Template.Spec.Containers[0].Image = "" },
			field.ErrorTypeRequired, "spec.template.spec.containers[0].image"},
		{"restart never", func(d *appsv1.Deployment) { d.Spec.Template.Spec.RestartPolicy = corev1.RestartPolicyNever },
			field.ErrorTypeNotSupported, "spec.template.spec.restartPolicy"},
		{"bad strategy", func(d *appsv1.Deployment) { d.Spec.Strategy.Type = "Blue" }, field.ErrorTypeNotSupported, "spec.strategy.type"},
		{"both zero", func(d *appsv1.Deployment) {
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &zero, MaxUnavailable: &zero}
		}, field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxUnavailable"},
		{"bad percent", func(d *appsv1.Deployment) {
			v := intstr.FromString("abc")
			d.Spec.Strategy.RollingUpdate = &appsv1.RollingUpdateDeployment{MaxSurge: &v}
		}, field.ErrorTypeInvalid, "spec.strategy.rollingUpdate.maxSurge"},
		{"recreate with rollingUpdate", func(d *appsv1.Deployment) {
			d.Spec.Strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType, RollingUpdate: &appsv1.RollingUpdateDeployment{}}
		}, field.ErrorTypeForbidden, "spec.strategy.rollingUpdate"},
		{"deadline below minReady", func(d *appsv1.Deployment) {
			d.Spec.MinReadySeconds = 700
		}, field.ErrorTypeInvalid, "spec.progressDeadlineSeconds"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := &appsv1.Deployment{ObjectMeta: meta(), Spec: appsv1.DeploymentSpec{Selector: selector(), Template: template()}}
			tc.mutate(d)
			checkCase(t, DeploymentStrategy{}, d, tc.typ, tc.path)
		})
	}
}

func TestDeploymentMessages(t *testing.T) {
	d := &appsv1.Deployment{ObjectMeta: meta(), Spec: appsv1.DeploymentSpec{Replicas: int32Ptr(-1), Selector: selector(), Template: template()}}
	d.Spec.Template.Labels = map[string]string{"app": "db"}
	DeploymentStrategy{}.Default(d)
	got := map[string]string{}
	for _, e := range (DeploymentStrategy{}).Validate(ctx, d) {
		got[e.Field] = e.Error()
	}
	want := map[string]string{
		"spec.replicas":                 "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
		"spec.template.metadata.labels": "spec.template.metadata.labels: Invalid value: {\"app\":\"db\"}: `selector` does not match template `labels`",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n got %q\nwant %q", k, got[k], w)
		}
	}
}

func TestSelectorImmutable(t *testing.T) {
	other := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web", "tier": "x"}}
	tmpl := template()
	tmpl.Labels["tier"] = "x"
	cases := []struct {
		name         string
		strategy     registry.Strategy
		old, updated runtime.Object
	}{
		{"deployment", DeploymentStrategy{},
			&appsv1.Deployment{ObjectMeta: meta(), Spec: appsv1.DeploymentSpec{Selector: selector(), Template: template()}},
			&appsv1.Deployment{ObjectMeta: meta(), Spec: appsv1.DeploymentSpec{Selector: other, Template: tmpl}}},
		{"replicaset", ReplicaSetStrategy{},
			&appsv1.ReplicaSet{ObjectMeta: meta(), Spec: appsv1.ReplicaSetSpec{Selector: selector(), Template: template()}},
			&appsv1.ReplicaSet{ObjectMeta: meta(), Spec: appsv1.ReplicaSetSpec{Selector: other, Template: tmpl}}},
		{"daemonset", DaemonSetStrategy{},
			&appsv1.DaemonSet{ObjectMeta: meta(), Spec: appsv1.DaemonSetSpec{Selector: selector(), Template: template()}},
			&appsv1.DaemonSet{ObjectMeta: meta(), Spec: appsv1.DaemonSetSpec{Selector: other, Template: tmpl}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.strategy.Default(tc.old)
			tc.strategy.Default(tc.updated)
			if errs := tc.strategy.ValidateUpdate(ctx, tc.old.DeepCopyObject(), tc.old); len(errs) != 0 {
				t.Fatalf("no-op update rejected: %v", errs)
			}
			errs := tc.strategy.ValidateUpdate(ctx, tc.updated, tc.old)
			if !hasError(errs, field.ErrorTypeInvalid, "spec.selector") {
				t.Fatalf("want immutable selector error, got %v", errs)
			}
			if errs[len(errs)-1].Detail != "field is immutable" {
				t.Errorf("detail = %q", errs[len(errs)-1].Detail)
			}
		})
	}
}

func TestReplicaSet(t *testing.T) {
	rs := &appsv1.ReplicaSet{ObjectMeta: meta(), Spec: appsv1.ReplicaSetSpec{Selector: selector(), Template: template()}}
	ReplicaSetStrategy{}.Default(rs)
	if *rs.Spec.Replicas != 1 {
		t.Errorf("replicas = %d", *rs.Spec.Replicas)
	}
	if errs := (ReplicaSetStrategy{}).Validate(ctx, rs); len(errs) != 0 {
		t.Errorf("valid replicaset rejected: %v", errs)
	}
	rs.Status.Replicas = 3
	res := replicaSetResource()
	if got := res.Fields(rs)["status.replicas"]; got != "3" {
		t.Errorf("status.replicas field = %q", got)
	}
	spec, status, sel := res.Scale.Get(rs)
	if spec != 1 || status != 3 || sel != "app=web" {
		t.Errorf("scale = %d %d %q", spec, status, sel)
	}
	res.Scale.Set(rs, 5)
	if *rs.Spec.Replicas != 5 {
		t.Errorf("scale set: %d", *rs.Spec.Replicas)
	}
	bad := rs.DeepCopy()
	bad.Status.ReadyReplicas = 4
	if errs := (ReplicaSetStrategy{}).ValidateStatusUpdate(ctx, bad, rs); !hasError(errs, field.ErrorTypeInvalid, "status.readyReplicas") {
		t.Errorf("ready > replicas accepted: %v", errs)
	}
}

func TestDaemonSet(t *testing.T) {
	ds := &appsv1.DaemonSet{ObjectMeta: meta(), Spec: appsv1.DaemonSetSpec{Selector: selector(), Template: template()}}
	DaemonSetStrategy{}.Default(ds)
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru.MaxUnavailable.String() != "1" ||
		ru.MaxSurge.String() != "0" || *ds.Spec.RevisionHistoryLimit != 10 {
		t.Errorf("defaults: %+v %v", ds.Spec.UpdateStrategy, *ds.Spec.RevisionHistoryLimit)
	}
	cases := []struct {
		name   string
		mutate func(*appsv1.DaemonSet)
		typ    field.ErrorType
		path   string
	}{
		{"valid", func(*appsv1.DaemonSet) {}, "", ""},
		{"no selector", func(d *appsv1.DaemonSet) { d.Spec.Selector = nil }, field.ErrorTypeRequired, "spec.selector"},
		{"zero unavailable", func(d *appsv1.DaemonSet) {
			d.Spec.UpdateStrategy.RollingUpdate.MaxUnavailable = intstrPtr(intstr.FromInt32(0))
		}, field.ErrorTypeInvalid, "spec.updateStrategy.rollingUpdate.maxUnavailable"},
		{"bad type", func(d *appsv1.DaemonSet) { d.Spec.UpdateStrategy.Type = "x" }, field.ErrorTypeNotSupported, "spec.updateStrategy.type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := ds.DeepCopy()
			tc.mutate(d)
			checkCase(t, DaemonSetStrategy{}, d, tc.typ, tc.path)
		})
	}
}

func TestControllerRevision(t *testing.T) {
	cr := &appsv1.ControllerRevision{ObjectMeta: meta(), Revision: 1, Data: runtime.RawExtension{Raw: []byte(`{"a":1}`)}}
	s := ControllerRevisionStrategy{}
	if errs := s.Validate(ctx, cr); len(errs) != 0 {
		t.Fatalf("valid revision rejected: %v", errs)
	}
	if errs := s.Validate(ctx, &appsv1.ControllerRevision{ObjectMeta: meta(), Revision: -1}); !hasError(errs, field.ErrorTypeRequired, "data") ||
		!hasError(errs, field.ErrorTypeInvalid, "revision") {
		t.Errorf("want data and revision errors, got %v", errs)
	}
	changed := cr.DeepCopy()
	changed.Data.Raw = []byte(`{"a":2}`)
	if errs := s.ValidateUpdate(ctx, changed, cr); !hasError(errs, field.ErrorTypeInvalid, "data") {
		t.Errorf("data change accepted: %v", errs)
	}
}

func TestResources(t *testing.T) {
	want := map[string]struct {
		short  string
		status bool
		scale  bool
	}{
		"deployments": {"deploy", true, true}, "replicasets": {"rs", true, true},
		"statefulsets": {"sts", true, true}, "daemonsets": {"ds", true, false},
		"controllerrevisions": {"", false, false},
	}
	for _, r := range Resources() {
		w, ok := want[r.Resource]
		if !ok {
			t.Errorf("unexpected resource %s", r.Resource)
			continue
		}
		short := ""
		if len(r.ShortNames) > 0 {
			short = r.ShortNames[0]
		}
		if short != w.short || r.HasStatus != w.status || (r.Scale != nil) != w.scale || !r.Namespaced || r.Group != "apps" {
			t.Errorf("%s: short=%q status=%v scale=%v", r.Resource, short, r.HasStatus, r.Scale != nil)
		}
		if r.New().GetObjectKind() == nil || r.NewList() == nil {
			t.Errorf("%s: nil New/NewList", r.Resource)
		}
		delete(want, r.Resource)
	}
	if len(want) != 0 {
		t.Errorf("missing resources: %v", want)
	}
}

func TestDeploymentAnnotationBumpsGeneration(t *testing.T) {
	old := &appsv1.Deployment{ObjectMeta: meta()}
	old.Generation = 3
	cases := []struct {
		name        string
		annotations map[string]string
		want        int64
	}{
		{"unchanged", nil, 3},
		{"changed", map[string]string{"kubernetes.io/change-cause": "x"}, 4},
	}
	for _, tc := range cases {
		d := old.DeepCopy()
		d.Annotations = tc.annotations
		DeploymentStrategy{}.PrepareForUpdate(ctx, d, old)
		if d.Generation != tc.want {
			t.Errorf("%s: generation = %d, want %d", tc.name, d.Generation, tc.want)
		}
	}
}

func TestStatusValidation(t *testing.T) {
	cases := []struct {
		name     string
		strategy registry.StatusValidator
		obj      runtime.Object
		path     string
	}{
		{"deployment negative", DeploymentStrategy{}, &appsv1.Deployment{ObjectMeta: meta(),
			Status: appsv1.DeploymentStatus{Replicas: -1}}, "status.replicas"},
		{"deployment available > ready", DeploymentStrategy{}, &appsv1.Deployment{ObjectMeta: meta(),
			Status: appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 1, AvailableReplicas: 2}}, "status.availableReplicas"},
		{"statefulset current > replicas", StatefulSetStrategy{}, &appsv1.StatefulSet{ObjectMeta: meta(),
			Status: appsv1.StatefulSetStatus{Replicas: 1, CurrentReplicas: 2}}, "status.currentReplicas"},
		{"deployment valid", DeploymentStrategy{}, &appsv1.Deployment{ObjectMeta: meta(),
			Status: appsv1.DeploymentStatus{Replicas: 3, ReadyReplicas: 2, AvailableReplicas: 2}}, ""},
		{"daemonset negative", DaemonSetStrategy{}, &appsv1.DaemonSet{ObjectMeta: meta(),
			Status: appsv1.DaemonSetStatus{NumberReady: -1}}, "status.numberReady"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := tc.strategy.ValidateStatusUpdate(ctx, tc.obj, tc.obj.DeepCopyObject())
			if tc.path == "" {
				if len(errs) != 0 {
					t.Errorf("valid status rejected: %v", errs)
				}
				return
			}
			if len(errs) == 0 || errs[0].Field != tc.path {
				t.Errorf("want an error at %s first, got %v", tc.path, errs)
			}
		})
	}
}
