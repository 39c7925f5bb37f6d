package main

import (
	"bufio"
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

var httpClient = &http.Client{Timeout: 60 * time.Second}

// query runs an instant PromQL query and returns the values of its vector.
func query(ctx context.Context, base, q string) ([]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(q), nil)
	if err != nil {
		return nil, err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("query %s: %s: %w", q, resp.Status, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", q, r.Error)
	}
	out := make([]float64, 0, len(r.Data.Result))
	for _, s := range r.Data.Result {
		str, _ := s.Value[1].(string)
		v, err := strconv.ParseFloat(str, 64)
		if err != nil {
			return nil, fmt.Errorf("query %s: value %v", q, s.Value[1])
		}
		out = append(out, v)
	}
	return out, nil
}

// scalar runs a query that yields at most one value; no value is 0.
func scalar(ctx context.Context, base, q string) (float64, error) {
	vs, err := query(ctx, base, q)
	if err != nil || len(vs) == 0 {
		return 0, err
	}
	return vs[0], nil
}

// metricSum scrapes a /metrics page and sums the samples of the named metric
// (all label sets).
func metricSum(ctx context.Context, metricsURL, name string) (float64, error) {
	ms, err := scrape(ctx, metricsURL)
	if err != nil {
		return 0, err
	}
	sum, found := sumOf(ms, name, nil)
	if !found {
		return 0, fmt.Errorf("%s: no metric %s", metricsURL, name)
	}
	return sum, nil
}

// metricSample is one line of a text exposition: name, labels and value.
type metricSample struct {
	name   string
	labels map[string]string
	value  float64
}

// sumOf sums the samples named name whose labels match (nil: all), and says
// whether there was any.
func sumOf(ms []metricSample, name string, match func(labels map[string]string) bool) (sum float64, found bool) {
	for _, m := range ms {
		if m.name == name && (match == nil || match(m.labels)) {
			sum, found = sum+m.value, true
		}
	}
	return sum, found
}

// scrape reads a /metrics page in the Prometheus text format.
func scrape(ctx context.Context, metricsURL string) ([]metricSample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return nil, err
	}
	// The text format, not OpenMetrics or protobuf.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := httpClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", metricsURL, resp.Status)
	}
	ms, err := parseExposition(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", metricsURL, err)
	}
	return ms, nil
}

// parseExposition parses the Prometheus text format: comments and blank lines
// are skipped, a timestamp after the value is ignored.
func parseExposition(r io.Reader) ([]metricSample, error) {
	var out []metricSample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		m, err := parseSampleLine(line)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func parseSampleLine(line string) (metricSample, error) {
	m := metricSample{}
	i := strings.IndexAny(line, "{ \t")
	if i <= 0 {
		return m, fmt.Errorf("bad sample line %q", line)
	}
	m.name, line = line[:i], line[i:]
	if line[0] == '{' {
		m.labels = map[string]string{}
		line = line[1:]
		for {
			line = strings.TrimLeft(line, " ,")
			if line == "" {
				return m, fmt.Errorf("unterminated labels in %s", m.name)
			}
			if line[0] == '}' {
				line = line[1:]
				break
			}
			eq := strings.IndexByte(line, '=')
			if eq <= 0 {
				return m, fmt.Errorf("bad label in %s: %q", m.name, line)
			}
			key := strings.TrimSpace(line[:eq])
			line = strings.TrimLeft(line[eq+1:], " \t")
			if line == "" || line[0] != '"' {
				return m, fmt.Errorf("bad label %s in %s", key, m.name)
			}
			var val strings.Builder
			j := 1
			for ; j < len(line) && line[j] != '"'; j++ {
				c := line[j]
				if c == '\\' && j+1 < len(line) {
					j++
					switch line[j] {
					case 'n':
						c = '\n'
					default:
						c = line[j]
					}
				}
				val.WriteByte(c)
			}
			if j >= len(line) {
				return m, fmt.Errorf("unterminated label value in %s", m.name)
			}
			m.labels[key] = val.String()
			line = line[j+1:]
		}
	}
	f := strings.Fields(line)
	if len(f) == 0 {
		return m, fmt.Errorf("no value for %s", m.name)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return m, fmt.Errorf("value of %s: %q", m.name, f[0])
	}
	m.value = v
	return m, nil
}

// poll calls f every interval until it returns true or an error, or the
// deadline passes.
func poll(ctx context.Context, interval, timeout time.Duration, f func() (bool, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		ok, err := f()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(interval):
		}
	}
}
