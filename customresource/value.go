package customresource

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"
)

// errNil is the conversion error of a missing value without nilIsZero.
var errNil = errors.New("expected number but found nil value")

// toFloat64 converts a value the way KSM's toFloat64 does: numbers as they
// are, bools as 1 and 0, nil as 0 when nilIsZero, strings by parseString;
// anything else (maps, lists, int8, json.Number, ...) is an error.
func toFloat64(v any, nilIsZero bool) (float64, error) {
	switch t := v.(type) {
	case nil:
		if nilIsZero {
			return 0, nil
		}
		return 0, errNil
	case bool:
		if t {
			return 1, nil
		}
		return 0, nil
	case string:
		return parseString(t)
	case uint8:
		return float64(t), nil
	case int:
		return float64(t), nil
	case int32:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint:
		return float64(t), nil
	case uint32:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case float32:
		return float64(t), nil
	case float64:
		return t, nil
	}
	return 0, fmt.Errorf("expected number but was %v", v)
}

// parseString converts a string, trying in KSM's order: true/yes as 1 and
// false/no/unknown as 0 (any case), an RFC 3339 time as Unix seconds, a
// resource quantity ("250m", "5Gi", "1e3") approximately, a percentage
// ("28%") as a fraction, then strconv.ParseFloat ("NaN", "0x1p-2", ...).
func parseString(s string) (float64, error) {
	switch strings.ToLower(s) {
	case "true", "yes":
		return 1, nil
	case "false", "no", "unknown":
		return 0, nil
	}
	// An RFC 3339 time is at least 20 bytes, with a dash after the year:
	// anything else is not tried, which spares the error of a failed parse.
	if len(s) >= len("2006-01-02T15:04:05Z") && s[4] == '-' {
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			return float64(t.Unix()), nil
		}
	}
	if q, err := resource.ParseQuantity(s); err == nil {
		return q.AsApproximateFloat64(), nil
	}
	if len(validation.IsValidPercent(s)) == 0 {
		f, err := strconv.ParseFloat(strings.TrimRight(s, "%"), 64)
		return f / 100, err
	}
	return strconv.ParseFloat(s, 64)
}

// labelValue renders a value read at a path as KSM does (fmt's %v): strings
// as they are, 1 and 1.5 and 1e+21 for numbers, true, map[a:1], [a b].
func labelValue(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprintf("%v", v)
}
