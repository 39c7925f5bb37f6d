package collectors

import (
	apiresource "k8s.io/apimachinery/pkg/api/resource"
)

// optionalInt32 is a series holding *p, or none when p is nil (an unset
// optional count such as spec.replicas).
func optionalInt32(p *int32) []Metric {
	if p == nil {
		return nil
	}
	return one(float64(*p))
}

// ksmQuantityFloat converts a quantity the way KSM's convertValueToFloat64 does:
// milli-precision (so "500m" is 0.5), unless the value is too large for
// MilliValue, in which case the whole value is taken.
func ksmQuantityFloat(q *apiresource.Quantity) float64 {
	if v := q.Value(); v > apiresource.MaxMilliValue {
		return float64(v)
	}
	return float64(q.MilliValue()) / 1000
}
