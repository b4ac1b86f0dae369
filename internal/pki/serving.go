package pki

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const servingCommonName = "navarch-apiserver"

// inClusterNames are the DNS names pods use to reach the API server through
// the default "kubernetes" service.
var inClusterNames = []string{
	"kubernetes",
	"kubernetes.default",
	"kubernetes.default.svc",
	"kubernetes.default.svc.cluster.local",
}

// EnsureServing loads or creates <dir>/serving.crt and <dir>/serving.key,
// signed by ca. The certificate covers loopback, the host name, every
// non-loopback interface address, the in-cluster service names and extra
// (IP literals or DNS names). An existing certificate is re-issued when it
// lacks any of those SANs, expires within 30 days, or was not signed by ca.
func (ca *CA) EnsureServing(dir string, extra []string) (tls.Certificate, error) {
	dnsNames, ips, err := wantedSANs(extra)
	if err != nil {
		return tls.Certificate{}, err
	}
	certPath, keyPath := filepath.Join(dir, "serving.crt"), filepath.Join(dir, "serving.key")
	existing, err := loadLeaf(certPath, keyPath)
	if err != nil {
		return tls.Certificate{}, err
	}
	if ca.usable(existing, x509.ExtKeyUsageServerAuth, time.Now()) && coversSANs(existing.cert, dnsNames, ips) {
		return toTLS(existing.certPEM, existing.keyPEM)
	}
	certPEM, keyPEM, err := ca.issueAndStore(certPath, keyPath, leafSpec{
		subject:  pkix.Name{CommonName: servingCommonName},
		usage:    x509.ExtKeyUsageServerAuth,
		dnsNames: dnsNames,
		ips:      ips,
	})
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("issue serving certificate: %w", err)
	}
	return toTLS(certPEM, keyPEM)
}

func toTLS(certPEM, keyPEM []byte) (tls.Certificate, error) {
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("build TLS key pair: %w", err)
	}
	return c, nil
}

// wantedSANs computes the SAN set the serving certificate must cover.
func wantedSANs(extra []string) (dnsNames []string, ips []net.IP, err error) {
	dnsNames = append([]string{"localhost"}, inClusterNames...)
	ips = []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback}
	if host, err := os.Hostname(); err == nil && host != "" {
		dnsNames = append(dnsNames, strings.ToLower(host))
	}
	ips = append(ips, hostIPs()...)
	for _, e := range extra {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if ip := net.ParseIP(e); ip != nil {
			ips = append(ips, ip)
			continue
		}
		if strings.ContainsAny(e, " /:") {
			return nil, nil, fmt.Errorf("invalid extra SAN %q: neither an IP nor a DNS name", e)
		}
		dnsNames = append(dnsNames, strings.ToLower(e))
	}
	return mergeStrings(nil, dnsNames), mergeIPs(nil, ips), nil
}

// hostIPs lists the non-loopback addresses on the host's interfaces. Failure
// to enumerate is not fatal: loopback and extra SANs still work.
func hostIPs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, a := range addrs {
		var ip net.IP
		switch v := a.(type) {
		case *net.IPNet:
			ip = v.IP
		case *net.IPAddr:
			ip = v.IP
		}
		if ip != nil && !ip.IsLoopback() && !ip.IsUnspecified() {
			ips = append(ips, ip)
		}
	}
	return ips
}

// coversSANs reports whether cert includes every wanted name and address.
func coversSANs(cert *x509.Certificate, dnsNames []string, ips []net.IP) bool {
	for _, d := range dnsNames {
		if !slices.ContainsFunc(cert.DNSNames, func(h string) bool { return strings.EqualFold(h, d) }) {
			return false
		}
	}
	for _, ip := range ips {
		if !slices.ContainsFunc(cert.IPAddresses, ip.Equal) {
			return false
		}
	}
	return true
}

// mergeStrings appends the members of add not yet in base, preserving order.
func mergeStrings(base, add []string) []string {
	for _, s := range add {
		if !slices.Contains(base, s) {
			base = append(base, s)
		}
	}
	return base
}

// mergeIPs is mergeStrings for IPs; it normalises IPv4 to 4-byte form so the
// same address in 4- and 16-byte encodings is not listed twice.
func mergeIPs(base, add []net.IP) []net.IP {
	for _, ip := range add {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		if !slices.ContainsFunc(base, ip.Equal) {
			base = append(base, ip)
		}
	}
	return base
}
