package storage

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

// ProgressNotifySafe reports whether every etcd member orders progress
// notifications after the events they cover. Releases before 3.4.24 and
// 3.5.8 could send a progress notification ahead of pending events
// (etcd issue 15220), so a watch cache cannot prove it is fresh with them.
func (s *Etcd) ProgressNotifySafe(ctx context.Context) (bool, error) {
	for _, ep := range s.client.Endpoints() {
		st, err := s.client.Status(ctx, ep)
		if err != nil {
			return false, mapErr("status "+ep, err)
		}
		ok, err := progressSafeVersion(st.Version)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func progressSafeVersion(v string) (bool, error) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 3 {
		return false, fmt.Errorf("etcd version %q: want major.minor.patch", v)
	}
	var n [3]int
	for i, p := range parts {
		p, _, _ = strings.Cut(p, "-")
		x, err := strconv.Atoi(p)
		if err != nil {
			return false, fmt.Errorf("etcd version %q: %w", v, err)
		}
		n[i] = x
	}
	switch {
	case n[0] != 3:
		return n[0] > 3, nil
	case n[1] == 4:
		return n[2] >= 24, nil
	case n[1] == 5:
		return n[2] >= 8, nil
	}
	return n[1] > 5, nil
}
