// Package metrics defines kxds' Prometheus metrics and implements the small
// metric interfaces of the other packages, so none of them imports Prometheus.
package metrics

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics is registered on its own registry (no global state).
type Metrics struct {
	Registry *prometheus.Registry

	streams        prometheus.Gauge
	requests       *prometheus.CounterVec
	nacks          *prometheus.CounterVec
	pushes         *prometheus.CounterVec
	services       prometheus.Gauge
	endpoints      prometheus.Gauge
	aliasConflicts prometheus.Gauge
	rejected       prometheus.Counter
	configReloads  *prometheus.CounterVec
	ready          prometheus.Gauge
	unknownTargets prometheus.Counter
	problems       *prometheus.CounterVec
	log            *slog.Logger
}

// New creates and registers every metric, with Go and process collectors.
// log receives the events that operators should see in logs too.
func New(log *slog.Logger) *Metrics {
	m := &Metrics{
		Registry:       prometheus.NewRegistry(),
		streams:        prometheus.NewGauge(prometheus.GaugeOpts{Name: "kxds_xds_streams", Help: "Open xDS streams."}),
		requests:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kxds_xds_requests_total", Help: "xDS requests received (including ACKs and NACKs), by type URL."}, []string{"type"}),
		nacks:          prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kxds_xds_nacks_total", Help: "xDS responses rejected by clients, by type URL."}, []string{"type"}),
		pushes:         prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kxds_xds_pushes_total", Help: "xDS responses sent, by type URL."}, []string{"type"}),
		services:       prometheus.NewGauge(prometheus.GaugeOpts{Name: "kxds_services", Help: "Services known to kxds."}),
		endpoints:      prometheus.NewGauge(prometheus.GaugeOpts{Name: "kxds_endpoints", Help: "Endpoints known to kxds, serving or not."}),
		aliasConflicts: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kxds_target_name_conflicts", Help: "Target names claimed by more than one service (the first by namespace/name serves)."}),
		rejected:       prometheus.NewCounter(prometheus.CounterOpts{Name: "kxds_discovery_rejected_total", Help: "Service updates from discovery rejected as invalid."}),
		configReloads:  prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kxds_config_reloads_total", Help: "Loads of svc_config.json, by result (success or error)."}, []string{"result"}),
		ready:          prometheus.NewGauge(prometheus.GaugeOpts{Name: "kxds_ready", Help: "1 once discovery has synced and xDS is being served."}),
		unknownTargets: prometheus.NewCounter(prometheus.CounterOpts{Name: "kxds_unknown_target_requests_total", Help: "Times a client was told that a target it dialed does not exist."}),
		problems:       prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kxds_discovery_problems_total", Help: "Problems found in discovered services (invalid annotation, missing port, config conflict), by reason."}, []string{"reason"}),
		log:            log,
	}
	m.Registry.MustRegister(m.streams, m.requests, m.nacks, m.pushes, m.services, m.endpoints,
		m.aliasConflicts, m.rejected, m.configReloads, m.ready, m.unknownTargets, m.problems,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.configReloads.WithLabelValues("success")
	m.configReloads.WithLabelValues("error")
	return m
}

func (m *Metrics) StreamOpened()                { m.streams.Inc() }
func (m *Metrics) StreamClosed()                { m.streams.Dec() }
func (m *Metrics) Request(typeURL string)       { m.requests.WithLabelValues(typeURL).Inc() }
func (m *Metrics) NACK(typeURL string)          { m.nacks.WithLabelValues(typeURL).Inc() }
func (m *Metrics) Pushed(typeURL string, _ int) { m.pushes.WithLabelValues(typeURL).Inc() }
func (m *Metrics) Services(n int)               { m.services.Set(float64(n)) }
func (m *Metrics) Endpoints(n int)              { m.endpoints.Set(float64(n)) }
func (m *Metrics) AliasConflicts(n int)         { m.aliasConflicts.Set(float64(n)) }
func (m *Metrics) Rejected()                    { m.rejected.Inc() }
func (m *Metrics) UnknownTarget(name string) {
	m.unknownTargets.Inc()
	m.log.Info("client dialed a target that does not exist; told it so", "target", name)
}

// DiscoveryProblem counts a problem a discovery source reported.
func (m *Metrics) DiscoveryProblem(reason string) { m.problems.WithLabelValues(reason).Inc() }

func (m *Metrics) SetReady() { m.ready.Set(1) }

// ConfigLoaded counts a load of the config file.
func (m *Metrics) ConfigLoaded(err error) {
	if err != nil {
		m.configReloads.WithLabelValues("error").Inc()
	} else {
		m.configReloads.WithLabelValues("success").Inc()
	}
}
