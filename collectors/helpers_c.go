package collectors

// optionalInt32 is a series holding *p, or none when p is nil (an unset
// optional count such as spec.replicas).
func optionalInt32(p *int32) []Metric {
	if p == nil {
		return nil
	}
	return one(float64(*p))
}
