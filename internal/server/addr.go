package server

import "net"

// advertiseIP is the address the `kubernetes` endpoints point at: the first
// non-loopback IPv4 address, or loopback on a machine without one.
func advertiseIP() string {
	addrs, err := net.InterfaceAddrs()
	if err == nil {
		for _, a := range addrs {
			if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && n.IP.To4() != nil {
				return n.IP.String()
			}
		}
	}
	return "127.0.0.1"
}
