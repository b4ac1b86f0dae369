package auth

import (
	"context"
	"errors"
	"net/http"
)

// User is the authenticated identity.
type User struct {
	Name   string
	Groups []string
}

// Authenticator checks a request. ok=false with a nil error means no
// credentials it recognizes were presented; a non-nil error means
// credentials were presented but are invalid. Callers answer both with 401.
type Authenticator interface {
	Authenticate(r *http.Request) (User, bool, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (User, bool, error)

// Authenticate calls f.
func (f AuthenticatorFunc) Authenticate(r *http.Request) (User, bool, error) { return f(r) }

// Union tries each authenticator in order and returns the first success.
// Errors from earlier ones do not stop later ones: a request carrying a
// stale certificate but a valid token is still authenticated. If nothing
// succeeds, all errors are returned joined.
func Union(a ...Authenticator) Authenticator {
	list := append([]Authenticator(nil), a...)
	return AuthenticatorFunc(func(r *http.Request) (User, bool, error) {
		var errs []error
		for _, au := range list {
			u, ok, err := au.Authenticate(r)
			if ok && err == nil {
				return u, true, nil
			}
			if err != nil {
				errs = append(errs, err)
			}
		}
		return User{}, false, errors.Join(errs...)
	})
}

type userKey struct{}

// WithUser returns a context carrying u.
func WithUser(ctx context.Context, u User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

// UserFrom returns the user stored by WithUser, if any.
func UserFrom(ctx context.Context) (User, bool) {
	u, ok := ctx.Value(userKey{}).(User)
	return u, ok
}
