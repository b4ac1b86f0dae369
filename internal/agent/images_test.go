package agent_test

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/navarch/navarch/internal/agent"
	"github.com/navarch/navarch/internal/agent/images"
)

// testRegistry is an OCI registry on loopback; repositories under
// private/ need basic auth (user/pass).
type testRegistry struct {
	srv  *httptest.Server
	host string
}

func startRegistry(t *testing.T) *testRegistry {
	t.Helper()
	h := registry.New(registry.Logger(nopLogger()))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v2/private/") {
			if u, p, ok := r.BasicAuth(); !ok || u != "user" || p != "pass" {
				w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
				http.Error(w, `{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`, http.StatusUnauthorized)
				return
			}
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return &testRegistry{srv: srv, host: strings.TrimPrefix(srv.URL, "http://")}
}

// push uploads busybox with a /version file saying version.
func (r *testRegistry) push(t *testing.T, repo, version string) string {
	t.Helper()
	base, err := images.BusyboxImage("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	_ = tw.WriteHeader(&tar.Header{Name: "version", Mode: 0o644, Size: int64(len(version)), Typeflag: tar.TypeReg})
	_, _ = tw.Write([]byte(version))
	_ = tw.Close()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := name.ParseReference(r.host+"/"+repo, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, remote.WithAuth(&authn.Basic{Username: "user", Password: "pass"})); err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	d, _ := img.Digest()
	return d.String()
}

var _ v1.Image

// TestImagePulls pulls from a registry on loopback: imagePullPolicy
// Always picks up a new push, imagePullSecrets open a private
// repository, and a missing image ends in ErrImagePull/ImagePullBackOff.
func TestImagePulls(t *testing.T) {
	t.Parallel()
	requireRuntime(t)
	reg := startRegistry(t)
	c := startCluster(t, func(o *agent.Options) {
		o.RegistryMirrors = map[string]string{reg.host: "http://" + reg.host}
	})
	ns := c.namespace("pulls")
	ctx := context.Background()
	image := reg.host + "/test/app:latest"
	d1 := reg.push(t, "test/app:latest", "one")
	show := sh("cat /version > /dev/termination-log")
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "v1"}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c", Image: image, ImagePullPolicy: corev1.PullAlways, Command: show}}}})
	p := c.completed(t, ns, "v1")
	if got := message(t, p, "c"); got != "one" {
		t.Fatalf("first pull: version %q (%s)", got, brief(p))
	}
	if id := first(p).ImageID; !strings.Contains(id, d1) {
		t.Errorf("imageID %q does not name digest %s", id, d1)
	}
	c.expectEvent(t, ns, "v1", "Pulled", "Successfully pulled image")

	reg.push(t, "test/app:latest", "two")
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "v2"}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c", Image: image, ImagePullPolicy: corev1.PullAlways, Command: show}}}})
	if got := message(t, c.completed(t, ns, "v2"), "c"); got != "two" {
		t.Errorf("Always did not pull the new image: version %q", got)
	}
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "cached"}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
		Containers: []corev1.Container{{Name: "c", Image: image, ImagePullPolicy: corev1.PullIfNotPresent, Command: show}}}})
	c.completed(t, ns, "cached")
	c.expectEvent(t, ns, "cached", "Pulled", "already present on machine")

	// A private repository: refused without the secret, pulled with it.
	reg.push(t, "private/app:v1", "secret-one")
	private := reg.host + "/private/app:v1"
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "nosecret"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: private, Command: sh("sleep 3600")}}}})
	c.waitPod(t, ns, "nosecret", 30*time.Second, "ErrImagePull", func(p *corev1.Pod) bool {
		r, _ := waitingReason(p)
		return r == "ErrImagePull" || r == "ImagePullBackOff"
	})
	auth := base64.StdEncoding.EncodeToString([]byte("user:pass"))
	cfg, _ := json.Marshal(map[string]any{"auths": map[string]any{reg.host: map[string]string{"auth": auth}}})
	if _, err := c.client.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred"},
		Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: cfg}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "withsecret"}, Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever,
		ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}},
		Containers:       []corev1.Container{{Name: "c", Image: private, Command: show}}}})
	if got := message(t, c.completed(t, ns, "withsecret"), "c"); got != "secret-one" {
		t.Errorf("private image: version %q", got)
	}

	c.pod(t, ns, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "missing"}, Spec: corev1.PodSpec{
		Containers: []corev1.Container{{Name: "c", Image: reg.host + "/test/missing:v1"}}}})
	p = c.waitPod(t, ns, "missing", 30*time.Second, "ImagePullBackOff", func(p *corev1.Pod) bool {
		r, _ := waitingReason(p)
		return r == "ImagePullBackOff"
	})
	if _, msg := waitingReason(p); !strings.Contains(msg, "missing") {
		t.Errorf("ImagePullBackOff message %q", msg)
	}
	c.expectEvent(t, ns, "missing", "Failed", fmt.Sprintf("Failed to pull image %q", reg.host+"/test/missing:v1"))
}
