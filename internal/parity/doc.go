// Package parity compares what kube-state-metrics (KSM) exposes with what a
// Prometheus holds: it scrapes KSM's /metrics once, asks Prometheus for every
// series of the same resources with one instant query, and reports, family by
// family, the KSM series that are missing in Prometheus, those whose value
// differs, and the Prometheus series KSM does not have. Empty-valued labels are
// dropped from KSM's series first, as Prometheus does on ingest. Time-valued
// families are compared within a tolerance. Run retries a few times, because
// objects keep changing between the scrape and the query. The package owns no
// goroutines; every call blocks until done or until its context ends.
package parity
