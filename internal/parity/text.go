package parity

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// The text mode compares two expositions byte for byte, as a scraper reads
// them: KSM's /metrics and kube-state-push's (--metrics-address). An
// exposition is a sequence of family blocks, each its HELP and TYPE lines
// followed by its sample lines. The blocks must come in the same order with
// the same header lines, and each block must hold the same lines; only the
// order of the lines within a block may differ, since KSM writes objects in
// map order. Empty-valued labels count, as every other byte does.

// TextOptions configures RunText.
type TextOptions struct {
	// KSMURL and MetricsURL are the two /metrics endpoints: KSM's and
	// kube-state-push's.
	KSMURL, MetricsURL string
	// Accept is the Accept header of both scrapes; empty asks for text 0.0.4.
	Accept string
	// Tries is the most comparisons RunText makes (at least one); Interval
	// the pause between two.
	Tries    int
	Interval time.Duration
	// Client is the HTTP client; nil means one with a 30 s timeout.
	Client *http.Client
}

// TextReport is the outcome of one text comparison.
type TextReport struct {
	// KSMLines is the number of KSM's sample lines and Matched how many of
	// them kube-state-push wrote too, in the same family block.
	KSMLines, Matched int
	// Families holds the blocks that differ, in KSM's order (then the extra
	// ones).
	Families []*TextFamilyDiff
	// Order is empty when both write the same family blocks in the same
	// order; else it tells where they part.
	Order string
	// ContentType holds KSM's and kube-state-push's Content-Type when they differ.
	ContentType []string
	// EOF tells a difference in the "# EOF" line of OpenMetrics.
	EOF string
	// KSMFamilies is the number of KSM's family blocks.
	KSMFamilies int
	// Intended counts KSM's lines compared without the label kube-state-push
	// leaves out on purpose (see intendedDifference).
	Intended int
	// Tries is how many comparisons were made before this one was kept.
	Tries int
}

// TextFamilyDiff is what differs in one family block.
type TextFamilyDiff struct {
	Name string
	// Header holds KSM's and kube-state-push's header lines when they differ.
	Header [][]string
	// Missing are KSM's lines kube-state-push does not write; Extra the
	// reverse. A block only one side writes has all its lines here.
	Missing, Extra []string
	// OnlyKSM and OnlyOurs mark a block only one side writes.
	OnlyKSM, OnlyOurs bool
}

// OK reports byte-level parity: KSM wrote lines, every block is the same and
// in the same order, and the content types agree.
func (r TextReport) OK() bool {
	return r.KSMLines > 0 && r.Matched == r.KSMLines && len(r.Families) == 0 && r.Order == "" &&
		len(r.ContentType) == 0 && r.EOF == ""
}

// Percent is the share of KSM's sample lines kube-state-push writes alike.
func (r TextReport) Percent() float64 {
	if r.KSMLines == 0 {
		return 0
	}
	return 100 * float64(r.Matched) / float64(r.KSMLines)
}

// textBlock is one family's block of an exposition.
type textBlock struct {
	name   string
	header []string
	lines  []string
}

// splitBlocks cuts an exposition into family blocks. A block starts at a
// HELP or TYPE line of a new name, or at a sample line of a name other than
// the block's (a family whose headers were written earlier). It reports
// whether the text ends with "# EOF".
func splitBlocks(text []byte) (blocks []*textBlock, eof bool) {
	var cur *textBlock
	for raw := range bytes.Lines(text) {
		line := strings.TrimSuffix(string(raw), "\n")
		if line == "" {
			continue
		}
		if line == "# EOF" {
			eof = true
			continue
		}
		if rest, ok := strings.CutPrefix(line, "# "); ok {
			_, rest, _ = strings.Cut(rest, " ") // HELP or TYPE
			name, _, _ := strings.Cut(rest, " ")
			if cur == nil || cur.name != name || len(cur.lines) > 0 {
				cur = &textBlock{name: name}
				blocks = append(blocks, cur)
			}
			cur.header = append(cur.header, line)
			continue
		}
		name := line
		if i := strings.IndexAny(line, "{ "); i >= 0 {
			name = line[:i]
		}
		if cur == nil || cur.name != name {
			cur = &textBlock{name: name}
			blocks = append(blocks, cur)
		}
		cur.lines = append(cur.lines, line)
	}
	return blocks, eof
}

