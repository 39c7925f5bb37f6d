package parity

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// QueryPrometheus runs an instant query at the current time against
// baseURL's HTTP API and returns the vector it answers. A lookback above zero
// overrides the server's lookback delta, so that series of objects that were
// not marked stale (an agent that stopped) drop out sooner.
func QueryPrometheus(ctx context.Context, client *http.Client, baseURL, query string, lookback time.Duration) ([]Series, error) {
	form := url.Values{"query": {query}}
	if lookback > 0 {
		form.Set("lookback_delta", lookback.String())
	}
	u := strings.TrimSuffix(baseURL, "/") + "/api/v1/query"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", query, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", query, err)
	}
	defer resp.Body.Close()
	out, err := decodeVector(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("query %s: %s: %w", query, resp.Status, err)
	}
	return out, nil
}

// decodeVector decodes an /api/v1/query answer whose result is a vector.
func decodeVector(r io.Reader) ([]Series, error) {
	var body struct {
		Status    string `json:"status"`
		ErrorType string `json:"errorType"`
		Error     string `json:"error"`
		Data      struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(r).Decode(&body); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("%s: %s", body.ErrorType, body.Error)
	}
	if body.Data.ResultType != "vector" {
		return nil, fmt.Errorf("result type %q, want vector", body.Data.ResultType)
	}
	out := make([]Series, 0, len(body.Data.Result))
	for _, res := range body.Data.Result {
		s, ok := res.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("value %v of %v is not a string", res.Value[1], res.Metric)
		}
		// Prometheus writes NaN and ±Inf as "NaN", "+Inf" and "-Inf", which ParseFloat reads.
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("value of %v: %w", res.Metric, err)
		}
		out = append(out, newSeries(res.Metric["__name__"], res.Metric, v))
	}
	return out, nil
}
