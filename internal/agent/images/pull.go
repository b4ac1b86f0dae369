package images

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"google.golang.org/grpc/status"
	corev1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Waiting reasons, as kubectl shows them.
const (
	ErrImagePull      = "ErrImagePull"
	ImagePullBackOff  = "ImagePullBackOff"
	ErrImageNeverPull = "ErrImageNeverPull"
	InvalidImageName  = "InvalidImageName"
)

// Back-off between failed pulls of one image for one pod, as upstream.
const (
	backoffInitial = 10 * time.Second
	backoffMax     = 300 * time.Second
	// offlineFor is how long a registry that could not be reached is
	// assumed still unreachable for images present on the node.
	offlineFor = 30 * time.Second
)

// EventFunc records an event about the container being pulled for.
type EventFunc func(eventType, reason, message string)

// PullError is why a container cannot get its image.
type PullError struct {
	// Reason is the container's waiting reason (ErrImagePull, ...).
	Reason  string
	Message string
	// RetryAfter is when a new attempt makes sense (back-off).
	RetryAfter time.Duration
}

func (e *PullError) Error() string { return e.Message }

// Puller makes images present as imagePullPolicy asks, with back-off.
type Puller struct {
	Images runtimeapi.ImageServiceClient
	Logger *slog.Logger

	mu      sync.Mutex
	backoff map[string]*backoffEntry
	offline map[string]time.Time
	now     func() time.Time
}

type backoffEntry struct {
	next    time.Time
	delay   time.Duration
	lastErr string
	at      time.Time
}

// NewPuller returns a Puller over the runtime's image service.
func NewPuller(images runtimeapi.ImageServiceClient, log *slog.Logger) *Puller {
	return &Puller{Images: images, Logger: log, backoff: map[string]*backoffEntry{}, offline: map[string]time.Time{}, now: time.Now}
}

// Ensure returns the image ID to create a container from. key scopes the
// back-off (the kubelet uses pod UID and image); auths are the candidate
// credentials from the pod's imagePullSecrets for the image's registry.
func (p *Puller) Ensure(ctx context.Context, key, image string, policy corev1.PullPolicy, auths []*runtimeapi.AuthConfig,
	sandbox *runtimeapi.PodSandboxConfig, event EventFunc) (string, *PullError) {
	if _, err := name.ParseReference(image); err != nil {
		msg := fmt.Sprintf("Failed to apply default image tag %q: couldn't parse image name %q: %v", image, image, err)
		event(corev1.EventTypeWarning, "InspectFailed", msg)
		return "", &PullError{Reason: InvalidImageName, Message: msg}
	}
	present := p.present(ctx, image)
	switch {
	case policy == corev1.PullNever && present == "":
		msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", image)
		event(corev1.EventTypeWarning, ErrImageNeverPull, msg)
		return "", &PullError{Reason: ErrImageNeverPull, Message: msg}
	case present != "" && (policy != corev1.PullAlways || p.isOffline(image)):
		event(corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine", image))
		return present, nil
	}
	bkey := key + "\x00" + image
	if wait, lastErr, ok := p.inBackoff(bkey); ok {
		event(corev1.EventTypeNormal, "BackOff", fmt.Sprintf("Back-off pulling image %q", image))
		return "", &PullError{Reason: ImagePullBackOff, Message: fmt.Sprintf("Back-off pulling image %q: %s: %s", image, ErrImagePull, lastErr), RetryAfter: wait}
	}
	event(corev1.EventTypeNormal, "Pulling", fmt.Sprintf("Pulling image %q", image))
	start := time.Now()
	ref, err := p.pull(ctx, image, auths, sandbox)
	if err != nil {
		msg := grpcMessage(err)
		if present != "" && unreachable(msg) {
			p.markOffline(image)
			p.Logger.Warn("registry unreachable; using the image present on the node", "image", image, "err", msg)
			event(corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Container image %q already present on machine (registry unreachable: %s)", image, msg))
			return present, nil
		}
		wait := p.failed(bkey, msg)
		full := fmt.Sprintf("Failed to pull image %q: %s", image, msg)
		event(corev1.EventTypeWarning, "Failed", full)
		return "", &PullError{Reason: ErrImagePull, Message: full, RetryAfter: wait}
	}
	p.succeeded(bkey)
	took := time.Since(start).Round(time.Millisecond)
	size := ""
	if st, err := p.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: ref}}); err == nil && st.Image != nil {
		size = fmt.Sprintf(" Image size: %d bytes.", st.Image.Size)
	}
	event(corev1.EventTypeNormal, "Pulled", fmt.Sprintf("Successfully pulled image %q in %s (%s including waiting).%s", image, took, took, size))
	return ref, nil
}

// present returns the local image ID, or "".
func (p *Puller) present(ctx context.Context, image string) string {
	st, err := p.Images.ImageStatus(ctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: image}})
	if err != nil || st.Image == nil {
		return ""
	}
	return st.Image.Id
}

