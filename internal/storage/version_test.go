package storage

import "testing"

func TestProgressSafeVersion(t *testing.T) {
	tests := []struct {
		v    string
		want bool
		err  bool
	}{
		{"3.4.23", false, false},
		{"3.4.24", true, false},
		{"3.5.7", false, false},
		{"3.5.8", true, false},
		{"3.6.0", true, false},
		{"3.7.3", true, false},
		{"3.3.27", false, false},
		{"v3.5.10", true, false},
		{"3.5.9-rc.0", true, false},
		{"3.5", false, true},
		{"x.y.z", false, true},
	}
	for _, tc := range tests {
		got, err := progressSafeVersion(tc.v)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("progressSafeVersion(%q) = %v, %v; want %v, error %v", tc.v, got, err, tc.want, tc.err)
		}
	}
}
