package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/script"
)

// The host names the browser is made to resolve to the stub (see
// hostRules): the site, the page that links to it, and the collector.
const (
	siteHost      = "www.example.com"
	referrerHost  = "blog.example.org"
	collectorHost = "collector.example"
)

// powMax is the proof-of-work bound the stub hands out, as the collector's
// default tier does: real work, a few milliseconds of it.
const powMax = 2000

// challengeAnswer is what the collector answers to POST /api/challenge
// (docs/protocol.md). The stub fills it in as the collector does, with the
// lists of the script package; the collector's own type is unexported and
// lives behind its storage and key setup, which a capture does not need.
type challengeAnswer struct {
	V         int               `json:"v"`
	Token     string            `json:"token"`
	TTL       int               `json:"ttl"`
	PoW       powAnswer         `json:"pow"`
	Checks    map[string]string `json:"checks"`
	Globals   string            `json:"globals"`
	Downloads string            `json:"downloads"`
}

type powAnswer struct {
	Max    uint32 `json:"max"`
	Target string `json:"target"`
	PLID   string `json:"plid"`
}

// stub is the web as the browser sees it during a capture: the test pages
// on siteHost and referrerHost, and a collector on collectorHost that
// serves the snippet, answers challenges and keeps every request body
// byte for byte.
type stub struct {
	pages map[string]string // "host/path" -> HTML

	mu         sync.Mutex
	challenges [][]byte               // challenge bodies, in arrival order
	tokens     []string               // the token answered to each challenge
	batches    map[string]map[int]req // token -> seq -> the batch
	err        error                  // the first thing the snippet got wrong
}

// req is one event batch as it arrived.
type req struct {
	body   []byte
	beacon bool // sent by sendBeacon (see markBeacons)
}

func newStub(pages map[string]string) *stub {
	return &stub{pages: pages, batches: map[string]map[int]req{}}
}

// serve serves the stub on ln until ctx ends.
func (s *stub) serve(ctx context.Context, ln net.Listener) {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
}

func (s *stub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host, _, err := net.SplitHostPort(r.Host)
	if err != nil {
		host = r.Host
	}
	if host == collectorHost {
		s.collector(w, r)
		return
	}
	page, ok := s.pages[host+r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = io.WriteString(w, page)
}

func (s *stub) collector(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Access-Control-Allow-Origin", r.Header.Get("Origin"))
	w.Header().Set("Vary", "Origin")
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/s/v1.js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		_, _ = w.Write(script.V1())
	case r.Method == http.MethodPost && r.URL.Path == "/api/challenge":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer, err := s.challenge(body)
		if err != nil {
			s.fail(err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(answer)
	case r.Method == http.MethodPost && r.URL.Path == "/api/event":
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.batch(body, r.URL.Query().Has("beacon")); err != nil {
			s.fail(err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"accepted":1}`)
	default:
		http.NotFound(w, r)
	}
}

// challenge records a challenge body and makes its answer: a random
// 90-byte token and page-load id, and a real proof of work whose secret n
// is uniform in 0..powMax, as the collector's issuer makes it.
func (s *stub) challenge(body []byte) (challengeAnswer, error) {
	var raw [90]byte
	var plid [16]byte
	n, err := rand.Int(rand.Reader, big.NewInt(powMax+1))
	if err != nil {
		return challengeAnswer{}, err
	}
	if _, err := rand.Read(raw[:]); err != nil {
		return challengeAnswer{}, err
	}
	if _, err := rand.Read(plid[:]); err != nil {
		return challengeAnswer{}, err
	}
	target := abuse.PowTarget(plid, uint32(n.Uint64()))
	answer := challengeAnswer{
		V: 1, Token: base64.RawURLEncoding.EncodeToString(raw[:]), TTL: 1800,
		PoW:     powAnswer{Max: powMax, Target: hex.EncodeToString(target[:]), PLID: hex.EncodeToString(plid[:])},
		Checks:  script.DefaultChecks(),
		Globals: script.AutomationGlobals, Downloads: script.DownloadExtensions,
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.challenges = append(s.challenges, body)
	s.tokens = append(s.tokens, answer.Token)
	return answer, nil
}

// batch records an event batch under its token and seq. Only what the
// stub needs to file it is decoded; the shape is golden_test.go's to check.
func (s *stub) batch(body []byte, beacon bool) error {
	var head struct {
		Token string `json:"token"`
		Seq   int    `json:"seq"`
	}
	if err := json.Unmarshal(body, &head); err != nil {
		return fmt.Errorf("event batch: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	byseq, ok := s.batches[head.Token]
	if !ok {
		byseq = map[int]req{}
		s.batches[head.Token] = byseq
	}
	if _, dup := byseq[head.Seq]; dup {
		return fmt.Errorf("event batch seq %d came twice", head.Seq)
	}
	byseq[head.Seq] = req{body, beacon}
	return nil
}

func (s *stub) fail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
}

// waitBatch waits until batch seq of the load-th page load (0 first) has
// arrived, and returns it.
func (s *stub) waitBatch(ctx context.Context, load, seq int) (req, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		err := s.err
		var b req
		var ok bool
		if load < len(s.tokens) {
			b, ok = s.batches[s.tokens[load]][seq]
		}
		s.mu.Unlock()
		switch {
		case err != nil:
			return req{}, err
		case ok:
			return b, nil
		}
		select {
		case <-ctx.Done():
			return req{}, fmt.Errorf("waiting for batch %d of page load %d: %w", seq, load+1, ctx.Err())
		case <-tick.C:
		}
	}
}
