package streaming

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// logOptions are the query parameters of /containerLogs, as PodLogOptions
// names them.
type logOptions struct {
	follow     bool
	previous   bool
	timestamps bool
	// tail < 0 means all lines.
	tail int64
	// limit <= 0 means no limit.
	limit int64
	// since is the zero time when not asked for.
	since time.Time
	// stream is "" (both), "stdout" or "stderr".
	stream string
}

// parseLogOptions reads the query the API server passes through. now
// anchors sinceSeconds.
func parseLogOptions(q url.Values, now time.Time) (logOptions, error) {
	o := logOptions{tail: -1}
	var err error
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"follow", &o.follow}, {"previous", &o.previous}, {"timestamps", &o.timestamps}} {
		if *b.dst, err = boolParam(q, b.name); err != nil {
			return o, err
		}
	}
	if v := q.Get("tailLines"); v != "" {
		if o.tail, err = strconv.ParseInt(v, 10, 64); err != nil || o.tail < 0 {
			return o, fmt.Errorf("tailLines: invalid value %q: must be a non-negative integer", v)
		}
	}
	if v := q.Get("limitBytes"); v != "" {
		if o.limit, err = strconv.ParseInt(v, 10, 64); err != nil || o.limit <= 0 {
			return o, fmt.Errorf("limitBytes: invalid value %q: must be greater than 0", v)
		}
	}
	if o.since, err = parseSince(q, now); err != nil {
		return o, err
	}
	switch s := strings.ToLower(q.Get("stream")); s {
	case "", "all":
	case "stdout", "stderr":
		o.stream = s
	default:
		return o, fmt.Errorf("stream: unsupported value %q: supported values are All, Stdout, Stderr", q.Get("stream"))
	}
	return o, nil
}

func parseSince(q url.Values, now time.Time) (time.Time, error) {
	secs, ts := q.Get("sinceSeconds"), q.Get("sinceTime")
	switch {
	case secs != "" && ts != "":
		return time.Time{}, fmt.Errorf("at most one of `sinceTime` or `sinceSeconds` may be specified")
	case secs != "":
		n, err := strconv.ParseInt(secs, 10, 64)
		if err != nil || n <= 0 {
			return time.Time{}, fmt.Errorf("sinceSeconds: invalid value %q: must be greater than 0", secs)
		}
		return now.Add(-time.Duration(n) * time.Second), nil
	case ts != "":
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return time.Time{}, fmt.Errorf("sinceTime: invalid value %q: must be an RFC3339 time", ts)
		}
		return t, nil
	}
	return time.Time{}, nil
}

// boolParam accepts what the kubelet accepts: "1" (the API server's
// spelling) and Go's boolean spellings ("true", as client-go sends).
func boolParam(q url.Values, name string) (bool, error) {
	v := q.Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s: invalid value %q: must be a boolean", name, v)
	}
	return b, nil
}

// execOptions are the query parameters of /exec and /attach.
type execOptions struct {
	command                    []string
	stdin, stdout, stderr, tty bool
}

// parseExecOptions validates the options as the kubelet does. attach has
// no command.
func parseExecOptions(q url.Values, attach bool) (execOptions, error) {
	var o execOptions
	var err error
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"stdin", &o.stdin}, {"stdout", &o.stdout}, {"stderr", &o.stderr}, {"tty", &o.tty}} {
		if *b.dst, err = boolParam(q, b.name); err != nil {
			return o, err
		}
	}
	if !attach {
		o.command = q["command"]
		if len(o.command) == 0 {
			return o, fmt.Errorf("you must specify at least 1 command")
		}
	}
	if !o.stdin && !o.stdout && !o.stderr {
		return o, fmt.Errorf("you must specify at least 1 of stdin, stdout, stderr")
	}
	// A terminal merges stderr into stdout; CRI refuses both at once.
	if o.tty {
		o.stderr = false
	}
	return o, nil
}

// parsePorts reads the ports query parameter (repeated or comma
// separated), which the WebSocket port-forward protocol needs up front.
func parsePorts(q url.Values) ([]int32, error) {
	var ports []int32
	for _, v := range q["ports"] {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			p, err := parsePort(s)
			if err != nil {
				return nil, err
			}
			ports = append(ports, p)
		}
	}
	return ports, nil
}

func parsePort(s string) (int32, error) {
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("invalid port %q: must be between 1 and 65535", s)
	}
	return int32(p), nil
}
