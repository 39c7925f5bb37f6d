package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxErrorBody bounds how much of a receiver's error answer is kept.
const maxErrorBody = 512

// Client POSTs encoded write requests to one endpoint.
type Client struct {
	url       string
	http      *http.Client
	userAgent string
	timeout   time.Duration
}

// NewClient returns a client for url. timeout bounds each request.
func NewClient(url, userAgent string, timeout time.Duration, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{}
	}
	return &Client{url: url, http: hc, userAgent: userAgent, timeout: timeout}
}

// RecoverableError is a failure worth retrying: a network error, a 5xx or a 429.
type RecoverableError struct {
	Err error
	// RetryAfter is the delay the receiver asked for, or 0.
	RetryAfter time.Duration
}

func (e *RecoverableError) Error() string { return e.Err.Error() }
func (e *RecoverableError) Unwrap() error { return e.Err }

// StatusError is an answer outside 2xx, with the start of the receiver's message.
type StatusError struct {
	Code    int
	Message string
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("server returned HTTP status %d", e.Code)
	}
	return fmt.Sprintf("server returned HTTP status %d: %s", e.Code, e.Message)
}

// WriteStats is what a Remote-Write 2.0 receiver reports it wrote, from the
// X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written headers of
// its answer, whatever the status.
type WriteStats struct {
	Samples, Histograms, Exemplars int64
	// Confirmed reports whether any of the three headers was present: a 2.0
	// receiver always sends them, a 1.x receiver never does.
	Confirmed bool
}

// UnsupportedMessageError means the receiver does not take the protobuf
// message sent: it answered 415 Unsupported Media Type, or answered a 2.0
// request with 2xx but without the Written headers. The latter is how 1.x
// receivers that ignore Content-Type (Prometheus 2.x, VictoriaMetrics) answer a
// 2.0 body they decoded as an empty 1.0 request, and the 2.0 spec asks to treat
// it as a 415. Nothing of the request was written.
type UnsupportedMessageError struct {
	Message ProtobufMessage
	// Err is the *StatusError of a 415, or says that the headers were missing.
	Err error
}

func (e *UnsupportedMessageError) Error() string {
	return fmt.Sprintf("receiver does not accept %s: %v", e.Message, e.Err)
}

func (e *UnsupportedMessageError) Unwrap() error { return e.Err }

// errNoWrittenHeaders is the cause of an UnsupportedMessageError for a 2xx.
var errNoWrittenHeaders = errors.New("answered 2xx without X-Prometheus-Remote-Write-*-Written headers, so it ignored the 2.0 body")

// Store sends one snappy-compressed body holding msg. It returns the
// receiver's WriteStats, and an error: nil on 2xx (for a 2.0 request, 2xx with
// the Written headers), an *UnsupportedMessageError when the receiver does not
// take msg, a *RecoverableError for what is worth retrying, and otherwise an
// error wrapping a *StatusError: the request was refused and retrying will not
// help.
func (c *Client) Store(ctx context.Context, body []byte, msg ProtobufMessage) (WriteStats, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return WriteStats{}, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", msg.contentType())
	req.Header.Set(headerVersion, msg.version())
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) && ctx.Err() == context.Canceled {
			return WriteStats{}, err
		}
		return WriteStats{}, &RecoverableError{Err: err}
	}
	defer resp.Body.Close()
	stats := parseWriteStats(resp.Header)
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		if msg == MessageV2 && !stats.Confirmed {
			return stats, &UnsupportedMessageError{Message: msg, Err: errNoWrittenHeaders}
		}
		return stats, nil
	}
	m, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	serr := &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(m))}
	switch {
	case resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests:
		return stats, &RecoverableError{Err: serr, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	case resp.StatusCode == http.StatusUnsupportedMediaType:
		return stats, &UnsupportedMessageError{Message: msg, Err: serr}
	}
	return stats, serr
}

// parseWriteStats reads the Written headers. A header that is absent or not a
// number counts as 0 and does not confirm.
func parseWriteStats(h http.Header) WriteStats {
	var s WriteStats
	for _, f := range []struct {
		name string
		dst  *int64
	}{{headerSamplesWritten, &s.Samples}, {headerHistogramsWritten, &s.Histograms}, {headerExemplarsWritten, &s.Exemplars}} {
		n, err := strconv.ParseInt(h.Get(f.name), 10, 64)
		if err == nil && n >= 0 {
			*f.dst, s.Confirmed = n, true
		}
	}
	return s
}

// retryAfter parses a Retry-After header: seconds or an HTTP date. Seconds
// past what a time.Duration holds (292 years) give the longest Duration.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s > 0 {
		if s > math.MaxInt64/int64(time.Second) {
			return math.MaxInt64
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
