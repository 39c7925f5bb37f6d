package remotewrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers of a Remote-Write 1.0 request.
const (
	headerVersion = "X-Prometheus-Remote-Write-Version"
	version1      = "0.1.0"
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

// Store sends one snappy-compressed WriteRequest. It returns nil on 2xx, a
// *RecoverableError for what is worth retrying, and otherwise an error wrapping
// a *StatusError: the request was refused and retrying will not help.
func (c *Client) Store(ctx context.Context, body []byte) error {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set(headerVersion, version1)
	req.Header.Set("User-Agent", c.userAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) && ctx.Err() == context.Canceled {
			return err
		}
		return &RecoverableError{Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	serr := &StatusError{Code: resp.StatusCode, Message: strings.TrimSpace(string(msg))}
	if resp.StatusCode/100 == 5 || resp.StatusCode == http.StatusTooManyRequests {
		return &RecoverableError{Err: serr, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	}
	return serr
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(v string) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s > 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}
