package config

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		check   func(*testing.T, *Configuration)
	}{
		{name: "empty gives one default profile", in: "", check: func(t *testing.T, c *Configuration) {
			if len(c.Profiles) != 1 || c.Profiles[0].SchedulerName != DefaultSchedulerName || *c.Parallelism != 16 ||
				*c.PodInitialBackoffSeconds != 1 || *c.PodMaxBackoffSeconds != 10 || *c.PercentageOfNodesToScore != 0 {
				t.Errorf("defaults: %+v", c)
			}
		}},
		{name: "profiles", in: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 30\nprofiles:\n- schedulerName: a\n- {}\n",
			check: func(t *testing.T, c *Configuration) {
				if c.Profiles[0].SchedulerName != "a" || c.Profiles[1].SchedulerName != DefaultSchedulerName || *c.PercentageOfNodesToScore != 30 {
					t.Errorf("profiles: %+v", c.Profiles)
				}
			}},
		{name: "unknown field", in: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nbogus: 1\n", wantErr: "bogus"},
		{name: "wrong kind", in: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: Other\n", wantErr: "kind"},
		{name: "wrong version", in: "apiVersion: v1\nkind: KubeSchedulerConfiguration\n", wantErr: "apiVersion"},
		{name: "duplicate profile", in: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\nprofiles:\n- schedulerName: a\n- schedulerName: a\n", wantErr: "Duplicate"},
		{name: "bad percentage", in: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npercentageOfNodesToScore: 101\n", wantErr: "percentageOfNodesToScore"},
		{name: "bad backoff", in: "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\npodInitialBackoffSeconds: 5\npodMaxBackoffSeconds: 2\n", wantErr: "podMaxBackoffSeconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestMerge(t *testing.T) {
	defaults := []Plugin{{Name: "A", Weight: 1}, {Name: "B", Weight: 2}, {Name: "C"}}
	tests := []struct {
		name   string
		custom PluginSet
		want   string
	}{
		{"no change", PluginSet{}, "A1 B2 C0"},
		{"disable one", PluginSet{Disabled: []Plugin{{Name: "B"}}}, "A1 C0"},
		{"reweigh in place", PluginSet{Enabled: []Plugin{{Name: "B", Weight: 7}}}, "A1 B7 C0"},
		{"append", PluginSet{Enabled: []Plugin{{Name: "D", Weight: 3}}}, "A1 B2 C0 D3"},
		{"disable all, re-enable in custom order", PluginSet{Disabled: []Plugin{{Name: "*"}}, Enabled: []Plugin{{Name: "C"}, {Name: "A", Weight: 4}}}, "C0 A4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range Merge(defaults, tt.custom) {
				got = append(got, p.Name+string(rune('0'+p.Weight)))
			}
			if s := strings.Join(got, " "); s != tt.want {
				t.Errorf("Merge = %q, want %q", s, tt.want)
			}
		})
	}
}
