package streaming

import "net/http"

func (h *handler) portForward(w http.ResponseWriter, r *http.Request) {
	http.Error(w, "not implemented yet", http.StatusNotImplemented)
}
