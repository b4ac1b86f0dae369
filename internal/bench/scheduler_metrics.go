package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// requestCounts reads apiserver_request_total from /metrics, summed by
// "verb resource[/subresource]".
func (c *child) requestCounts(ctx context.Context) (map[string]float64, error) {
	body, err := c.clients.CoreV1().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "apiserver_request_total{") {
			continue
		}
		end := strings.LastIndexByte(line, '}')
		v, err := strconv.ParseFloat(strings.TrimSpace(line[end+1:]), 64)
		if err != nil {
			continue
		}
		labels := map[string]string{}
		for _, kv := range strings.Split(line[len("apiserver_request_total{"):end], ",") {
			k, val, _ := strings.Cut(kv, "=")
			labels[k] = strings.Trim(val, `"`)
		}
		key := labels["verb"] + " " + labels["resource"]
		if s := labels["subresource"]; s != "" {
			key += "/" + s
		}
		out[key] += v
	}
	return out, sc.Err()
}

// reportRequests prints the request rates of the measured phase, busiest
// first: where the API server's work went.
func reportRequests(w io.Writer, before, after map[string]float64, d time.Duration) {
	type rate struct {
		key string
		n   float64
	}
	var rs []rate
	for k, v := range after {
		if n := v - before[k]; n > 0 {
			rs = append(rs, rate{k, n})
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].n > rs[j].n })
	var parts []string
	for i, r := range rs {
		if i == 6 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f/s", r.key, r.n/d.Seconds()))
	}
	fmt.Fprintf(w, "API requests while measuring:     %s\n", strings.Join(parts, ", "))
}
