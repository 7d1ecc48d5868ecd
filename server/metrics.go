package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/taxiihub/taxiihub/auth"
	"github.com/taxiihub/taxiihub/config"
	"github.com/taxiihub/taxiihub/store"
)

// metrics are the hub's Prometheus metrics, in a registry of its own.
type metrics struct {
	registry       *prometheus.Registry
	requests       *prometheus.CounterVec
	latency        *prometheus.HistogramVec
	ingestFailures *prometheus.CounterVec
	authRefusals   *prometheus.CounterVec
	// series caches the request counter and latency histogram of each
	// route, method and status seen (a bounded set: see observe), which
	// WithLabelValues would otherwise validate and look up per request.
	series sync.Map // seriesKey -> requestSeries
}

type seriesKey struct {
	route, method string
	status        int
}

type requestSeries struct {
	requests prometheus.Counter
	latency  prometheus.Observer
}

func newMetrics(st store.Store) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_http_requests_total", Help: "HTTP requests by route, method and status code.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "taxiihub_http_request_duration_seconds", Help: "Time to answer a request, by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route"}),
		ingestFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_ingest_refused_objects_total", Help: "Posted objects refused (validation or policy), by collection.",
		}, []string{"collection"}),
		authRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "taxiihub_auth_refusals_total", Help: "Failed authentications, by reason.",
		}, []string{"reason"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.ingestFailures, m.authRefusals, storeCollector{st},
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts one answered request. Its labels take few values: the
// route's pattern, a method HTTP defines (any other is "other": a client
// picks the method, and each new value would be a series kept forever),
// the status the hub chose.
func (m *metrics) observe(c echo.Context, start time.Time) {
	key := seriesKey{route: route(c), method: methodLabel(c.Request().Method), status: c.Response().Status}
	if key.route == "" {
		key.route = "unmatched"
	}
	series, ok := m.series.Load(key)
	if !ok {
		series, _ = m.series.LoadOrStore(key, requestSeries{
			requests: m.requests.WithLabelValues(key.route, key.method, strconv.Itoa(key.status)),
			latency:  m.latency.WithLabelValues(key.route),
		})
	}
	s := series.(requestSeries)
	s.requests.Inc()
	s.latency.Observe(time.Since(start).Seconds())
}

// methodLabel is method if HTTP defines it, else "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

// authRefused counts a failed authentication by its reason.
func (m *metrics) authRefused(err error) {
	reason := "internal"
	var r *auth.Refusal
	if errors.As(err, &r) {
		reason = r.Reason
	}
	m.authRefusals.WithLabelValues(reason).Inc()
}

// storeCollector reports the store's sizes at each scrape.
type storeCollector struct{ st store.Store }

var (
	objectsDesc = prometheus.NewDesc("taxiihub_objects", "Object versions stored, by collection.", []string{"collection"}, nil)
	dbSizeDesc  = prometheus.NewDesc("taxiihub_store_bytes", "Size of the store's data file.", nil, nil)
)

func (storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- objectsDesc
	ch <- dbSizeDesc
}

func (sc storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stats, err := sc.st.Stats(ctx)
	if err != nil {
		return
	}
	for id, n := range stats.Objects {
		ch <- prometheus.MustNewConstMetric(objectsDesc, prometheus.GaugeValue, float64(n), id)
	}
	ch <- prometheus.MustNewConstMetric(dbSizeDesc, prometheus.GaugeValue, float64(stats.Bytes))
}

// getMetrics serves /metrics: to principals with the admin role, or
// (metrics.access: loopback) to clients on the hub's own machine.
func (s *Server) getMetrics(c echo.Context) error {
	promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}

// requireMetricsAccess guards /metrics as metrics.access says: callers
// with the admin role, or loopback clients (the client behind a trusted
// proxy, not the proxy).
func (s *Server) requireMetricsAccess(next echo.HandlerFunc) echo.HandlerFunc {
	asAdmin := chain(next, s.authenticate, requireRole(config.RoleAdmin))
	return func(c echo.Context) error {
		if s.config(c).Metrics.Access == "admin" {
			return asAdmin(c)
		}
		if ip := net.ParseIP(clientAddr(c)); ip == nil || !ip.IsLoopback() {
			return newError(http.StatusForbidden, "metrics are served to loopback clients only (metrics.access: loopback)")
		}
		return next(c)
	}
}
