package app

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/kxds/kxds/frontend/channelpool"
)

// Handler serves the frontend. Create it with New and Close it when done to
// release its gRPC channels.
type Handler struct {
	cfg    Config
	pool   *channelpool.Pool
	mux    *http.ServeMux
	logger *slog.Logger
}

// New validates cfg, filling in defaults, and returns a Handler. Channels are
// created on the first request for each service.
func New(cfg Config) (*Handler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("frontend config: %w", err)
	}
	pool, err := channelpool.New(cfg.TargetTemplate, cfg.DialOptions...)
	if err != nil {
		return nil, fmt.Errorf("frontend config: %w", err)
	}
	h := &Handler{cfg: cfg, pool: pool, mux: http.NewServeMux(), logger: cfg.Logger}
	h.mux.HandleFunc("GET /{$}", h.serveUsage)
	// More specific than /{service}, so a service cannot be named healthz.
	h.mux.HandleFunc("GET /healthz", serveHealthz)
	h.mux.HandleFunc("GET /{service}", h.serveService)
	return h, nil
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mux.ServeHTTP(w, r)
}

// Close closes every gRPC channel. Requests after Close fail with 503.
func (h *Handler) Close() error {
	return h.pool.Close()
}

// Channels is the number of gRPC channels created so far, one per service.
func (h *Handler) Channels() int {
	return h.pool.Len()
}

func (h *Handler) serveUsage(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := renderUsage(w, h.cfg); err != nil {
		h.logger.Debug("writing usage", "err", err)
	}
}

func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

func (h *Handler) serveService(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	service := r.PathValue("service")
	if err := validateServiceName(service); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := h.rpcCount(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f, err := negotiateFormat(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}

	conn, err := h.pool.Get(service)
	if err != nil {
		h.logger.Error("no channel", "service", service, "err", err)
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	res := newResult(service, h.pool.Target(service), n)
	code := fanout(r.Context(), conn, n, h.cfg.RPCTimeout, res)
	httpCode := httpStatus(code)
	h.logger.Info("fanout", "service", service, "rpcs", n, "replies", res.succeeded(),
		"counts", res.Counts, "errors", res.Errors, "status", httpCode, "duration", time.Since(start))

	w.Header().Set("Vary", "Accept")
	w.Header().Set("Cache-Control", "no-store")
	render := renderText
	switch f {
	case formatText:
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	case formatJSON:
		w.Header().Set("Content-Type", "application/json")
		render = renderJSON
	case formatHTML:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		render = renderHTML
	}
	w.WriteHeader(httpCode)
	if err := render(w, res); err != nil {
		h.logger.Debug("writing response", "service", service, "err", err)
	}
}

// rpcCount reads ?n=, defaulting to the configured count.
func (h *Handler) rpcCount(r *http.Request) (int, error) {
	q := r.URL.Query()
	if !q.Has("n") {
		return h.cfg.DefaultRPCs, nil
	}
	raw := q.Get("n")
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > MaxRPCs {
		return 0, fmt.Errorf("invalid n %q: want a whole number of RPCs from 1 to %d", raw, MaxRPCs)
	}
	return n, nil
}
