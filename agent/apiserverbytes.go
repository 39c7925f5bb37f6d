package agent

import (
	"io"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/rest"
)

// newReceivedBytes returns the counter of the bytes the agent reads from the
// apiserver: the bodies of every response, lists and watch streams alike
// (responses are not compressed: restConfig). It shows what sharding saves,
// server-side against client-side.
func newReceivedBytes() prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kube_state_push_apiserver_received_bytes_total",
		Help: "Bytes of response bodies read from the apiserver (lists, watch streams and every other call).",
	})
}

// countReceived makes c's transport add to n the bytes of each response body
// as they are read.
func countReceived(c *rest.Config, n prometheus.Counter) {
	c.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
			resp, err := rt.RoundTrip(req)
			if resp != nil && resp.Body != nil {
				resp.Body = &countingBody{ReadCloser: resp.Body, n: n}
			}
			return resp, err
		})
	})
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// countingBody is a response body that counts what is read of it.
type countingBody struct {
	io.ReadCloser
	n prometheus.Counter
}

func (b *countingBody) Read(p []byte) (int, error) {
	k, err := b.ReadCloser.Read(p)
	if k > 0 {
		b.n.Add(float64(k))
	}
	return k, err
}
