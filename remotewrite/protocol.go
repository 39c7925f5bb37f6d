package remotewrite

import (
	"fmt"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// ProtobufMessage names the protobuf message a queue sends, with the values of
// Prometheus's remote_write protobuf_message setting.
type ProtobufMessage string

// The two messages of Remote-Write.
const (
	// MessageV1 is Remote-Write 1.0's prometheus.WriteRequest, the default, as in
	// Prometheus: every receiver takes it.
	MessageV1 ProtobufMessage = "prometheus.WriteRequest"
	// MessageV2 is Remote-Write 2.0's io.prometheus.write.v2.Request: a symbols
	// table and per-series metadata. A queue configured with it falls back to
	// MessageV1, for good, when the receiver turns out not to take it.
	MessageV2 ProtobufMessage = "io.prometheus.write.v2.Request"
)

// Headers of a remote-write request and of a 2.0 receiver's answer.
const (
	headerVersion           = "X-Prometheus-Remote-Write-Version"
	headerSamplesWritten    = "X-Prometheus-Remote-Write-Samples-Written"
	headerHistogramsWritten = "X-Prometheus-Remote-Write-Histograms-Written"
	headerExemplarsWritten  = "X-Prometheus-Remote-Write-Exemplars-Written"
	version1                = "0.1.0"
	version2                = "2.0.0"
	contentTypeV1           = "application/x-protobuf"
	contentTypeV2           = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
)

// Validate returns an error unless m is MessageV1, MessageV2 or empty (which
// means MessageV1).
func (m ProtobufMessage) Validate() error {
	switch m {
	case "", MessageV1, MessageV2:
		return nil
	}
	return fmt.Errorf("unknown remote-write protobuf message %q (want %q or %q)", string(m), MessageV1, MessageV2)
}

// contentType is the Content-Type of a request carrying m. Toward 1.x
// receivers the bare media type is used, as the 2.0 spec asks.
func (m ProtobufMessage) contentType() string {
	if m == MessageV2 {
		return contentTypeV2
	}
	return contentTypeV1
}

// version is the X-Prometheus-Remote-Write-Version of a request carrying m.
func (m ProtobufMessage) version() string {
	if m == MessageV2 {
		return version2
	}
	return version1
}

// MetadataFunc returns the metadata of a metric family: its type ("gauge",
// "counter", "info", "stateset", "histogram", "gaugehistogram", "summary" or
// "unknown"), help and unit ("" when none). ok is false for a name it does not
// know; such series go without metadata. The shards call it concurrently, once
// per family and request, so it must be safe for concurrent use and cheap.
type MetadataFunc func(metricName string) (typ, help, unit string, ok bool)

// metricTypeV2 maps a type name to Remote-Write 2.0's enum; unknown names give
// METRIC_TYPE_UNSPECIFIED.
func metricTypeV2(typ string) writev2.Metadata_MetricType {
	return writev2.FromMetadataType(model.MetricType(typ))
}

// metricTypeV1 maps a type name to Remote-Write 1.0's enum; unknown names give
// UNKNOWN.
func metricTypeV1(typ string) prompb.MetricMetadata_MetricType {
	return prompb.FromMetadataType(model.MetricType(typ))
}