// CompareText compares KSM's exposition with kube-state-push's.
func CompareText(ksm, ours []byte) TextReport {
	kb, keof := splitBlocks(ksm)
	ob, oeof := splitBlocks(ours)
	r := TextReport{KSMFamilies: len(kb)}
	switch {
	case keof && !oeof:
		r.EOF = "KSM ends with # EOF, kube-state-push does not"
	case !keof && oeof:
		r.EOF = "kube-state-push ends with # EOF, KSM does not"
	}
	kn, on := blockNames(kb), blockNames(ob)
	r.Order = orderDiff(kn, on)
	km, om := blocksByName(kb), blocksByName(ob)
	if k := km["kube_secret_annotations"]; k != nil {
		for i, l := range k.lines {
			if d, ok := dropTextLabel(l, lastAppliedLabel); ok {
				k.lines[i] = d
				r.Intended++
			}
		}
	}
	seen := map[string]bool{}
	for _, name := range append(kn, on...) {
		if seen[name] {
			continue
		}
		seen[name] = true
		if d := r.compareFamily(name, km[name], om[name]); d != nil {
			r.Families = append(r.Families, d)
		}
	}
	return r
}

func blockNames(bs []*textBlock) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.name
	}
	return out
}

// orderDiff describes where the family blocks' order differs, or is "".
func orderDiff(kn, on []string) string {
	if slices.Equal(kn, on) {
		return ""
	}
	i := 0
	for i < len(kn) && i < len(on) && kn[i] == on[i] {
		i++
	}
	at := func(ns []string) string {
		if i < len(ns) {
			return ns[i]
		}
		return "(end)"
	}
	off := 0
	for j := range max(len(kn), len(on)) {
		if j >= len(kn) || j >= len(on) || kn[j] != on[j] {
			off++
		}
	}
	return fmt.Sprintf("family block %d: KSM writes %s, kube-state-push %s (%d blocks out of place)", i+1, at(kn), at(on), off)
}

// blocksByName indexes blocks by name; a name written in several blocks is
// taken as one.
func blocksByName(bs []*textBlock) map[string]*textBlock {
	m := map[string]*textBlock{}
	for _, b := range bs {
		if e, ok := m[b.name]; ok {
			e.header = append(e.header, b.header...)
			e.lines = append(e.lines, b.lines...)
			continue
		}
		c := *b
		m[b.name] = &c
	}
	return m
}

// compareFamily compares the blocks of one family (either may be nil),
// counting its lines into r, and returns their differences, or nil.
func (r *TextReport) compareFamily(name string, k, o *textBlock) *TextFamilyDiff {
	d := &TextFamilyDiff{Name: name}
	switch {
	case o == nil:
		d.OnlyKSM, d.Missing = true, k.lines
		r.KSMLines += len(k.lines)
	case k == nil:
		d.OnlyOurs, d.Extra = true, o.lines
	default:
		if !slices.Equal(k.header, o.header) {
			d.Header = [][]string{k.header, o.header}
		}
		r.KSMLines += len(k.lines)
		missing, extra := lineDiff(k.lines, o.lines)
		r.Matched += len(k.lines) - len(missing)
		d.Missing, d.Extra = missing, extra
	}
	if d.OnlyKSM || d.OnlyOurs || d.Header != nil || len(d.Missing) > 0 || len(d.Extra) > 0 {
		return d
	}
	return nil
}

// dropTextLabel returns the sample line without the label name (as the text
// format writes it, after another label), and whether it had it.
func dropTextLabel(line, name string) (string, bool) {
	i := strings.Index(line, ","+name+`="`)
	if i < 0 {
		return line, false
	}
	j := i + len(name) + 3 // past the opening quote
	for j < len(line) && line[j] != '"' {
		if line[j] == '\\' {
			j++
		}
		j++
	}
	if j >= len(line) {
		return line, false
	}
	return line[:i] + line[j+1:], true
}

// lineDiff returns the lines of a not in b and those of b not in a, as
// multisets, sorted.
func lineDiff(a, b []string) (onlyA, onlyB []string) {
	count := make(map[string]int, len(a))
	for _, l := range a {
		count[l]++
	}
	for _, l := range b {
		if count[l] > 0 {
			count[l]--
			continue
		}
		onlyB = append(onlyB, l)
	}
	for _, l := range a {
		if count[l] > 0 {
			count[l]--
			onlyA = append(onlyA, l)
		}
	}
	slices.Sort(onlyA)
	slices.Sort(onlyB)
	return onlyA, onlyB
}

