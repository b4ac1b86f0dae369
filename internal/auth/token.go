package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// ErrInvalidToken is returned when a bearer token is presented but unknown.
var ErrInvalidToken = errors.New("invalid bearer token")

type tokenEntry struct {
	digest [sha256.Size]byte
	user   User
}

type tokenAuth struct {
	entries []tokenEntry
}

// NewToken authenticates "Authorization: Bearer <token>" against a static
// token→User map. Tokens are compared as SHA-256 digests in constant time and
// every entry is checked, so neither the position of a match nor the length
// of a real token leaks through timing.
func NewToken(tokens map[string]User) Authenticator {
	t := &tokenAuth{}
	for tok, u := range tokens {
		if tok == "" {
			continue // an empty token would match "Bearer " with nothing after it
		}
		t.entries = append(t.entries, tokenEntry{digest: sha256.Sum256([]byte(tok)), user: u})
	}
	return t
}

func (t *tokenAuth) Authenticate(r *http.Request) (User, bool, error) {
	tok, ok := bearerToken(r.Header.Get("Authorization"))
	if !ok {
		return User{}, false, nil
	}
	got := sha256.Sum256([]byte(tok))
	match := -1
	for i := range t.entries {
		if subtle.ConstantTimeCompare(got[:], t.entries[i].digest[:]) == 1 {
			match = i
		}
	}
	if match < 0 {
		return User{}, false, ErrInvalidToken
	}
	return t.entries[match].user, true, nil
}

// bearerToken extracts the token from an Authorization header value. The
// scheme is case-insensitive, as in RFC 7235.
func bearerToken(h string) (string, bool) {
	scheme, tok, found := strings.Cut(strings.TrimSpace(h), " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || strings.ContainsAny(tok, " \t") {
		return "", false
	}
	return tok, true
}
