package dns_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	navdns "github.com/navarch/navarch/internal/dns"
	"github.com/navarch/navarch/internal/testutil/testserver"
)

// fakeUpstream answers every A question with 192.0.2.1 on loopback.
func fakeUpstream(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP("192.0.2.1")}}
		_ = w.WriteMsg(m)
	})}
	go func() { _ = srv.ActivateAndServe() }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return pc.LocalAddr().String()
}

func query(t *testing.T, network, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("query %s over %s: %v", name, network, err)
	}
	return resp
}

func TestServerAnswersAndForwards(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err := env.Client.CoreV1().Services("default").Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "hello"},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := navdns.New(navdns.Config{Client: env.Client, Listen: "127.0.0.1:0", Upstreams: []string{fakeUpstream(t)}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	addr := srv.Addr().String()
	svc, err := env.Client.CoreV1().Services("default").Get(ctx, "hello", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	testserver.Eventually(t, 10*time.Second, "hello resolves", func() (bool, error) {
		m := new(dns.Msg)
		m.SetQuestion("hello.default.svc.cluster.local.", dns.TypeA)
		resp, _, err := (&dns.Client{Timeout: time.Second}).Exchange(m, addr)
		return err == nil && len(resp.Answer) == 1 && resp.Answer[0].(*dns.A).A.String() == svc.Spec.ClusterIP, nil
	})
	for _, network := range []string{"udp", "tcp"} {
		if r := query(t, network, addr, "hello.default.svc.cluster.local.", dns.TypeA); !r.Authoritative || len(r.Answer) != 1 {
			t.Errorf("%s: %v", network, r)
		}
		if r := query(t, network, addr, "missing.default.svc.cluster.local.", dns.TypeA); r.Rcode != dns.RcodeNameError || len(r.Ns) != 1 {
			t.Errorf("%s: missing name: %v", network, r)
		}
		if r := query(t, network, addr, "www.example.com.", dns.TypeA); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 ||
			r.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
			t.Errorf("%s: forwarded name: %v", network, r)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
}

func TestServerWithoutUpstreamFailsOutsideNames(t *testing.T) {
	env := testserver.Start(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// An upstream that is a closed port on loopback.
	l, _ := net.ListenPacket("udp", "127.0.0.1:0")
	dead := l.LocalAddr().String()
	l.Close()
	srv, err := navdns.New(navdns.Config{Client: env.Client, Listen: "127.0.0.1:0", Upstreams: []string{dead}})
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Run(ctx) }()
	testserver.Eventually(t, 10*time.Second, "SERVFAIL for an outside name", func() (bool, error) {
		m := new(dns.Msg)
		m.SetQuestion("www.example.com.", dns.TypeA)
		resp, _, err := (&dns.Client{Timeout: 3 * time.Second}).Exchange(m, srv.Addr().String())
		return err == nil && resp.Rcode == dns.RcodeServerFailure, nil
	})
}
