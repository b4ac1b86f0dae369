// Package e2e holds the end-to-end tests of navarch: they build the real
// binary, run `navarch server` on a loopback port and drive it with the real
// kubectl and a raw HTTPS client, asserting on what a user would see.
//
// The package has no production code and must not be imported. Tests must
// not reach into server internals (no imports of internal/...): everything
// goes over the wire, exactly as a user's tools would.
package e2e
