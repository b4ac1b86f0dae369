package core

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func minimalSpec() corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}}
}

func TestDefaultPodSpec(t *testing.T) {
	spec := minimalSpec()
	spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80}}
	spec.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
		HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(80)}}}
	spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")}
	spec.Volumes = []corev1.Volume{
		{Name: "s", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "x"}}},
		{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/x"}}},
		{Name: "e"},
	}
	DefaultPodSpec(&spec)

	c := spec.Containers[0]
	want := corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyAlways,
		DNSPolicy:                     corev1.DNSClusterFirst,
		TerminationGracePeriodSeconds: ptr(int64(30)),
		SchedulerName:                 "default-scheduler",
		SecurityContext:               &corev1.PodSecurityContext{},
		EnableServiceLinks:            ptr(true),
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"restartPolicy", spec.RestartPolicy, want.RestartPolicy},
		{"dnsPolicy", spec.DNSPolicy, want.DNSPolicy},
		{"grace", spec.TerminationGracePeriodSeconds, want.TerminationGracePeriodSeconds},
		{"scheduler", spec.SchedulerName, want.SchedulerName},
		{"securityContext", spec.SecurityContext, want.SecurityContext},
		{"serviceLinks", spec.EnableServiceLinks, want.EnableServiceLinks},
		{"pullPolicy", c.ImagePullPolicy, corev1.PullAlways},
		{"termPath", c.TerminationMessagePath, "/dev/termination-log"},
		{"termPolicy", c.TerminationMessagePolicy, corev1.TerminationMessageReadFile},
		{"protocol", c.Ports[0].Protocol, corev1.ProtocolTCP},
		{"hostPort", c.Ports[0].HostPort, int32(0)},
		{"probeTimeout", c.LivenessProbe.TimeoutSeconds, int32(1)},
		{"probePeriod", c.LivenessProbe.PeriodSeconds, int32(10)},
		{"probeSuccess", c.LivenessProbe.SuccessThreshold, int32(1)},
		{"probeFailure", c.LivenessProbe.FailureThreshold, int32(3)},
		{"httpScheme", c.LivenessProbe.HTTPGet.Scheme, corev1.URISchemeHTTP},
		{"httpPath", c.LivenessProbe.HTTPGet.Path, "/"},
		{"templatesKeepRequestsUnset", len(c.Resources.Requests), 0},
		{"secretMode", spec.Volumes[0].Secret.DefaultMode, ptr(int32(420))},
		{"hostPathType", spec.Volumes[1].HostPath.Type, ptr(corev1.HostPathUnset)},
		{"emptyDir", spec.Volumes[2].EmptyDir, &corev1.EmptyDirVolumeSource{}},
		{"noServiceAccount", spec.ServiceAccountName, ""},
	}
	for _, ck := range checks {
		if !equality.Semantic.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s: got %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
	again := spec.DeepCopy()
	DefaultPodSpec(again)
	if !equality.Semantic.DeepEqual(again, &spec) {
		t.Errorf("defaulting is not idempotent")
	}
}

func TestDefaultHostNetworkPorts(t *testing.T) {
	spec := minimalSpec()
	spec.HostNetwork = true
	spec.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 8080}}
	DefaultPodSpec(&spec)
	if got := spec.Containers[0].Ports[0].HostPort; got != 8080 {
		t.Fatalf("hostPort = %d, want 8080", got)
	}
	if errs := ValidatePodSpec(&spec, field.NewPath("spec")); len(errs) != 0 {
		t.Fatalf("unexpected errors: %v", errs)
	}
}

func TestDefaultPullPolicy(t *testing.T) {
	cases := []struct {
		image string
		want  corev1.PullPolicy
	}{
		{"nginx", corev1.PullAlways},
		{"nginx:latest", corev1.PullAlways},
		{"nginx:1.25", corev1.PullIfNotPresent},
		{"registry:5000/nginx", corev1.PullAlways},
		{"registry:5000/nginx:1.0", corev1.PullIfNotPresent},
		{"nginx@sha256:abc", corev1.PullIfNotPresent},
	}
	for _, tc := range cases {
		if got := defaultPullPolicy(tc.image); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.image, got, tc.want)
		}
	}
}

