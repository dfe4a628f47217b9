package collector

import (
	"net/http"
	"net/http/pprof"
)

// PprofHandler serves Go's profiles under /debug/pprof/ (CPU, heap,
// allocations, goroutines, ...). `verity serve` runs it on
// collector.pprof_listen, a loopback address of its own, never on the
// collector's public listener.
func PprofHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
