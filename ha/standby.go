package ha

import (
	"context"
	"errors"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// sighting is the Lease as a standby last saw it change.
type sighting struct {
	lease *coordinationv1.Lease
	at    time.Time // when this resourceVersion was first seen, on this clock
}

// expires returns when the holder's lease runs out if it is not renewed: its
// lease duration after the standby first saw the current version. Every write
// to the Lease (a renewal) changes its resourceVersion, and the standby
// watches the Lease, so it sees a renewal a watch delivery after it was
// written, never before.
func (s sighting) expires(fallback time.Duration) time.Time {
	d := fallback
	if sec := s.lease.Spec.LeaseDurationSeconds; sec != nil && *sec > 0 {
		d = time.Duration(*sec) * time.Second
	}
	return s.at.Add(d)
}

func holderOf(l *coordinationv1.Lease) string {
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// await returns once this replica holds the Lease: it created it, took it
// over (free, released or expired; the term has then started), or finds it
// still named after itself (a restart; client-go's renewal starts the term).
// Meanwhile it watches the Lease and takes it over the moment the holder's
// lease duration has passed since the last renewal it saw: unlike client-go's
// elector, which polls every RetryPeriod with jitter both to see renewals and
// to try to take over, a dead leader is replaced about LeaseDuration after
// its last renewal. It returns ctx's error when ctx is done.
func (e *Elector) await(ctx context.Context) error {
	leases := e.client.CoordinationV1().Leases(e.cfg.LeaseNamespace)
	var seen sighting
	failing := false // the last call to the apiserver failed
	pause := func() error {
		t := time.NewTimer(e.cfg.RetryPeriod)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			return nil
		}
	}
	report := func(what string, err error) {
		if !failing {
			e.logger.Warn("Lease unavailable; retrying every retry period", "op", what, "err", err)
		}
		failing = true
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		lease, err := leases.Get(ctx, e.cfg.LeaseName, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
			if e.create(ctx) {
				return nil
			}
			continue // someone else created it, or the apiserver failed: read it
		case err != nil:
			report("get", err)
			if err := pause(); err != nil {
				return err
			}
			continue
		}
		failing = false
		if seen.lease == nil || lease.ResourceVersion != seen.lease.ResourceVersion {
			seen = sighting{lease: lease, at: time.Now()}
		}
		if held, err := e.follow(ctx, &seen, report, pause); held || err != nil {
			return err
		}
	}
}

// follow watches the Lease last seen as *seen, updating it, and takes the
// Lease over once the holder's lease has expired. It returns true once this
// replica holds the Lease, false to read the Lease again (the takeover lost
// the race or failed, or the watch ended), and ctx's error, or pause's, when
// ctx is done. report and pause are await's.
func (e *Elector) follow(ctx context.Context, seen *sighting, report func(string, error), pause func() error) (bool, error) {
	for {
		holder := holderOf(seen.lease)
		e.observe(holder)
		if holder == e.cfg.Identity {
			return true, nil
		}
		if holder == "" || !time.Now().Before(seen.expires(e.cfg.LeaseDuration)) {
			return e.takeOver(ctx, *seen), nil
		}
		next, err := e.watchUntil(ctx, *seen)
		if err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			if !errors.Is(err, errWatchEnded) {
				report("watch", err)
				if err := pause(); err != nil {
					return false, err
				}
			}
			return false, nil
		}
		if next.lease.ResourceVersion != seen.lease.ResourceVersion {
			*seen = next
		}
	}
}

var errWatchEnded = errors.New("watch ended")

// watchUntil watches the Lease from the version in seen and returns the first
// newer version of it, dated now, or seen unchanged once it expires. It
// returns errWatchEnded when the watch ends or the Lease is deleted, and the
// error when the watch cannot start.
func (e *Elector) watchUntil(ctx context.Context, seen sighting) (sighting, error) {
	w, err := e.client.CoordinationV1().Leases(e.cfg.LeaseNamespace).Watch(ctx, metav1.ListOptions{
		FieldSelector:   fields.OneTermEqualSelector("metadata.name", e.cfg.LeaseName).String(),
		ResourceVersion: seen.lease.ResourceVersion,
	})
	if err != nil {
		return seen, err
	}
	defer w.Stop()
	t := time.NewTimer(time.Until(seen.expires(e.cfg.LeaseDuration)))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return seen, ctx.Err()
		case <-t.C:
			return seen, nil
		case ev, ok := <-w.ResultChan():
			if !ok {
				return seen, errWatchEnded
			}
			switch ev.Type {
			case watch.Added, watch.Modified:
				l, ok := ev.Object.(*coordinationv1.Lease)
				if !ok || l.Name != e.cfg.LeaseName {
					continue
				}
				if l.ResourceVersion != seen.lease.ResourceVersion {
					return sighting{lease: l, at: time.Now()}, nil
				}
			case watch.Deleted:
				return seen, errWatchEnded
			case watch.Error:
				// Mostly "too old resource version": read the Lease again. Its
				// version is then unchanged unless it was written meanwhile.
				return seen, errWatchEnded
			}
		}
	}
}

// record returns the Lease record that makes this replica the holder, with
// the lease duration, acquired and renewed at now.
func (e *Elector) record(now time.Time, transitions int32) coordinationv1.LeaseSpec {
	return resourcelock.LeaderElectionRecordToLeaseSpec(&resourcelock.LeaderElectionRecord{
		HolderIdentity:       e.cfg.Identity,
		LeaseDurationSeconds: int(e.cfg.LeaseDuration / time.Second),
		AcquireTime:          metav1.NewTime(now),
		RenewTime:            metav1.NewTime(now),
		LeaderTransitions:    int(transitions),
	})
}

// create creates the Lease held by this replica and starts a term. It reports
// whether it did.
func (e *Elector) create(ctx context.Context) bool {
	start := time.Now()
	_, err := e.client.CoordinationV1().Leases(e.cfg.LeaseNamespace).Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: e.cfg.LeaseName, Namespace: e.cfg.LeaseNamespace},
		Spec:       e.record(start, 0),
	}, metav1.CreateOptions{})
	if err != nil {
		if !apierrors.IsAlreadyExists(err) && ctx.Err() == nil {
			e.logger.Warn("Could not create the Lease", "err", err)
		}
		return false
	}
	e.renewed(start, "")
	return true
}

// takeOver writes this replica into the Lease as last seen, if nobody has
// written it since (resourceVersion precondition), and starts a term. It
// reports whether it did.
func (e *Elector) takeOver(ctx context.Context, seen sighting) bool {
	lease := seen.lease
	start := time.Now()
	prev := holderOf(lease)
	var transitions int32
	if lease.Spec.LeaseTransitions != nil {
		transitions = *lease.Spec.LeaseTransitions
	}
	if prev != "" && prev != e.cfg.Identity {
		transitions++
	}
	l := lease.DeepCopy()
	l.Spec = e.record(start, transitions)
	if _, err := e.client.CoordinationV1().Leases(e.cfg.LeaseNamespace).Update(ctx, l, metav1.UpdateOptions{}); err != nil {
		if !apierrors.IsConflict(err) && ctx.Err() == nil {
			e.logger.Warn("Could not take the Lease over", "err", err)
		}
		return false
	}
	if prev == "" {
		e.logger.Info("Took over the free Lease")
	} else {
		e.logger.Info("Took over the Lease: the leader did not renew it within its lease duration",
			"previous_leader", prev, "last_renewal_seen", start.Sub(seen.at).Round(time.Millisecond).String())
	}
	e.renewed(start, prev)
	return true
}
