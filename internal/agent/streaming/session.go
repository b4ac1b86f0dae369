package streaming

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/remotecommand"
	clientremote "k8s.io/client-go/tools/remotecommand"
)

// session is the client's end of an exec or attach, whatever protocol it
// speaks: the standard streams it asked for (nil when not asked), terminal
// sizes, and the error channel that ends it.
type session struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	resize         *sizeQueue
	// done is closed when the client has gone away.
	done <-chan struct{}
	// statusJSON: the error channel carries a metav1.Status (v4 and
	// later) rather than a bare message.
	statusJSON bool
	// writeError writes the error channel; closeAll ends the session.
	writeError func([]byte) error
	closeAll   func()
}

// finish reports the command's outcome on the error channel and closes
// the session. Older protocols carry only a failure's message; v4 and
// later carry a Status whose cause has the exit code.
func (s *session) finish(err error) {
	st := statusFor(err)
	switch {
	case s.statusJSON:
		data, _ := json.Marshal(st)
		_ = s.writeError(data)
	case err != nil:
		_ = s.writeError([]byte(st.Message))
	}
	s.resize.stop()
	s.closeAll()
}

// exitCoder is what client-go returns for a command that exited non-zero.
type exitCoder interface{ ExitStatus() int }

// statusFor builds the error channel's Status: Success, NonZeroExitCode
// with an ExitCode cause (which kubectl turns into its own exit code), or
// the runtime's failure message as it is.
func statusFor(err error) metav1.Status {
	st := metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}}
	var ec exitCoder
	switch {
	case err == nil:
		st.Status = metav1.StatusSuccess
	case errors.As(err, &ec):
		st.Status = metav1.StatusFailure
		st.Reason = remotecommand.NonZeroExitCodeReason
		st.Message = fmt.Sprintf("command terminated with non-zero exit code: exit status %d", ec.ExitStatus())
		st.Details = &metav1.StatusDetails{Causes: []metav1.StatusCause{
			{Type: remotecommand.ExitCodeCauseType, Message: strconv.Itoa(ec.ExitStatus())},
		}}
	default:
		st.Status = metav1.StatusFailure
		st.Reason = metav1.StatusReasonInternalError
		st.Code = 500
		st.Message = err.Error()
	}
	return st
}

// sizeQueue hands terminal sizes read from the client to client-go's
// executor; Next returns nil once the session is over.
type sizeQueue struct {
	ch   chan clientremote.TerminalSize
	done chan struct{}
	once sync.Once
}

func newSizeQueue() *sizeQueue {
	return &sizeQueue{ch: make(chan clientremote.TerminalSize, 1), done: make(chan struct{})}
}

// feed decodes the resize channel: a stream of JSON {"Width","Height"}.
func (q *sizeQueue) feed(r io.Reader) {
	dec := json.NewDecoder(r)
	for {
		var size clientremote.TerminalSize
		if err := dec.Decode(&size); err != nil {
			return
		}
		select {
		case q.ch <- size:
		case <-q.done:
			return
		}
	}
}

func (q *sizeQueue) Next() *clientremote.TerminalSize {
	select {
	case s := <-q.ch:
		return &s
	case <-q.done:
		return nil
	}
}

func (q *sizeQueue) stop() {
	if q != nil {
		q.once.Do(func() { close(q.done) })
	}
}

// queue returns q as client-go's interface, nil without a terminal.
func (q *sizeQueue) queue() clientremote.TerminalSizeQueue {
	if q == nil {
		return nil
	}
	return q
}