func TestValidatePodSpec(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*corev1.PodSpec)
		want   []wantErr
	}{
		{"valid", func(*corev1.PodSpec) {}, nil},
		{"no containers", func(s *corev1.PodSpec) { s.Containers = nil },
			[]wantErr{{"spec.containers", field.ErrorTypeRequired}}},
		{"no image", func(s *corev1.PodSpec) { s.Containers[0].Image = "" },
			[]wantErr{{"spec.containers[0].image", field.ErrorTypeRequired}}},
		{"bad name", func(s *corev1.PodSpec) { s.Containers[0].Name = "Bad_Name" },
			[]wantErr{{"spec.containers[0].name", field.ErrorTypeInvalid}}},
		{"duplicate name", func(s *corev1.PodSpec) { s.Containers = append(s.Containers, s.Containers[0]) },
			[]wantErr{{"spec.containers[1].name", field.ErrorTypeDuplicate}}},
		{"init and app share a name", func(s *corev1.PodSpec) { s.InitContainers = []corev1.Container{s.Containers[0]} },
			[]wantErr{{"spec.containers[0].name", field.ErrorTypeDuplicate}}},
		{"restart policy", func(s *corev1.PodSpec) { s.RestartPolicy = "Sometimes" },
			[]wantErr{{"spec.restartPolicy", field.ErrorTypeNotSupported}}},
		{"dns policy", func(s *corev1.PodSpec) { s.DNSPolicy = "Weird" },
			[]wantErr{{"spec.dnsPolicy", field.ErrorTypeNotSupported}}},
		{"port range", func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 70000, Protocol: "TCP"}}
		}, []wantErr{{"spec.containers[0].ports[0].containerPort", field.ErrorTypeInvalid}}},
		{"port protocol", func(s *corev1.PodSpec) {
			s.Containers[0].Ports = []corev1.ContainerPort{{ContainerPort: 80, Protocol: "ICMP"}}
		}, []wantErr{{"spec.containers[0].ports[0].protocol", field.ErrorTypeNotSupported}}},
		{"mount of unknown volume", func(s *corev1.PodSpec) {
			s.Containers[0].VolumeMounts = []corev1.VolumeMount{{Name: "nope", MountPath: "/x"}}
		}, []wantErr{{"spec.containers[0].volumeMounts[0].name", field.ErrorTypeNotFound}}},
		{"volume without source", func(s *corev1.PodSpec) { s.Volumes = []corev1.Volume{{Name: "v"}} },
			[]wantErr{{"spec.volumes[0]", field.ErrorTypeRequired}}},
		{"two volume sources", func(s *corev1.PodSpec) {
			s.Volumes = []corev1.Volume{{Name: "v", VolumeSource: corev1.VolumeSource{
				EmptyDir: &corev1.EmptyDirVolumeSource{}, HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}}
		}, []wantErr{{"spec.volumes[0]", field.ErrorTypeForbidden}}},
		{"requests above limits", func(s *corev1.PodSpec) {
			s.Containers[0].Resources = corev1.ResourceRequirements{
				Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1")},
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")},
			}
		}, []wantErr{{"spec.containers[0].resources.requests[cpu]", field.ErrorTypeInvalid}}},
		{"negative grace", func(s *corev1.PodSpec) { s.TerminationGracePeriodSeconds = ptr(int64(-1)) },
			[]wantErr{{"spec.terminationGracePeriodSeconds", field.ErrorTypeInvalid}}},
		{"liveness success threshold", func(s *corev1.PodSpec) {
			s.Containers[0].LivenessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{
				Exec: &corev1.ExecAction{Command: []string{"true"}}}, SuccessThreshold: 2}
		}, []wantErr{{"spec.containers[0].livenessProbe.successThreshold", field.ErrorTypeInvalid}}},
		{"env name", func(s *corev1.PodSpec) { s.Containers[0].Env = []corev1.EnvVar{{Name: ""}} },
			[]wantErr{{"spec.containers[0].env[0].name", field.ErrorTypeRequired}}},
		{"bad node selector", func(s *corev1.PodSpec) { s.NodeSelector = map[string]string{"a b": "c"} },
			[]wantErr{{"spec.nodeSelector", field.ErrorTypeInvalid}}},
		{"toleration exists with value", func(s *corev1.PodSpec) {
			s.Tolerations = []corev1.Toleration{{Key: "k", Operator: corev1.TolerationOpExists, Value: "v"}}
		}, []wantErr{{"spec.tolerations[0].operator", field.ErrorTypeInvalid}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := minimalSpec()
			DefaultPodSpec(&spec)
			tc.mutate(&spec)
			checkErrs(t, ValidatePodSpec(&spec, field.NewPath("spec")), tc.want...)
		})
	}
}

func TestValidatePodTemplateSpec(t *testing.T) {
	tmpl := &corev1.PodTemplateSpec{Spec: minimalSpec()}
	tmpl.Labels = map[string]string{"bad key!": "x"}
	DefaultPodTemplateSpec(tmpl)
	checkErrs(t, ValidatePodTemplateSpec(tmpl, field.NewPath("spec", "template")),
		wantErr{"spec.template.metadata.labels", field.ErrorTypeInvalid})
	checkErrs(t, ValidatePodTemplateSpec(nil, field.NewPath("spec", "template")),
		wantErr{"spec.template", field.ErrorTypeRequired})
}
