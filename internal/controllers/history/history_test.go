package history

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/navarch/navarch/internal/controllers/podcontrol"
)

func daemonSet(image string) *appsv1.DaemonSet {
	return &appsv1.DaemonSet{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "ds-uid", Annotations: map[string]string{"kubernetes.io/change-cause": "v" + image}},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "agent"}},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "agent"}},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: image}}},
			},
		},
	}
}

func owner(ds *appsv1.DaemonSet) Owner {
	return Owner{Object: ds, Kind: appsv1.SchemeGroupVersion.WithKind("DaemonSet"), TemplateLabels: ds.Spec.Template.Labels}
}

// kubectl rollout undo applies the data as a strategic merge patch and
// skips the rollback when the data equals the current template's.
func TestDataIsKubectlsPatch(t *testing.T) {
	old, cur := daemonSet("busybox:1"), daemonSet("busybox:2")
	data, err := Data(old)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(data), `{"spec":{"template":{"$patch":"replace","metadata":{"creationTimestamp":null,`) {
		t.Fatalf("data = %s, want a spec.template replace patch", data)
	}
	curJSON, _ := json.Marshal(cur)
	patched, err := strategicpatch.StrategicMergePatch(curJSON, data, cur)
	if err != nil {
		t.Fatalf("kubectl cannot apply the data: %v", err)
	}
	var got appsv1.DaemonSet
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	if !apiequality.Semantic.DeepEqual(got.Spec.Template, old.Spec.Template) {
		t.Errorf("patched template = %+v, want %+v", got.Spec.Template, old.Spec.Template)
	}
	again, _ := Data(daemonSet("busybox:1"))
	if string(again) != string(data) {
		t.Errorf("data of an equal template differs byte-wise:\n%s\n%s", again, data)
	}
	tmpl, err := Template(data)
	if err != nil || tmpl.Spec.Containers[0].Image != "busybox:1" {
		t.Errorf("Template(data) = %+v, %v", tmpl, err)
	}
}

func TestHash(t *testing.T) {
	one, two := int32(1), int32(2)
	a, b := []byte(`{"a":1}`), []byte(`{"a":2}`)
	cases := []struct {
		name   string
		x, y   string
		differ bool
	}{
		{"same data", Hash(a, nil), Hash(a, nil), false},
		{"other data", Hash(a, nil), Hash(b, nil), true},
		{"collision count", Hash(a, &one), Hash(a, &two), true},
		{"nil vs count", Hash(a, nil), Hash(a, &one), true},
	}
	for _, c := range cases {
		if (c.x != c.y) != c.differ {
			t.Errorf("%s: %q vs %q, want differ=%v", c.name, c.x, c.y, c.differ)
		}
		if strings.ContainsAny(c.x, "aeiou") {
			t.Errorf("%s: hash %q has vowels (not SafeEncodeString)", c.name, c.x)
		}
	}
}

func TestName(t *testing.T) {
	long := strings.Repeat("x", 250)
	if n := Name(long, "abc"); len(n) != maxPrefix+4 || !strings.HasSuffix(n, "-abc") {
		t.Errorf("Name(long) = %d bytes", len(n))
	}
	if n := Name("web", "abc"); n != "web-abc" {
		t.Errorf("Name = %q", n)
	}
}

