package auth

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"Basic abc", "", false},
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearer a b", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := bearerToken(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}

func TestTokenAuthenticator(t *testing.T) {
	alice := User{Name: "alice", Groups: []string{"dev"}}
	bob := User{Name: "bob"}
	a := NewToken(map[string]User{"tok-a": alice, "tok-b": bob, "": {Name: "empty"}})
	tests := []struct {
		name    string
		header  string
		want    User
		ok      bool
		wantErr error
	}{
		{"good token", "Bearer tok-a", alice, true, nil},
		{"other good token", "Bearer tok-b", bob, true, nil},
		{"unknown token", "Bearer nope", User{}, false, ErrInvalidToken},
		{"prefix of token", "Bearer tok-", User{}, false, ErrInvalidToken},
		{"no header", "", User{}, false, nil},
		{"empty token never matches", "Bearer ", User{}, false, nil},
		{"other scheme", "Basic dG9rLWE=", User{}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api", nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			u, ok, err := a.Authenticate(r)
			if ok != tt.ok || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
				t.Fatalf("got ok=%v err=%v; want ok=%v err=%v", ok, err, tt.ok, tt.wantErr)
			}
			if u.Name != tt.want.Name || !slices.Equal(u.Groups, tt.want.Groups) {
				t.Errorf("user = %+v, want %+v", u, tt.want)
			}
		})
	}
}

func fixed(u User, ok bool, err error) Authenticator {
	return AuthenticatorFunc(func(*http.Request) (User, bool, error) { return u, ok, err })
}

func TestUnion(t *testing.T) {
	errA, errB := errors.New("a failed"), errors.New("b failed")
	u1, u2 := User{Name: "one"}, User{Name: "two"}
	tests := []struct {
		name     string
		list     []Authenticator
		wantUser string
		wantOK   bool
		wantErrs []error
	}{
		{"empty", nil, "", false, nil},
		{"first wins", []Authenticator{fixed(u1, true, nil), fixed(u2, true, nil)}, "one", true, nil},
		{"skips not-recognized", []Authenticator{fixed(User{}, false, nil), fixed(u2, true, nil)}, "two", true, nil},
		{"error does not stop later success", []Authenticator{fixed(User{}, false, errA), fixed(u2, true, nil)}, "two", true, nil},
		{"all errors joined", []Authenticator{fixed(User{}, false, errA), fixed(User{}, false, errB)}, "", false, []error{errA, errB}},
		{"nothing recognized", []Authenticator{fixed(User{}, false, nil)}, "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, ok, err := Union(tt.list...).Authenticate(httptest.NewRequest(http.MethodGet, "/", nil))
			if u.Name != tt.wantUser || ok != tt.wantOK {
				t.Errorf("got %q ok=%v, want %q ok=%v", u.Name, ok, tt.wantUser, tt.wantOK)
			}
			if (err != nil) != (len(tt.wantErrs) > 0) {
				t.Errorf("err = %v, want %v", err, tt.wantErrs)
			}
			for _, e := range tt.wantErrs {
				if !errors.Is(err, e) {
					t.Errorf("err %v does not wrap %v", err, e)
				}
			}
		})
	}
}

func TestUserContext(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if _, ok := UserFrom(r.Context()); ok {
		t.Fatal("empty context reported a user")
	}
	ctx := WithUser(r.Context(), User{Name: "x", Groups: []string{"g"}})
	u, ok := UserFrom(ctx)
	if !ok || u.Name != "x" || !slices.Equal(u.Groups, []string{"g"}) {
		t.Errorf("UserFrom = %+v, %v", u, ok)
	}
}

func TestMiddlewarePublicPaths(t *testing.T) {
	a := NewToken(map[string]User{"good": {Name: "alice"}})
	public := []string{"/healthz", "/version"}
	tests := []struct {
		name     string
		path     string
		header   string
		wantCode int
		wantUser string
	}{
		{"public anonymous", "/healthz", "", http.StatusOK, ""},
		{"public with valid token keeps user", "/version", "Bearer good", http.StatusOK, "alice"},
		{"public with invalid token rejected", "/healthz", "Bearer bad", http.StatusUnauthorized, ""},
		{"public is exact match", "/healthz/etcd", "", http.StatusUnauthorized, ""},
		{"private anonymous", "/api", "", http.StatusUnauthorized, ""},
		{"private with token", "/api", "Bearer good", http.StatusOK, "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sawUser, sawAuthHeader string
			h := Middleware(a, public, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, _ := UserFrom(r.Context())
				sawUser, sawAuthHeader = u.Name, r.Header.Get("Authorization")
			}))
			r := httptest.NewRequest(http.MethodGet, tt.path, nil)
			if tt.header != "" {
				r.Header.Set("Authorization", tt.header)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if rec.Code != tt.wantCode {
				t.Fatalf("code = %d, want %d", rec.Code, tt.wantCode)
			}
			if sawUser != tt.wantUser {
				t.Errorf("user in context = %q, want %q", sawUser, tt.wantUser)
			}
			if sawAuthHeader != "" {
				t.Errorf("Authorization header leaked to handler: %q", sawAuthHeader)
			}
			if tt.wantCode == http.StatusUnauthorized && rec.Body.String() != wantUnauthorized {
				t.Errorf("body = %s", rec.Body.String())
			}
		})
	}
}

const wantUnauthorized = `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}`
