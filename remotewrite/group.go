package remotewrite

import "github.com/kube-state-push/kube-state-push/series"

// grouping puts the samples of one request in series order: the samples of a
// label set together, series in order of first appearance, each series'
// samples in the order given. Both encoders build their TimeSeries from it.
type grouping struct {
	index  map[series.Key]int
	first  []int // per series, the index of its first sample
	counts []int // per series, its number of samples
	order  []int // sample indexes, series after series
	of     []int // per sample, its series (-1: no labels, not sent)
	fill   []int

	// What the requests use, for trim: series (index's entries), samples.
	useSeries, useSamples usage
}

func newGrouping() *grouping { return &grouping{index: make(map[series.Key]int)} }

// group groups ss; the result is valid until the next call.
func (g *grouping) group(ss []series.Sample) {
	clear(g.index)
	g.first, g.counts, g.of = g.first[:0], g.counts[:0], grow(g.of, len(ss))
	for i, s := range ss {
		if s.Labels.IsEmpty() {
			g.of = append(g.of, -1)
			continue
		}
		k := s.Labels.Key()
		j, ok := g.index[k]
		if !ok {
			j = len(g.first)
			g.index[k] = j
			g.first = append(g.first, i)
			g.counts = append(g.counts, 0)
		}
		g.counts[j]++
		g.of = append(g.of, j)
	}
	// fill[j] is where series j's next sample goes in order.
	g.fill = grow(g.fill, len(g.counts))
	off := 0
	for _, c := range g.counts {
		g.fill = append(g.fill, off)
		off += c
	}
	g.order = grow(g.order, off)[:off]
	for i, j := range g.of {
		if j >= 0 {
			g.order[g.fill[j]] = i
			g.fill[j]++
		}
	}
	g.useSeries.note(len(g.first))
	g.useSamples.note(len(ss))
}

// trim lets go of the room the recent requests did not need (see trimEvery).
func (g *grouping) trim() {
	g.index = trimMap(g.index, &g.useSeries)
	g.first, g.counts, g.fill = trimSlice(g.first, g.useSeries), trimSlice(g.counts, g.useSeries), trimSlice(g.fill, g.useSeries)
	g.of, g.order = trimSlice(g.of, g.useSamples), trimSlice(g.order, g.useSamples)
	g.useSeries.next()
	g.useSamples.next()
}

// samplesOf returns the indexes of series j's samples, given the offset of
// its first one in order (the sum of the counts before it).
func (g *grouping) samplesOf(j, off int) []int { return g.order[off : off+g.counts[j]] }
