package rwconfig

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"

	"github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/storage/remote/azuread"
	"github.com/prometheus/prometheus/storage/remote/googleiam"
	"github.com/prometheus/sigv4"
)

// NewHTTPClient builds the endpoint's HTTP client, as Prometheus builds its
// remote-write client (storage/remote.NewWriteClient): prometheus/common's
// transport for tls_config, basic_auth, authorization, oauth2, proxy_url,
// follow_redirects and enable_http2, with userAgent on every request; then the
// custom headers; then SigV4 signing, or Azure AD or Google Cloud IAM bearer
// tokens, each through Prometheus's own round tripper. The client has no
// timeout of its own: bound each request with a context (Timeout).
//
// Secrets named by files are re-read by prometheus/common on every request:
// basic_auth's username_file and password_file, authorization's
// credentials_file and the bearer_token_file are read as the request is made;
// oauth2's client_secret_file is read too, and a changed secret fetches a new
// token; tls_config's ca_file, cert_file and key_file are read and hashed on
// every request, and a change rebuilds the transport (existing idle
// connections are closed). So a rotated file takes effect from the next
// request without a reload. SigV4 credentials come from the AWS default chain
// (or access_key/secret_key) and are refreshed by the AWS SDK; building the
// client fetches them once, using ctx.
//
// Azure AD and Google tokens are fetched on the first request and refreshed
// before they expire (Azure at half their lifetime). Building the client reads
// azuread's certificate_path and google_iam's credentials_file (or finds
// Google's default credentials) once: a replaced file needs a reload.
// Workload identity's token file is re-read, at most every 10 minutes, as
// tokens are fetched.
func (e Endpoint) NewHTTPClient(ctx context.Context, userAgent string) (*http.Client, error) {
	var opts []config.HTTPClientOption
	if userAgent != "" {
		opts = append(opts, config.WithUserAgent(userAgent))
	}
	if e.RoundRobinDNS {
		opts = append(opts, config.WithDialContextFunc(roundRobinDial))
	}
	client, err := config.NewClientFromConfig(e.http, "remote_write", opts...)
	if err != nil {
		return nil, err
	}
	rt := client.Transport
	if len(e.Headers) > 0 {
		rt = &headersRoundTripper{headers: e.Headers, next: rt}
	}
	if e.sigv4 != nil {
		rt, err = sigv4.NewSigV4RoundTripper(e.sigv4, rt, sigv4.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("sigv4: %w", err)
		}
	}
	if e.azuread != nil {
		rt, err = azuread.NewAzureADRoundTripper(e.azuread, rt)
		if err != nil {
			return nil, fmt.Errorf("azuread: %w", err)
		}
	}
	if e.googleIAM != nil {
		rt, err = googleiam.NewRoundTripper(e.googleIAM, rt)
		if err != nil {
			return nil, fmt.Errorf("google_iam: %w", err)
		}
	}
	client.Transport = rt
	return client, nil
}

// headersRoundTripper sets the endpoint's custom headers on each request.
type headersRoundTripper struct {
	headers map[string]string
	next    http.RoundTripper
}

func (rt *headersRoundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	// A RoundTripper must not modify the request it is given.
	r := *req
	r.Header = req.Header.Clone()
	for k, v := range rt.headers {
		r.Header.Set(k, v)
	}
	return rt.next.RoundTrip(&r)
}

// CloseIdleConnections closes the idle connections of the transport below.
func (rt *headersRoundTripper) CloseIdleConnections() {
	if c, ok := rt.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// roundRobinDial dials a random one of the host's addresses, so that
// connections spread over all of them (round_robin_dns).
func roundRobinDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	return d.DialContext(ctx, network, net.JoinHostPort(addrs[rand.IntN(len(addrs))], port))
}
