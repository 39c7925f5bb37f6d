package ha

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateMode(t *testing.T) {
	f := func(mode string, sharded bool, wantErr string) {
		t.Helper()
		err := ValidateMode(mode, sharded)
		switch {
		case wantErr == "" && err != nil:
			t.Errorf("ValidateMode(%q, %v) = %v", mode, sharded, err)
		case wantErr != "" && (err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), wantErr)):
			t.Errorf("ValidateMode(%q, %v) = %v, want ErrInvalidConfig containing %q", mode, sharded, err, wantErr)
		}
	}
	for _, sharded := range []bool{false, true} {
		f("", sharded, "")
		f(ModeNone, sharded, "")
		f(ModeLeader, sharded, "")
		f("active-passive", sharded, `--ha-mode="active-passive": want none, leader or replica-labels`)
	}
	f(ModeReplicaLabels, false, "")
	f(ModeReplicaLabels, true, "cannot be combined with sharding")
}