// pull tries each matching credential in turn, as the kubelet does, or
// pulls anonymously when there is none.
func (p *Puller) pull(ctx context.Context, image string, auths []*runtimeapi.AuthConfig, sandbox *runtimeapi.PodSandboxConfig) (string, error) {
	candidates := auths
	if len(candidates) == 0 {
		candidates = []*runtimeapi.AuthConfig{nil}
	}
	var last error
	for _, a := range candidates {
		resp, err := p.Images.PullImage(ctx, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: image}, Auth: a, SandboxConfig: sandbox})
		if err == nil {
			return resp.ImageRef, nil
		}
		last = err
	}
	return "", last
}

func grpcMessage(err error) string {
	if s, ok := status.FromError(err); ok {
		return s.Message()
	}
	return err.Error()
}

// unreachable recognises the runtime's "could not talk to the registry"
// errors, as opposed to the registry answering "no".
func unreachable(msg string) bool {
	for _, s := range []string{"no such host", "connection refused", "network is unreachable", "no route to host", "i/o timeout", "server misbehaving", "TLS handshake timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

func registryOf(image string) string {
	ref, err := name.ParseReference(image)
	if err != nil {
		return ""
	}
	return ref.Context().RegistryStr()
}

func (p *Puller) isOffline(image string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	until, ok := p.offline[registryOf(image)]
	return ok && p.now().Before(until)
}

func (p *Puller) markOffline(image string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.offline[registryOf(image)] = p.now().Add(offlineFor)
}

func (p *Puller) inBackoff(key string) (time.Duration, string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.backoff[key]
	if !ok {
		return 0, "", false
	}
	if wait := e.next.Sub(p.now()); wait > 0 {
		return wait, e.lastErr, true
	}
	return 0, "", false
}

// failed records a failure and returns the back-off before the next try.
func (p *Puller) failed(key, msg string) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	for k, e := range p.backoff {
		if now.Sub(e.at) > 2*backoffMax {
			delete(p.backoff, k)
		}
	}
	e, ok := p.backoff[key]
	if !ok {
		e = &backoffEntry{delay: backoffInitial}
		p.backoff[key] = e
	} else {
		e.delay = min(2*e.delay, backoffMax)
	}
	e.next, e.lastErr, e.at = now.Add(e.delay), msg, now
	return e.delay
}

func (p *Puller) succeeded(key string) {
	p.mu.Lock()
	delete(p.backoff, key)
	p.mu.Unlock()
}

// Forget drops the back-off state of a pod (it is gone).
func (p *Puller) Forget(keyPrefix string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for k := range p.backoff {
		if strings.HasPrefix(k, keyPrefix+"\x00") {
			delete(p.backoff, k)
		}
	}
}

// dockerConfig is the content of a kubernetes.io/dockerconfigjson secret
// (or, as "auths"-less, of a legacy .dockercfg one).
type dockerConfig struct {
	Auths map[string]dockerAuth `json:"auths"`
}

type dockerAuth struct {
	Username      string `json:"username"`
	Password      string `json:"password"`
	Auth          string `json:"auth"`
	IdentityToken string `json:"identitytoken"`
	RegistryToken string `json:"registrytoken"`
}

// AuthsFor returns the credentials in pull secrets that match image's
// registry, in secret order.
func AuthsFor(image string, secrets []*corev1.Secret) []*runtimeapi.AuthConfig {
	reg := normalizeRegistry(registryOf(image))
	var out []*runtimeapi.AuthConfig
	for _, s := range secrets {
		var cfg dockerConfig
		switch s.Type {
		case corev1.SecretTypeDockerConfigJson:
			if json.Unmarshal(s.Data[corev1.DockerConfigJsonKey], &cfg) != nil {
				continue
			}
		case corev1.SecretTypeDockercfg:
			if json.Unmarshal(s.Data[corev1.DockerConfigKey], &cfg.Auths) != nil {
				continue
			}
		default:
			continue
		}
		for host, a := range cfg.Auths {
			if normalizeRegistry(host) != reg {
				continue
			}
			// No ServerAddress: the registry already matched, and
			// containerd wants a URL there, which docker configs'
			// "host:port" keys are not.
			ac := &runtimeapi.AuthConfig{Username: a.Username, Password: a.Password,
				IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken}
			if a.Auth != "" && a.Username == "" {
				if raw, err := base64.StdEncoding.DecodeString(a.Auth); err == nil {
					ac.Username, ac.Password, _ = strings.Cut(string(raw), ":")
				}
			}
			out = append(out, ac)
		}
	}
	return out
}

// normalizeRegistry reduces "https://index.docker.io/v1/", "docker.io"
// and "registry-1.docker.io" to one name, and strips schemes and paths.
func normalizeRegistry(h string) string {
	h = strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(h), "https://"), "http://")
	h, _, _ = strings.Cut(h, "/")
	switch h {
	case "docker.io", "index.docker.io", "registry-1.docker.io":
		return "index.docker.io"
	}
	return h
}
