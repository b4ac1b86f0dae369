// Package queue is the scheduling queue: an active heap ordered by the
// profile's QueueSort plugin (priority first), a back-off heap for pods
// that failed recently (1s doubling to 10s by default), and a pool of
// unschedulable pods that cluster events move back when a plugin that
// rejected them says the event may help. It also keeps the nominations
// preemption makes. It holds pods only; it must not call the API.
package queue
