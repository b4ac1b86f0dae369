// Package endpoint is the Endpoints controller: for every Service with a
// selector it keeps a core/v1 Endpoints object of the same name listing
// the selected pods, ready ones under addresses and not-ready ones under
// notReadyAddresses (all under addresses when the Service publishes
// not-ready addresses), with each Service port's target port resolved per
// pod (named ports through the pod's container ports), grouped into
// subsets by port set. Services without a selector keep the Endpoints
// their users write.
//
// It reads pods and Services from shared informers and writes only
// Endpoints; the service proxy reads them (and EndpointSlices).
package endpoint
