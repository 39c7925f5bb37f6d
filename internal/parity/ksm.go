package parity

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Exposition is one scrape of KSM: every family it announced (with a HELP or
// TYPE line, even when it has no series) and its series, empty-valued labels
// dropped.
type Exposition struct {
	// Families maps each announced family name to its series.
	Families map[string][]Series
}

// Series returns the number of series in the exposition.
func (e Exposition) Series() int {
	n := 0
	for _, ss := range e.Families {
		n += len(ss)
	}
	return n
}

// FamilyNames returns the announced family names, sorted.
func (e Exposition) FamilyNames() []string {
	names := make([]string, 0, len(e.Families))
	for n := range e.Families {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ScrapeKSM fetches url (KSM's /metrics) in the text format and parses it.
func ScrapeKSM(ctx context.Context, client *http.Client, url string) (Exposition, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return Exposition{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	// KSM speaks text 0.0.4 or OpenMetrics; ask for the former.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := client.Do(req)
	if err != nil {
		return Exposition{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return Exposition{}, fmt.Errorf("scrape %s: %s: %s", url, resp.Status, body)
	}
	e, err := ParseExposition(resp.Body)
	if err != nil {
		return Exposition{}, fmt.Errorf("scrape %s: %w", url, err)
	}
	return e, nil
}

// ParseExposition parses the Prometheus text format. A family announced by a
// HELP or TYPE line without samples is kept with no series: KSM announces
// every family of the resources it watches, which is how the families it
// does not expose at all are told apart.
func ParseExposition(r io.Reader) (Exposition, error) {
	text, err := io.ReadAll(r)
	if err != nil {
		return Exposition{}, fmt.Errorf("read exposition: %w", err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(bytes.NewReader(text))
	if err != nil {
		return Exposition{}, fmt.Errorf("parse exposition: %w", err)
	}
	e := Exposition{Families: make(map[string][]Series, len(mfs))}
	for _, name := range announcedFamilies(text) {
		e.Families[name] = []Series{}
	}
	for name, mf := range mfs {
		ss := make([]Series, 0, len(mf.GetMetric()))
		for _, m := range mf.GetMetric() {
			pairs := make(map[string]string, len(m.GetLabel()))
			for _, lp := range m.GetLabel() {
				pairs[lp.GetName()] = lp.GetValue()
			}
			ss = append(ss, newSeries(name, pairs, metricValue(m)))
		}
		e.Families[name] = ss
	}
	return e, nil
}

// announcedFamilies returns the names on the "# HELP name ..." and
// "# TYPE name ..." lines of an exposition.
func announcedFamilies(text []byte) []string {
	var names []string
	for line := range bytes.Lines(text) {
		rest, ok := bytes.CutPrefix(line, []byte("# TYPE "))
		if !ok {
			rest, ok = bytes.CutPrefix(line, []byte("# HELP "))
		}
		if !ok {
			continue
		}
		if f := bytes.Fields(rest); len(f) > 0 {
			names = append(names, string(f[0]))
		}
	}
	return names
}

// metricValue returns the value of a gauge, counter or untyped sample (the
// only kinds KSM writes).
func metricValue(m *dto.Metric) float64 {
	switch {
	case m.GetGauge() != nil:
		return m.GetGauge().GetValue()
	case m.GetCounter() != nil:
		return m.GetCounter().GetValue()
	default:
		return m.GetUntyped().GetValue()
	}
}

// FromSeries makes an exposition of series read back from a receiver, so that
// Compare can take one receiver's series as the reference for another's: each
// series' name is its family, and only families with series are announced.
func FromSeries(ss []Series) Exposition {
	e := Exposition{Families: map[string][]Series{}}
	for _, s := range ss {
		e.Families[s.Name] = append(e.Families[s.Name], s)
	}
	return e
}
