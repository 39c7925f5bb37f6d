package agent

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kube-state-push/kube-state-push/series"
)

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// discard is an Appender that counts and drops what it is given.
type discard struct{ n int }

func (d *discard) Append(ss []series.Sample) { d.n += len(ss) }
