package agent

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/client-go/rest"
)

// Every byte of a response body read through the config's transport counts.
func TestCountReceived(t *testing.T) {
	body := strings.Repeat("x", 10000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, body) }))
	defer srv.Close()
	c := &rest.Config{Host: srv.URL}
	n := newReceivedBytes()
	countReceived(c, n)
	rt, err := rest.TransportFor(c)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		resp, err := rt.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if v := testutil.ToFloat64(n); v != 2*float64(len(body)) {
		t.Errorf("counted %v bytes, want %d", v, 2*len(body))
	}
}
