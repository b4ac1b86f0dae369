// Package images gets container images onto the node without a registry
// and pulls them from one when a pod asks: it builds the sandbox (pause)
// image that ships inside navarch and busybox images from /bin/busybox,
// writes them as docker-save archives, imports archives into containerd,
// and pulls through CRI following imagePullPolicy, imagePullSecrets and
// upstream's back-off (ErrImagePull, ImagePullBackOff).
//
// It must not run containers or talk to the Kubernetes API: pull secrets
// are handed to it already resolved.
package images
