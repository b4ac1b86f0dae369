// Package endpointutil holds what the Endpoints and EndpointSlice
// controllers share: which pods back a Service, which of their addresses
// count, how a Service's target ports resolve on each pod, and which
// pod changes matter to them. Pure functions over API types; no I/O.
package endpointutil
