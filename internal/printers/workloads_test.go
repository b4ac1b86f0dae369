package printers

import (
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func podTemplate() corev1.PodTemplateSpec {
	return corev1.PodTemplateSpec{Spec: corev1.PodSpec{
		Containers:   []corev1.Container{{Name: "nginx", Image: "nginx:1.27"}},
		NodeSelector: map[string]string{"kubernetes.io/os": "linux"},
	}}
}

func appSelector() *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
}

func TestAppsCells(t *testing.T) {
	m := objMeta("web", 3*time.Hour)
	apps := func(r string) schema.GroupResource { return schema.GroupResource{Group: "apps", Resource: r} }
	runCells(t, apps("deployments"), []cellCase{{"partially ready", &appsv1.Deployment{ObjectMeta: m,
		Spec:   appsv1.DeploymentSpec{Replicas: ptr(int32(3)), Selector: appSelector(), Template: podTemplate()},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 3, AvailableReplicas: 2}},
		[]interface{}{"web", "2/3", int64(3), int64(2), "3h", "nginx", "nginx:1.27", "app=web"}}})
	runCells(t, apps("replicasets"), []cellCase{{"rs", &appsv1.ReplicaSet{ObjectMeta: m,
		Spec:   appsv1.ReplicaSetSpec{Replicas: ptr(int32(2)), Selector: appSelector(), Template: podTemplate()},
		Status: appsv1.ReplicaSetStatus{Replicas: 2, ReadyReplicas: 1}},
		[]interface{}{"web", int64(2), int64(2), int64(1), "3h", "nginx", "nginx:1.27", "app=web"}}})
	runCells(t, apps("statefulsets"), []cellCase{{"defaulted replicas", &appsv1.StatefulSet{ObjectMeta: m,
		Spec: appsv1.StatefulSetSpec{Template: podTemplate()}, Status: appsv1.StatefulSetStatus{ReadyReplicas: 1}},
		[]interface{}{"web", "1/1", "3h", "nginx", "nginx:1.27"}}})
	runCells(t, apps("daemonsets"), []cellCase{{"ds", &appsv1.DaemonSet{ObjectMeta: m,
		Spec: appsv1.DaemonSetSpec{Selector: appSelector(), Template: podTemplate()},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 2,
			UpdatedNumberScheduled: 3, NumberAvailable: 2}},
		[]interface{}{"web", int64(3), int64(3), int64(2), int64(3), int64(2), "kubernetes.io/os=linux", "3h", "nginx", "nginx:1.27", "app=web"}}})
	owned := m
	owned.OwnerReferences = []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "StatefulSet", Name: "db", Controller: ptr(true)}}
	runCells(t, apps("controllerrevisions"), []cellCase{
		{"owned", &appsv1.ControllerRevision{ObjectMeta: owned, Revision: 4}, []interface{}{"web", "statefulset.apps/db", int64(4), "3h"}},
		{"orphan", &appsv1.ControllerRevision{ObjectMeta: m, Revision: 1}, []interface{}{"web", "<none>", int64(1), "3h"}},
	})
}

func TestJobCells(t *testing.T) {
	job := func(mutate func(*batchv1.Job)) *batchv1.Job {
		j := &batchv1.Job{ObjectMeta: objMeta("pi", 5*time.Minute),
			Spec:   batchv1.JobSpec{Completions: ptr(int32(1)), Parallelism: ptr(int32(1)), Selector: appSelector(), Template: podTemplate()},
			Status: batchv1.JobStatus{StartTime: agoPtr(5 * time.Minute)}}
		if mutate != nil {
			mutate(j)
		}
		return j
	}
	cond := func(t batchv1.JobConditionType) []batchv1.JobCondition {
		return []batchv1.JobCondition{{Type: t, Status: corev1.ConditionTrue}}
	}
	tail := []interface{}{"5m", "nginx", "nginx:1.27", "app=web"}
	row := func(status, completions, dur string) []interface{} {
		return append([]interface{}{"pi", status, completions, dur}, tail...)
	}
	runCells(t, schema.GroupResource{Group: "batch", Resource: "jobs"}, []cellCase{
		{"running", job(nil), row("Running", "0/1", "5m")},
		{"complete", job(func(j *batchv1.Job) {
			j.Status.Succeeded, j.Status.CompletionTime, j.Status.Conditions = 1, agoPtr(4*time.Minute+30*time.Second), cond(batchv1.JobComplete)
		}), row("Complete", "1/1", "30s")},
		{"failed", job(func(j *batchv1.Job) { j.Status.Conditions = cond(batchv1.JobFailed) }), row("Failed", "0/1", "5m")},
		{"suspended not started", job(func(j *batchv1.Job) {
			j.Status.StartTime, j.Status.Conditions = nil, cond(batchv1.JobSuspended)
		}), row("Suspended", "0/1", "")},
		{"terminating", job(func(j *batchv1.Job) { j.DeletionTimestamp = agoPtr(time.Second) }), row("Terminating", "0/1", "5m")},
		{"work queue", job(func(j *batchv1.Job) {
			j.Spec.Completions, j.Spec.Parallelism, j.Status.Succeeded = nil, ptr(int32(3)), 1
		}), row("Running", "1/1 of 3", "5m")},
	})
}

func TestCronJobCells(t *testing.T) {
	cj := &batchv1.CronJob{ObjectMeta: objMeta("nightly", 48*time.Hour),
		Spec: batchv1.CronJobSpec{Schedule: "0 3 * * *", Suspend: ptr(false),
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: podTemplate()}}},
		Status: batchv1.CronJobStatus{Active: []corev1.ObjectReference{{Name: "nightly-1"}}, LastScheduleTime: agoPtr(9 * time.Hour)}}
	fresh := cj.DeepCopy()
	fresh.Spec.Suspend, fresh.Spec.TimeZone, fresh.Status = nil, ptr("Etc/UTC"), batchv1.CronJobStatus{}
	runCells(t, schema.GroupResource{Group: "batch", Resource: "cronjobs"}, []cellCase{
		{"scheduled", cj, []interface{}{"nightly", "0 3 * * *", "<none>", "false", int64(1), "9h", "2d", "nginx", "nginx:1.27", ""}},
		{"never run", fresh, []interface{}{"nightly", "0 3 * * *", "Etc/UTC", "<unset>", int64(0), "<none>", "2d", "nginx", "nginx:1.27", ""}},
	})
}
