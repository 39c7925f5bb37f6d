// Package rwconfig reads the `remote_write:` and `external_labels:` blocks of
// a configuration file in Prometheus's own format, so that a user can paste
// the remote_write block of their Prometheus and have it work.
//
// Parse and Load return a Config: the external labels and one Endpoint per
// remote_write entry, with Prometheus's defaults filled in and every error
// naming the file, line and key. One key is ours, not Prometheus's:
// label_limits (see LabelLimits). An Endpoint builds its HTTP client with
// NewHTTPClient (prometheus/common's TLS, auth and proxy support, SigV4 from
// prometheus/sigv4, Azure AD and Google Cloud IAM from Prometheus's
// storage/remote packages, the custom headers), and Relabeler applies the external
// labels and write_relabel_configs (Prometheus's relabel package) to our
// series.Labels. Nothing here starts goroutines or holds global state, apart
// from the token caches of the Azure and Google libraries behind azuread and
// google_iam (Google refreshes tokens in the background); secrets never appear
// in an error or in an Endpoint's String.
package rwconfig
