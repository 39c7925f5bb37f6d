package ha

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// trackingLock wraps the Lease lock that client-go's elector drives, to learn
// of every successful acquisition and renewal the moment it happens (and when
// its request started), and to end the term before a release is written.
// client-go calls it from one goroutine at a time (the one in Elector.Run).
type trackingLock struct {
	resourcelock.Interface
	e *Elector
	// holder is the holder in the Lease as last read.
	holder string
}

var _ resourcelock.Interface = (*trackingLock)(nil)

// Get reads the Lease.
func (l *trackingLock) Get(ctx context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	rec, raw, err := l.Interface.Get(ctx)
	if err != nil {
		return rec, raw, err
	}
	l.holder = rec.HolderIdentity
	l.e.observe(rec.HolderIdentity)
	return rec, raw, nil
}

// Create creates the Lease, held by this replica.
func (l *trackingLock) Create(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	start := time.Now()
	if err := l.Interface.Create(ctx, ler); err != nil {
		return err
	}
	l.holder = ler.HolderIdentity
	if ler.HolderIdentity == l.Identity() {
		l.e.renewed(start, "")
	}
	return nil
}

// Update writes the Lease: a renewal or takeover when the record names this
// replica, a release when it names nobody.
func (l *trackingLock) Update(ctx context.Context, ler resourcelock.LeaderElectionRecord) error {
	if ler.HolderIdentity != l.Identity() {
		// A release. Stop sending before anyone can take over, and never
		// release a Lease another replica holds: client-go decides to release
		// from what it saw last, which may be older than the Lease just read.
		l.e.endTerm("releasing the Lease", false)
		if l.holder != l.Identity() {
			return fmt.Errorf("not releasing Lease %s: it is held by %q", l.Describe(), l.holder)
		}
	}
	start := time.Now()
	if err := l.Interface.Update(ctx, ler); err != nil {
		return err
	}
	prev := l.holder
	l.holder = ler.HolderIdentity
	if ler.HolderIdentity == l.Identity() {
		l.e.renewed(start, prev)
	} else {
		l.e.logger.Info("Released the Lease")
	}
	return nil
}
