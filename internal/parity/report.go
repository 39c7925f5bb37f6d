package parity

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Report is the outcome of one comparison.
type Report struct {
	// KSMSeries is the number of distinct KSM series (after empty labels are
	// dropped) and Matched how many of them Prometheus holds with the same value.
	KSMSeries, Matched int
	// Families holds the differences of each KSM family that has any.
	Families map[string]*FamilyDiff
	// ExtraFamilies holds Prometheus's series of families KSM does not expose.
	ExtraFamilies map[string][]Series
	// DuplicateKSM holds KSM series whose label set repeats an earlier one's
	// once empty labels are dropped; they are not counted.
	DuplicateKSM []Series
	// EmptyFamilies are the families KSM announces without any series: what
	// the comparison could not check.
	EmptyFamilies []string
	// Tries is how many comparisons Run made before this one was kept.
	Tries int
	// Intended counts the KSM series changed, before comparing, by a
	// difference kube-state-push makes on purpose (see intendedDifference).
	Intended int
}

// FamilyDiff is what differs in one family.
type FamilyDiff struct {
	// Missing are KSM series Prometheus does not hold.
	Missing []Series
	// Extra are Prometheus series KSM does not expose.
	Extra []Series
	// Differing are series both hold with different values.
	Differing []ValueDiff
}

// ValueDiff is a series whose value differs.
type ValueDiff struct {
	// Key is the series' name and labels (Series.Key).
	Key             string
	KSM, Prometheus float64
}

func (r *Report) family(name string) *FamilyDiff {
	d, ok := r.Families[name]
	if !ok {
		d = &FamilyDiff{}
		r.Families[name] = d
	}
	return d
}

func (r *Report) sort() {
	for _, d := range r.Families {
		sortSeries(d.Missing)
		sortSeries(d.Extra)
		slices.SortFunc(d.Differing, func(a, b ValueDiff) int { return strings.Compare(a.Key, b.Key) })
	}
	for _, ss := range r.ExtraFamilies {
		sortSeries(ss)
	}
	sortSeries(r.DuplicateKSM)
}

// Percent is the share of KSM series Prometheus holds with the same value.
func (r Report) Percent() float64 {
	if r.KSMSeries == 0 {
		return 0
	}
	return 100 * float64(r.Matched) / float64(r.KSMSeries)
}

// Counts returns the totals of missing, differing and extra series, and the
// number of extra families.
func (r Report) Counts() (missing, differing, extra, extraFamilies int) {
	for _, d := range r.Families {
		missing += len(d.Missing)
		differing += len(d.Differing)
		extra += len(d.Extra)
	}
	return missing, differing, extra, len(r.ExtraFamilies)
}

// OK reports full parity: KSM exposed series, Prometheus holds every one of
// them with the same value, and nothing more of the same resources.
func (r Report) OK() bool {
	return r.KSMSeries > 0 && r.Matched == r.KSMSeries && len(r.Families) == 0 && len(r.ExtraFamilies) == 0
}

// formatPercent prints two decimals without rounding a shortfall up to 100.
func formatPercent(p float64) string {
	return strconv.FormatFloat(math.Floor(p*100)/100, 'f', 2, 64) + "%"
}

// Write prints the summary line, then per family the counts and up to
// examples series of each kind of difference.
func (r Report) Write(w io.Writer, examples int) error {
	var b strings.Builder
	missing, differing, extra, extraFams := r.Counts()
	fmt.Fprintf(&b, "parity %s: %d of %d KSM series matched (%d missing, %d differing); %d extra series, %d extra families; %d tries\n",
		formatPercent(r.Percent()), r.Matched, r.KSMSeries, missing, differing, extra, extraFams, r.Tries)
	names := make([]string, 0, len(r.Families))
	for n := range r.Families {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		d := r.Families[n]
		fmt.Fprintf(&b, "family %s: %d missing, %d differing, %d extra\n", n, len(d.Missing), len(d.Differing), len(d.Extra))
		for _, s := range d.Missing[:min(examples, len(d.Missing))] {
			fmt.Fprintf(&b, "  missing   %s\n", s)
		}
		for _, v := range d.Differing[:min(examples, len(d.Differing))] {
			fmt.Fprintf(&b, "  differing %s ksm=%s prometheus=%s\n", v.Key, formatValue(v.KSM), formatValue(v.Prometheus))
		}
		for _, s := range d.Extra[:min(examples, len(d.Extra))] {
			fmt.Fprintf(&b, "  extra     %s\n", s)
		}
	}
	names = names[:0]
	for n := range r.ExtraFamilies {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ss := r.ExtraFamilies[n]
		fmt.Fprintf(&b, "extra family %s (not exposed by KSM): %d series\n", n, len(ss))
		for _, s := range ss[:min(examples, len(ss))] {
			fmt.Fprintf(&b, "  extra     %s\n", s)
		}
	}
	if len(r.DuplicateKSM) > 0 {
		fmt.Fprintf(&b, "note: %d KSM series repeat another's labels once empty labels are dropped (not counted)\n", len(r.DuplicateKSM))
		for _, s := range r.DuplicateKSM[:min(examples, len(r.DuplicateKSM))] {
			fmt.Fprintf(&b, "  duplicate %s\n", s)
		}
	}
	if r.Intended > 0 {
		fmt.Fprintf(&b, "note: %d KSM series compared without their %s label (never exported by kube-state-push: it holds the Secret's data)\n",
			r.Intended, lastAppliedLabel)
	}
	if len(r.EmptyFamilies) > 0 {
		fmt.Fprintf(&b, "note: %d KSM families have no series, so nothing of them was compared: %s\n",
			len(r.EmptyFamilies), strings.Join(r.EmptyFamilies, " "))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
