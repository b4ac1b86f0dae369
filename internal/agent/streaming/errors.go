package streaming

import (
	"encoding/json"
	"errors"
	"net/http"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// ErrPodNotFound is what Pods returns (wrapped) for a pod the agent does not
// run; the handler answers 404.
var ErrPodNotFound = errors.New("pod not found")

// badRequest is a 400 with err's text, the kubelet's answer to bad options
// and to containers it cannot serve.
func badRequest(err error) error { return apierrors.NewBadRequest(err.Error()) }

// podsError maps an error from Pods to the answer the kubelet gives.
func podsError(err error) error {
	if errors.Is(err, ErrPodNotFound) {
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
			Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound, Message: err.Error()}}
	}
	return badRequest(err)
}

// runtimeError maps a CRI failure: a container the runtime no longer
// knows is 404, anything else 500.
func runtimeError(err error) error {
	if isNotFound(err) {
		return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
			Code: http.StatusNotFound, Reason: metav1.StatusReasonNotFound, Message: err.Error()}}
	}
	return &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
		Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: err.Error()}}
}

func isNotFound(err error) bool {
	if apierrors.IsNotFound(err) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s, ok := status.FromError(e); ok && s.Code() == codes.NotFound {
			return true
		}
	}
	return false
}

// writeError answers with a metav1.Status, which the API server passes on
// to the client unchanged.
func writeError(w http.ResponseWriter, err error) {
	var se *apierrors.StatusError
	if !errors.As(err, &se) {
		se = &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure,
			Code: http.StatusInternalServerError, Reason: metav1.StatusReasonInternalError, Message: err.Error()}}
	}
	st := se.ErrStatus
	st.TypeMeta = metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}
	data, _ := json.Marshal(st)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(int(st.Code))
	_, _ = w.Write(data)
}
