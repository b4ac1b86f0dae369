// Package containerd runs the node's private containerd: it writes a
// configuration under the agent's data dir (own root, state and socket,
// the CRI settings this kind of machine needs, CNI and registry mirrors),
// starts containerd as a child process, restarts it when it dies, and stops
// it cleanly.
//
// It must not manage pods or images: once containerd answers CRI, the rest
// of the agent talks to it through the socket.
package containerd