func TestEqual(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":2}`, `{"a":1,"b":2}`, true},
		{`{"a":1,"b":2}`, `{"b":2, "a":1}`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{`, `{`, true},
		{`{`, `}`, false},
	}
	for _, c := range cases {
		if got := Equal([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("Equal(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

func revs(nums ...int64) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, n := range nums {
		out = append(out, &appsv1.ControllerRevision{ObjectMeta: metav1.ObjectMeta{Name: "r" + string(rune('a'+n))}, Revision: n})
	}
	return out
}

func TestExcess(t *testing.T) {
	cases := []struct {
		name  string
		revs  []int64
		live  []int64
		limit int32
		want  []int64
	}{
		{"under limit", []int64{1, 2, 3}, nil, 5, nil},
		{"oldest go first", []int64{3, 1, 2, 4}, nil, 2, []int64{1, 2}},
		{"live ones are kept and not counted", []int64{1, 2, 3, 4}, []int64{1, 4}, 1, []int64{2}},
		{"limit zero", []int64{1, 2}, []int64{2}, 0, []int64{1}},
		{"negative limit", []int64{1}, nil, -1, []int64{1}},
	}
	for _, c := range cases {
		live := func(r *appsv1.ControllerRevision) bool {
			for _, l := range c.live {
				if r.Revision == l {
					return true
				}
			}
			return false
		}
		var got []int64
		for _, r := range Excess(revs(c.revs...), live, c.limit) {
			got = append(got, r.Revision)
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}
	}
	if n := NextRevision(revs(4, 2, 9)); n != 10 {
		t.Errorf("NextRevision = %d, want 10", n)
	}
	if n := NextRevision(nil); n != 1 {
		t.Errorf("NextRevision(nil) = %d, want 1", n)
	}
}

func TestEnsure(t *testing.T) {
	ctx := context.Background()
	client := fake.NewSimpleClientset()
	f := informers.NewSharedInformerFactory(client, 0)
	h := &History{Client: client, Lister: f.Apps().V1().ControllerRevisions().Lister()}
	ds := daemonSet("busybox:1")
	o := owner(ds)
	var collisions int32

	d1, _ := Data(ds)
	r1, err := h.Ensure(ctx, o, nil, d1, &collisions)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Revision != 1 || r1.Labels["app"] != "agent" || r1.Labels[appsv1.ControllerRevisionHashLabelKey] != Hash(d1, &collisions) ||
		r1.Annotations["kubernetes.io/change-cause"] != "vbusybox:1" || !metav1.IsControlledBy(r1, ds) {
		t.Fatalf("first revision = %+v", r1)
	}
	// The cache has not seen r1: Ensure must find it by name, not create twice.
	again, err := h.Ensure(ctx, o, nil, d1, &collisions)
	if err != nil || again.Name != r1.Name || collisions != 0 {
		t.Fatalf("Ensure again = %v, %v (collisions %d)", again, err, collisions)
	}

	d2, _ := Data(daemonSet("busybox:2"))
	r2, err := h.Ensure(ctx, o, []*appsv1.ControllerRevision{r1}, d2, &collisions)
	if err != nil || r2.Revision != 2 {
		t.Fatalf("second revision = %+v, %v", r2, err)
	}
	// Rolling back to the first template renumbers it instead of copying it.
	r1b, err := h.Ensure(ctx, o, []*appsv1.ControllerRevision{r1, r2}, d1, &collisions)
	if err != nil || r1b.Name != r1.Name || r1b.Revision != 3 {
		t.Fatalf("rollback revision = %+v, %v", r1b, err)
	}

	// Another owner's revision squatting on the name forces a new hash.
	d3, _ := Data(daemonSet("busybox:3"))
	squat := New(Owner{Object: &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "agent", Namespace: "ns", UID: "other"}},
		Kind: o.Kind}, d3, 1, &collisions)
	if _, err := client.AppsV1().ControllerRevisions("ns").Create(ctx, squat, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	r3, err := h.Ensure(ctx, o, []*appsv1.ControllerRevision{r2, r1b}, d3, &collisions)
	if err != nil || collisions != 1 || r3.Name == squat.Name || !metav1.IsControlledBy(r3, ds) || r3.Revision != 4 {
		t.Fatalf("revision after collision = %+v, %v (collisions %d)", r3, err, collisions)
	}
}

func TestListAdoptsOrphans(t *testing.T) {
	ctx := context.Background()
	ds := daemonSet("busybox:1")
	d1, _ := Data(ds)
	mine := New(owner(ds), d1, 1, nil)
	orphan := New(owner(ds), []byte(`{"spec":{"template":{}}}`), 2, nil)
	orphan.Name, orphan.OwnerReferences = "agent-orphan", nil
	foreign := New(Owner{Object: &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "x", UID: "other"}}, Kind: owner(ds).Kind,
		TemplateLabels: ds.Spec.Template.Labels}, d1, 1, nil)
	foreign.Name, foreign.Namespace = "x-1", "ns"
	client := fake.NewSimpleClientset(mine, orphan, foreign)
	f := informers.NewSharedInformerFactory(client, 0)
	inf := f.Apps().V1().ControllerRevisions().Informer()
	for _, r := range []*appsv1.ControllerRevision{mine, orphan, foreign} {
		if err := inf.GetIndexer().Add(r); err != nil {
			t.Fatal(err)
		}
	}
	h := &History{Client: client, Lister: f.Apps().V1().ControllerRevisions().Lister()}
	m := &podcontrol.RefManager{Owner: ds, GVK: owner(ds).Kind, Selector: labels.SelectorFromSet(labels.Set{"app": "agent"})}
	got, err := h.List(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != mine.Name || got[1].Name != "agent-orphan" {
		t.Fatalf("List = %v", got)
	}
	adopted, err := client.AppsV1().ControllerRevisions("ns").Get(ctx, "agent-orphan", metav1.GetOptions{})
	if err != nil || !metav1.IsControlledBy(adopted, ds) {
		t.Fatalf("orphan after List = %+v, %v; want it adopted", adopted, err)
	}
}
