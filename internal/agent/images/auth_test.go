package images

import (
	"encoding/base64"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestAuthsFor(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	secret := func(typ corev1.SecretType, key, data string) *corev1.Secret {
		return &corev1.Secret{Type: typ, Data: map[string][]byte{key: []byte(data)}}
	}
	secrets := []*corev1.Secret{
		secret(corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey,
			`{"auths":{"https://index.docker.io/v1/":{"auth":"`+b64("hub:pw")+`"},"reg.example:5000":{"username":"u","password":"p"}}}`),
		secret(corev1.SecretTypeDockercfg, corev1.DockerConfigKey, `{"http://reg.example:5000":{"auth":"`+b64("old:pw2")+`"}}`),
		secret(corev1.SecretTypeOpaque, "x", `{"auths":{"reg.example:5000":{"username":"no"}}}`),
		secret(corev1.SecretTypeDockerConfigJson, corev1.DockerConfigJsonKey, `not json`),
	}
	for _, tc := range []struct {
		image string
		users []string
	}{
		{"busybox", []string{"hub"}},
		{"docker.io/library/nginx:1", []string{"hub"}},
		{"reg.example:5000/app:v1", []string{"u", "old"}},
		{"other.example/app", nil},
	} {
		got := AuthsFor(tc.image, secrets)
		var users []string
		for _, a := range got {
			users = append(users, a.Username)
		}
		if len(users) != len(tc.users) {
			t.Errorf("%s: users %v, want %v", tc.image, users, tc.users)
			continue
		}
		for i := range users {
			if users[i] != tc.users[i] {
				t.Errorf("%s: users %v, want %v", tc.image, users, tc.users)
			}
		}
	}
	if a := AuthsFor("busybox", secrets[:1]); a[0].Password != "pw" || a[0].ServerAddress != "" {
		t.Errorf("decoded auth %+v", a[0])
	}
}
