package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// promSample is one series of an instant query result.
type promSample struct {
	Labels map[string]string
	Value  float64
}

func (s promSample) String() string {
	var keys []string
	for k := range s.Labels {
		if k != "__name__" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(s.Labels["__name__"])
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", k, s.Labels[k])
	}
	b.WriteString("} ")
	b.WriteString(strconv.FormatFloat(s.Value, 'g', -1, 64))
	return b.String()
}

// query runs an instant PromQL query against the receiver, now.
func query(q string) ([]promSample, error) { return queryAt(q, time.Now()) }

// queryAt runs an instant PromQL query at time at.
func queryAt(q string, at time.Time) ([]promSample, error) {
	return queryURL(http.DefaultClient, env.promURL, "", "", q, at)
}

// queryURL runs an instant PromQL query against the Prometheus at base.
func queryURL(c *http.Client, base, user, pass, q string, at time.Time) ([]promSample, error) {
	req, err := http.NewRequest(http.MethodGet, base+"/api/v1/query?query="+url.QueryEscape(q)+
		"&time="+strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64), nil)
	if err != nil {
		return nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %q: %w: %s", q, err, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, r.Error)
	}
	out := make([]promSample, 0, len(r.Data.Result))
	for _, res := range r.Data.Result {
		s, _ := res.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: value %q: %w", q, s, err)
		}
		out = append(out, promSample{Labels: res.Metric, Value: v})
	}
	return out, nil
}

// queryOne runs q and expects exactly one series with value want.
func queryValue(q string, want float64) error {
	res, err := query(q)
	if err != nil {
		return err
	}
	if len(res) != 1 {
		return fmt.Errorf("%s: %d series, want 1: %v", q, len(res), res)
	}
	if res[0].Value != want {
		return fmt.Errorf("%s = %v, want %v", q, res[0].Value, want)
	}
	return nil
}

// scrapeCounter sums the samples of a metric on a Prometheus-format /metrics page
// whose line starts with prefix (a name, optionally with a label matcher start).
func scrapeCounter(metricsURL, prefix string) (float64, error) {
	resp, err := http.Get(metricsURL)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	var sum float64
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, prefix) {
			continue
		}
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", metricsURL, line, err)
		}
		sum += v
	}
	return sum, nil
}

// noSeries is nil when the selector matches no series now: they have ended.
func noSeries(selector string) error {
	res, err := query(selector)
	if err != nil {
		return err
	}
	if len(res) > 0 {
		return fmt.Errorf("%d series still answer, e.g. %v", len(res), res[0])
	}
	return nil
}

// queryRaw returns the raw sample timestamps of the one series q matches
// over the window before now.
func queryRaw(q string, window time.Duration) ([]time.Time, error) {
	res, err := queryMatrix(http.DefaultClient, env.promURL, fmt.Sprintf("%s[%ds]", q, int(window.Seconds())))
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("%s: %d series", q, len(res))
	}
	return res[0], nil
}

// queryMatrix runs an instant query of a range selector against the query API
// at base and returns the raw sample timestamps of each series it matches.
func queryMatrix(c *http.Client, base, q string) ([][]time.Time, error) {
	resp, err := c.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Values [][2]any `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return nil, fmt.Errorf("query %q: %w", q, err)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", q, r.Error)
	}
	out := make([][]time.Time, 0, len(r.Data.Result))
	for _, res := range r.Data.Result {
		var ts []time.Time
		for _, v := range res.Values {
			f, _ := v[0].(float64)
			ts = append(ts, time.UnixMilli(int64(f*1000)))
		}
		out = append(out, ts)
	}
	return out, nil
}
