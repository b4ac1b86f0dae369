// Package serviceaccount keeps a "default" ServiceAccount in every active
// namespace, creating it when a namespace appears and again whenever it is
// deleted. Tokens are not its business (they come with the security work).
package serviceaccount
