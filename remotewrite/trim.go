package remotewrite

// The encoders keep their buffers and maps between requests, so that a
// request allocates nothing. Kept as they are, they would stay sized for the
// largest request ever sent (the burst of the first sync, or of a backlog):
// memory the agent no longer uses, and maps whose clearing costs per request
// what their largest size was. Every trimEvery requests, each buffer or map
// whose room is over trimSlack times the largest use of those requests is let
// go and regrows to what the requests need.
const (
	trimEvery = 64
	trimSlack = 4
	trimFloor = 4096 // elements (bytes for byte buffers) always kept
)

// usage is the largest use of one buffer or map: over the requests since the
// last trim (recent), and since the map was made (held; Go tells no map's
// room).
type usage struct{ recent, held int }

func (u *usage) note(n int) {
	u.recent = max(u.recent, n)
	u.held = max(u.held, n)
}

// excess reports whether room is over what the recent requests used.
func (u usage) excess(room int) bool { return room > trimFloor && room > trimSlack*u.recent }

// next starts the window of the next requests.
func (u *usage) next() { u.recent = 0 }

// trimSlice returns s, or nil when its room is in excess of u.
func trimSlice[T any](s []T, u usage) []T {
	if u.excess(cap(s)) {
		return nil
	}
	return s
}

// trimMap returns m, or a new map sized for the recent requests when the
// largest m has held is in excess of them.
func trimMap[K comparable, V any](m map[K]V, u *usage) map[K]V {
	if u.excess(u.held) {
		u.held = u.recent
		return make(map[K]V, u.recent)
	}
	return m
}

// trimClock says when trimEvery requests have been encoded.
type trimClock struct{ n int }

func (c *trimClock) due() bool {
	c.n++
	if c.n < trimEvery {
		return false
	}
	c.n = 0
	return true
}
