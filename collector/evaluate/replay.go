package evaluate

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/verityhq/verity/collector/pageload"
)

// Outcome is what became of one replayed page load.
type Outcome struct {
	Scenario string `json:"scenario"`
	UA       string `json:"ua"`
	// Refused is the error code of a 4xx answer to the challenge or the
	// event batch ("" when the events were accepted).
	Refused string   `json:"refused,omitempty"`
	Score   uint8    `json:"score"`
	Verdict string   `json:"verdict,omitempty"`
	Class   string   `json:"class,omitempty"`
	Reasons []string `json:"reasons,omitempty"`

	plid [16]byte
}

// job is one sample ready to send.
type job struct {
	scenario *Scenario
	profile  Profile
	ip       netip.Addr
	index    int // within the scenario
}

// batchDelay is how long after its challenge a replayed page load sends its
// first batch: the snippet's one-second batching plus the proof of work.
const batchDelay = 1200 * time.Millisecond

// Replay sends every sample of every scenario to c (which must have been
// started with ForwardedFor and clock) as a page load, `workers` at a time,
// and returns the outcomes in scenario and corpus order.
func Replay(ctx context.Context, c *Collector, clock *Clock, d *Data, workers int) ([]Outcome, error) {
	var jobs []job
	perNetwork := map[string]int{}
	for i := range d.Scenarios {
		s := &d.Scenarios[i]
		for k, p := range d.samples(*s) {
			if s.UA == "headless" {
				p.UA = reChrome.ReplaceAllString(p.UA, "HeadlessChrome/$2.")
			}
			n := perNetwork[s.Network]
			perNetwork[s.Network]++
			jobs = append(jobs, job{scenario: s, profile: p, ip: networks[s.Network](n), index: k})
		}
	}
	out := make([]Outcome, len(jobs))
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		next     = make(chan int)
	)
	for range max(1, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				o, err := pageLoad(ctx, client, c, clock, jobs[i])
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				out[i] = o
			}
		}()
	}
feed:
	for i := range jobs {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// Each page load's verdict is its pageview's (every row of a page load
	// is scored alike).
	byPLID := map[[16]byte]int{}
	for i := range out {
		if out[i].Refused == "" {
			byPLID[out[i].plid] = i
		}
	}
	for _, e := range c.Events() {
		if i, ok := byPLID[[16]byte(e.PageLoadID)]; ok && e.Type == "pageview" {
			out[i].Score, out[i].Verdict, out[i].Class, out[i].Reasons = e.Score, e.Verdict, e.Class, e.Reasons
			delete(byPLID, [16]byte(e.PageLoadID))
		}
	}
	for _, i := range byPLID {
		return nil, fmt.Errorf("evaluate: %s: events accepted but no pageview stored for %q", out[i].Scenario, out[i].UA)
	}
	return out, nil
}

// pageLoad does what the snippet does for one sample: get a challenge,
// solve its proof of work natively, and send the first batch (a pageview
// and the signal blob) from the sample's address with its headers.
func pageLoad(ctx context.Context, client *http.Client, c *Collector, clock *Clock, j job) (Outcome, error) {
	s, p := j.scenario, j.profile
	o := Outcome{Scenario: s.Name, UA: p.UA}
	hdr := headers(s.Headers, p)
	hdr.Set("X-Forwarded-For", j.ip.String())
	page := fmt.Sprintf("%s/p/%d?src=eval", origin, j.index)
	var ch pageload.Challenge
	status, code, err := post(ctx, client, c.URL+"/api/challenge", hdr, pageload.ChallengeRequest{Site: c.Site.PublicKey, URL: page}, &ch)
	if err != nil || status != http.StatusOK {
		o.Refused = code
		return o, err
	}
	plid, n, err := ch.Solve()
	if err != nil {
		return o, fmt.Errorf("evaluate: challenge for %q: %w", p.UA, err)
	}
	o.plid = plid
	clock.Advance(batchDelay)
	sig := signals(s.Signals, p, j.index)
	lang, screenW := p.Language, p.Screen[0]
	if sig == nil { // a client that does not run the snippet invents less
		lang, screenW = "", 0
	}
	batch := pageload.Batch{Token: ch.Token, N: n, SolveMS: 20 + j.index%60, Seq: 1, Signals: sig, Events: []pageload.Event{{
		Type: "pageview", URL: page, Referrer: []string{"", "https://www.google.com/"}[j.index%2],
		Title: "Product", ScreenW: screenW, Lang: lang, TZ: "Europe/Berlin",
	}}}
	status, code, err = post(ctx, client, c.URL+"/api/event", hdr, batch, nil)
	if err != nil || status != http.StatusAccepted {
		o.Refused = code
	}
	return o, err
}

// post sends body as JSON with hdr. A 4xx answer is a refusal: its status
// and error code come back with a nil error. Anything else unexpected (a
// 5xx, a transport error) is an error: the evaluation cannot go on.
func post(ctx context.Context, client *http.Client, url string, hdr http.Header, body, answer any) (status int, code string, err error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return 0, "", err
	}
	req.Header = hdr.Clone()
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("evaluate: POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", fmt.Errorf("evaluate: POST %s: %w", url, err)
	}
	switch {
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return resp.StatusCode, pageload.ErrorCode(resp.StatusCode, raw), nil
	case resp.StatusCode >= 300:
		return resp.StatusCode, "", fmt.Errorf("evaluate: POST %s: %d %s", url, resp.StatusCode, bytes.TrimSpace(raw))
	}
	if answer != nil {
		if err := json.Unmarshal(raw, answer); err != nil {
			return resp.StatusCode, "", fmt.Errorf("evaluate: POST %s: answer: %w", url, err)
		}
	}
	return resp.StatusCode, "", nil
}
