package remotewrite

import (
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"
)

// FuzzResponseHeaders parses a receiver's answer headers: the 2.0 Written
// counts and Retry-After. Neither may panic; counts are never negative, and
// a Retry-After is never a negative wait nor one shorter than the seconds it
// asks for.
func FuzzResponseHeaders(f *testing.F) {
	f.Add("10", "0", "0", "5")
	f.Add("", "", "", "")
	f.Add("-1", "x", "9223372036854775807", "Wed, 21 Oct 2015 07:28:00 GMT")
	f.Add("1e3", " 7", "+3", "Fri, 31 Dec 9999 23:59:59 GMT")
	f.Add("0", "", "", "9223372036")           // the largest seconds a Duration holds
	f.Add("0", "", "", "9223372037")           // one more: overflowed to a negative wait
	f.Add("0", "", "", "18446744074")          // overflowed to a short wait
	f.Add("0", "", "", "9223372036854775807")  // overflowed to -1s
	f.Add("0", "", "", "99999999999999999999") // past int64: not a number, not a date
	f.Add("0", "", "", "-5")
	f.Fuzz(func(t *testing.T, samples, histograms, exemplars, retry string) {
		h := http.Header{}
		h.Set(headerSamplesWritten, samples)
		h.Set(headerHistogramsWritten, histograms)
		h.Set(headerExemplarsWritten, exemplars)
		h.Set("Retry-After", retry)
		s := parseWriteStats(h)
		if s.Samples < 0 || s.Histograms < 0 || s.Exemplars < 0 {
			t.Fatalf("negative counts %+v", s)
		}
		confirmed := false
		for _, v := range []string{samples, histograms, exemplars} {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
				confirmed = true
			}
		}
		if s.Confirmed != confirmed {
			t.Fatalf("Confirmed = %v for %q %q %q", s.Confirmed, samples, histograms, exemplars)
		}

		d := retryAfter(h.Get("Retry-After"))
		if d < 0 {
			t.Fatalf("Retry-After %q: negative wait %s", retry, d)
		}
		if secs, err := strconv.ParseInt(h.Get("Retry-After"), 10, 64); err == nil && secs > 0 {
			want := time.Duration(math.MaxInt64)
			if secs <= math.MaxInt64/int64(time.Second) {
				want = time.Duration(secs) * time.Second
			}
			if d != want {
				t.Fatalf("Retry-After %q: wait %s, want %s", retry, d, want)
			}
		}
	})
}
