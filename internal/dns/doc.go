// Package dns is service discovery for pods: the cluster DNS server that
// every node agent runs (github.com/miekg/dns), answering the Kubernetes
// DNS schema (A/AAAA for Services, SRV for named ports, headless Services
// with their endpoints and pod hostname/subdomain records, pod A records,
// ExternalName CNAMEs) from client-go informers and forwarding other names
// to the host's resolvers; the pods' resolv.conf for each dnsPolicy; and the
// Docker-link style Service environment variables.
//
// It must not program the network (the proxy makes the kube-dns Service IP
// reach this server) or talk to the API other than through client-go.
package dns
