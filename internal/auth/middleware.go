package auth

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// unauthorizedBody is the exact Status kube-apiserver returns on 401;
// kubectl turns its reason into "You must be logged in to the server".
var unauthorizedBody = mustJSON(metav1.Status{
	TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
	Status:   metav1.StatusFailure,
	Message:  "Unauthorized",
	Reason:   metav1.StatusReasonUnauthorized,
	Code:     http.StatusUnauthorized,
})

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Middleware authenticates every request before next sees it and stores the
// User in the request context. Requests without recognized credentials, or
// with invalid ones, get a 401 Status.
//
// Paths listed in public (exact match, e.g. "/healthz", "/version") are
// served without credentials, as upstream allows them anonymously. If a
// request to a public path does carry credentials they are still checked:
// valid ones put the user in the context, invalid ones get 401, which is
// what kube-apiserver does too.
func Middleware(a Authenticator, public []string, next http.Handler) http.Handler {
	publicSet := slices.Clone(public)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok, err := a.Authenticate(r)
		if err != nil {
			slog.Debug("authentication failed", "path", r.URL.Path, "remote", r.RemoteAddr, "err", err)
		}
		switch {
		case ok:
			// Credentials must not travel further, e.g. through a proxy
			// subresource to a pod.
			r.Header.Del("Authorization")
			next.ServeHTTP(w, r.WithContext(WithUser(r.Context(), u)))
		case err == nil && slices.Contains(publicSet, r.URL.Path):
			next.ServeHTTP(w, r)
		default:
			writeUnauthorized(w)
		}
	})
}

func writeUnauthorized(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusUnauthorized)
	w.Write(unauthorizedBody) //nolint:errcheck // the client is gone; nothing to do
}
