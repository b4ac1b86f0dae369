package hollow

import (
	"fmt"
	"testing"

	"k8s.io/apimachinery/pkg/types"
)

func TestIPPool(t *testing.T) {
	var p ipPool
	a := p.assign("a", "", 3)
	b := p.assign("b", "", 3)
	if a != "10.128.3.2" || b != "10.128.3.3" {
		t.Fatalf("derived pool: %s %s", a, b)
	}
	if again := p.assign("a", "", 3); again != a {
		t.Fatalf("same pod got a new IP: %s then %s", a, again)
	}
	if c := p.assign("c", "10.244.7.0/24", 3); c != "10.244.7.4" {
		t.Fatalf("podCIDR pool: %s", c)
	}
	p.release("b")
	seen := map[string]bool{}
	for i := range 251 { // 253 addresses, a and c hold two
		ip := p.assign(types.UID(fmt.Sprint("u", i)), "", 3)
		if seen[ip] || ip == a {
			t.Fatalf("IP %s handed out twice", ip)
		}
		seen[ip] = true
	}
}

func TestNodeIP(t *testing.T) {
	for i, want := range map[int]string{0: "100.64.0.1", 255: "100.64.1.0", 4999: "100.64.19.136"} {
		if got := nodeIP(i); got != want {
			t.Errorf("nodeIP(%d) = %s, want %s", i, got, want)
		}
	}
}
