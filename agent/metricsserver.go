package agent

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/munnerz/goautoneg"

	"github.com/kube-state-push/kube-state-push/snapshot"
)

// The --metrics-address server: /metrics as kube-state-metrics v2.20 serves it
// (pkg/metricshandler), from the snapshot, for running side by side with KSM or
// for a scraper instead of remote write.

// Content types, as KSM answers them (prometheus/common v0.70 expfmt).
const (
	contentTypeText        = "text/plain; version=0.0.4; charset=utf-8"
	contentTypeOpenMetrics = "application/openmetrics-text; version=%s; charset=utf-8; escaping=%s"
)

// negotiate picks the exposition format for an Accept header as KSM does
// (expfmt.NegotiateIncludingOpenMetrics, then anything but OpenMetrics is
// text): the first clause, by quality, that names text 0.0.4, OpenMetrics
// 0.0.1 or 1.0.0, or protobuf (which KSM does not write: text). The escaping
// of OpenMetrics is the last one named up to that clause (underscores if none).
func negotiate(accept string) (contentType string, openMetrics bool) {
	escaping := "underscores"
	for _, ac := range goautoneg.ParseAccept(accept) {
		switch e := ac.Params["escaping"]; e {
		case "allow-utf-8", "underscores", "dots", "values":
			escaping = e
		}
		ver := ac.Params["version"]
		switch mt := ac.Type + "/" + ac.SubType; {
		case mt == "application/vnd.google.protobuf" && ac.Params["proto"] == "io.prometheus.client.MetricFamily":
			switch ac.Params["encoding"] {
			case "delimited", "text", "compact-text":
				return contentTypeText, false
			}
		case mt == "text/plain" && (ver == "0.0.4" || ver == ""):
			return contentTypeText, false
		case mt == "application/openmetrics-text" && (ver == "" || ver == "0.0.1" || ver == "1.0.0"):
			if ver != "1.0.0" {
				ver = "0.0.1"
			}
			return fmt.Sprintf(contentTypeOpenMetrics, ver, escaping), true
		}
	}
	return contentTypeText, false
}

// acceptsGzip reports whether an Accept-Encoding header names gzip, as KSM
// (and promhttp) read it.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		part = strings.TrimSpace(part)
		if part == "gzip" || strings.HasPrefix(part, "gzip;") {
			return true
		}
	}
	return false
}

// resourceFilter returns KSM's ?resources= and ?exclude_resources= filters
// (comma-separated, repeatable) as one predicate, nil when neither is given.
// An empty ?resources= keeps nothing, as in KSM.
func resourceFilter(q url.Values) func(string) bool {
	parse := func(params []string) map[string]bool {
		if params == nil {
			return nil
		}
		m := map[string]bool{}
		for _, p := range params {
			for _, r := range strings.Split(p, ",") {
				if r = strings.TrimSpace(r); r != "" {
					m[r] = true
				}
			}
		}
		return m
	}
	include, exclude := parse(q["resources"]), parse(q["exclude_resources"])
	if include == nil && exclude == nil {
		return nil
	}
	return func(r string) bool {
		return (include == nil || include[r]) && !exclude[r]
	}
}

var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// metricsHandler serves the snapshot's exposition. With gzipOK it compresses
// the answer for a client that accepts gzip (KSM's --enable-gzip-encoding).
func metricsHandler(snap *snapshot.Snapshot, gzipOK bool, logger *slog.Logger) http.Handler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		contentType, openMetrics := negotiate(r.Header.Get("Accept"))
		w.Header().Set("Content-Type", contentType)
		var gz *gzip.Writer
		var dst io.Writer = w
		if gzipOK && acceptsGzip(r.Header.Get("Accept-Encoding")) {
			w.Header().Set("Content-Encoding", "gzip")
			gz = gzipWriters.Get().(*gzip.Writer)
			gz.Reset(w)
			defer gzipWriters.Put(gz)
			dst = gz
		}
		err := snap.WriteExposition(dst, openMetrics, resourceFilter(r.URL.Query()))
		if gz != nil && err == nil {
			err = gz.Close()
		}
		if err != nil {
			logger.Debug("Writing /metrics failed", "err", err, "remote", r.RemoteAddr)
		}
	})
}

// listenMetrics serves /metrics on the --metrics-address, or nothing when it
// is empty.
func (a *agent) listenMetrics() (*http.Server, error) {
	if a.cfg.MetricsAddress == "" {
		return nil, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", metricsHandler(a.snap, a.cfg.EnableGZIPEncoding, a.logger))
	ln, err := net.Listen("tcp", a.cfg.MetricsAddress)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("--metrics-address: %w", err)}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("Metrics server stopped", "err", err)
		}
	}()
	a.logger.Info("Serving KSM-compatible metrics", "address", ln.Addr().String())
	return srv, nil
}

// validateAddress checks a listen address such as :8080 or 127.0.0.1:8080
// before anything starts; one that cannot be listened on fails when the
// server starts, with the same kind of error.
func validateAddress(flag, addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if ae, ok := errors.AsType[*net.AddrError](err); ok {
		return configErrorf("%s %q: %s (want host:port or :port, such as :8080)", flag, addr, ae.Err)
	} else if err != nil {
		return configErrorf("%s %q: %v", flag, addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil || port == "" {
		return configErrorf("%s %q: bad port %q (want host:port or :port, such as :8080)", flag, addr, port)
	}
	return nil
}
