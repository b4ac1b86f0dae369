package apiserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// statusOf turns any error into the metav1.Status a client receives. Errors
// from the store are already API status errors; anything else is a bug and
// becomes a 500 with the message kept for the operator.
func statusOf(err error) metav1.Status {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		st := se.Status()
		st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
		if st.Status == "" {
			st.Status = metav1.StatusFailure
		}
		return st
	}
	st := apierrors.NewInternalError(err).Status()
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	return st
}

// writeError writes err as a Status with its HTTP code. It is the single
// place where errors meet the wire.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	st := statusOf(err)
	switch {
	case st.Code < 500:
	case r.Context().Err() != nil:
		// The client left or the server is stopping: the failure follows
		// from that, and nobody reads the answer.
		slog.DebugContext(r.Context(), "request abandoned", "method", r.Method, "path", r.URL.Path, "err", err)
	default:
		slog.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeStatus(w, st)
}

func writeStatus(w http.ResponseWriter, st metav1.Status) {
	writeStatusJSON(w, int(st.Code), marshalStatus(st))
}

// marshalStatus encodes st, falling back to a 500 Status naming the error.
func marshalStatus(st metav1.Status) []byte {
	b, err := json.Marshal(st)
	if err != nil {
		b = []byte(fmt.Sprintf(`{"kind":"Status","apiVersion":"v1","status":"Failure","message":%q,"code":500}`, err.Error()))
	}
	return b
}

// writeStatusJSON writes an encoded Status, for answers encoded once.
func writeStatusJSON(w http.ResponseWriter, code int, b []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// notFoundPath answers a path that names no resource, as upstream does.
func notFoundPath(w http.ResponseWriter, r *http.Request) {
	writeStatus(w, metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Message: "the server could not find the requested resource",
		Reason: metav1.StatusReasonNotFound, Details: &metav1.StatusDetails{}, Code: http.StatusNotFound,
	})
}
