package servicelb

import "testing"

func TestPool(t *testing.T) {
	tests := []struct {
		spec string
		used []string
		want string
		err  bool
	}{
		{spec: "172.31.250.200-172.31.250.201", want: "172.31.250.200"},
		{spec: "172.31.250.200-172.31.250.201", used: []string{"172.31.250.200"}, want: "172.31.250.201"},
		{spec: "172.31.250.200-172.31.250.201", used: []string{"172.31.250.200", "172.31.250.201"}, want: "<nil>"},
		{spec: "10.0.0.0/30", want: "10.0.0.1"},
		{spec: "10.0.0.0/30", used: []string{"10.0.0.1", "10.0.0.2"}, want: "<nil>"},
		{spec: "10.0.0.7/32, 10.1.0.0/31", used: []string{"10.0.0.7", "10.1.0.0"}, want: "10.1.0.1"},
		{spec: "10.0.0.9-10.0.0.1", err: true},
		{spec: "fd00::/64", err: true},
		{spec: " , ", err: true},
	}
	for _, tc := range tests {
		p, err := ParsePool(tc.spec)
		if (err != nil) != tc.err {
			t.Errorf("ParsePool(%q) error %v, want error %v", tc.spec, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		used := map[string]bool{}
		for _, u := range tc.used {
			used[u] = true
		}
		if got := p.Next(used).String(); got != tc.want {
			t.Errorf("%q with %v used: Next = %s, want %s", tc.spec, tc.used, got, tc.want)
		}
	}
}