// RunText scrapes both endpoints at once and compares them, until a
// comparison finds parity or Tries were made, and returns the last report.
// Objects change between two scrapes (lease renewals, node heartbeats), so a
// difference gets another chance. An error is returned only when the last try
// could not scrape.
func RunText(ctx context.Context, o TextOptions) (TextReport, error) {
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	tries := max(o.Tries, 1)
	var (
		r   TextReport
		err error
	)
	for i := 1; i <= tries; i++ {
		if i > 1 {
			t := time.NewTimer(o.Interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return r, fmt.Errorf("compare: %w", ctx.Err())
			case <-t.C:
			}
		}
		r, err = compareTextOnce(ctx, client, o)
		r.Tries = i
		if err == nil && r.OK() {
			return r, nil
		}
	}
	return r, err
}

func compareTextOnce(ctx context.Context, client *http.Client, o TextOptions) (TextReport, error) {
	var (
		wg         sync.WaitGroup
		bodies     [2][]byte
		types      [2]string
		errs       [2]error
		urls       = [2]string{o.KSMURL, o.MetricsURL}
		acceptWant = o.Accept
	)
	if acceptWant == "" {
		acceptWant = "text/plain;version=0.0.4"
	}
	for i := range urls {
		wg.Go(func() { bodies[i], types[i], errs[i] = scrapeText(ctx, client, urls[i], acceptWant) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return TextReport{}, err
		}
	}
	r := CompareText(bodies[0], bodies[1])
	if types[0] != types[1] {
		r.ContentType = []string{types[0], types[1]}
	}
	return r, nil
}

// scrapeText fetches an exposition as it is written (Go's transport
// decompresses a gzipped answer it asked for itself).
func scrapeText(ctx context.Context, client *http.Client, url, accept string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", fmt.Errorf("scrape %s: %w", url, err)
	}
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("scrape %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("scrape %s: %s: %.512s", url, resp.Status, body)
	}
	return body, resp.Header.Get("Content-Type"), nil
}

// Write prints the summary line, then per differing family block what
// differs, with up to examples lines of each kind.
func (r TextReport) Write(w io.Writer, examples int) error {
	var b strings.Builder
	missing, extra := 0, 0
	for _, d := range r.Families {
		missing += len(d.Missing)
		extra += len(d.Extra)
	}
	fmt.Fprintf(&b, "text parity %s: %d of %d KSM lines written alike in %d family blocks (%d missing, %d extra lines, %d blocks differ); %d tries\n",
		formatPercent(r.Percent()), r.Matched, r.KSMLines, r.KSMFamilies, missing, extra, len(r.Families), r.Tries)
	if r.Order != "" {
		fmt.Fprintf(&b, "order differs: %s\n", r.Order)
	}
	if len(r.ContentType) == 2 {
		fmt.Fprintf(&b, "content type differs: KSM %q, kube-state-push %q\n", r.ContentType[0], r.ContentType[1])
	}
	if r.EOF != "" {
		fmt.Fprintf(&b, "end differs: %s\n", r.EOF)
	}
	if r.Intended > 0 {
		fmt.Fprintf(&b, "note: %d KSM lines compared without their %s label (never exported by kube-state-push: it holds the Secret's data)\n",
			r.Intended, lastAppliedLabel)
	}
	for _, d := range r.Families {
		switch {
		case d.OnlyKSM:
			fmt.Fprintf(&b, "family %s: written by KSM only (%d lines)\n", d.Name, len(d.Missing))
		case d.OnlyOurs:
			fmt.Fprintf(&b, "family %s: written by kube-state-push only (%d lines)\n", d.Name, len(d.Extra))
		default:
			fmt.Fprintf(&b, "family %s: %d missing, %d extra lines\n", d.Name, len(d.Missing), len(d.Extra))
		}
		if d.Header != nil {
			fmt.Fprintf(&b, "  header KSM  %q\n  header ours %q\n", d.Header[0], d.Header[1])
		}
		for _, l := range d.Missing[:min(examples, len(d.Missing))] {
			fmt.Fprintf(&b, "  missing %s\n", l)
		}
		for _, l := range d.Extra[:min(examples, len(d.Extra))] {
			fmt.Fprintf(&b, "  extra   %s\n", l)
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
