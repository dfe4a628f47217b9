// Package pageload is the collector's browser protocol (docs/protocol.md)
// as a native client speaks it: the challenge answer, an event batch and
// its events, solving the proof of work, and reading an error answer. The
// evaluation harness (collector/evaluate) and the load generator use it;
// the collector does not (its own types decode strictly and validate).
package pageload

import (
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/verityhq/verity/abuse"
)

// ChallengeRequest is the body of POST /api/challenge.
type ChallengeRequest struct {
	Site string `json:"site"`
	URL  string `json:"url"`
}

// Challenge is the collector's answer to a challenge request (the parts a
// client needs).
type Challenge struct {
	Token string `json:"token"`
	PoW   struct {
		Max    uint32 `json:"max"`
		Target string `json:"target"`
		PLID   string `json:"plid"`
	} `json:"pow"`
}

// Batch is the body of POST /api/event.
type Batch struct {
	Token   string   `json:"token"`
	N       uint32   `json:"n"`
	SolveMS int      `json:"solve_ms"`
	Seq     int      `json:"seq"`
	Events  []Event  `json:"events"`
	Signals *Signals `json:"signals,omitempty"`
}

// Event is the union of every event type's fields; unset ones are left
// out, as the snippet leaves them out.
type Event struct {
	Type     string            `json:"type"`
	URL      string            `json:"url"`
	Referrer string            `json:"referrer,omitempty"`
	Title    string            `json:"title,omitempty"`
	ScreenW  int               `json:"screen_w,omitempty"`
	Lang     string            `json:"lang,omitempty"`
	TZ       string            `json:"tz,omitempty"`
	MS       int64             `json:"ms,omitempty"`
	Scroll   int               `json:"scroll,omitempty"`
	Name     string            `json:"name,omitempty"`
	Props    map[string]string `json:"props,omitempty"`
	Href     string            `json:"href,omitempty"`
	Value    float64           `json:"value,omitempty"`
	Checks   map[string][]int  `json:"checks,omitempty"`
}

// Signals is the first batch's blob of browser signals.
type Signals struct {
	Webdriver bool     `json:"webdriver"`
	Globals   []string `json:"globals"`
	Langs     int      `json:"langs"`
	SoftGL    bool     `json:"sw_gl"`
	Win       []int    `json:"win"`
	Perm      string   `json:"perm,omitempty"`
}

// Puzzle decodes the challenge's proof of work.
func (c *Challenge) Puzzle() (plid, target [16]byte, err error) {
	p, err1 := hex.DecodeString(c.PoW.PLID)
	t, err2 := hex.DecodeString(c.PoW.Target)
	if err1 != nil || err2 != nil || len(p) != 16 || len(t) != 16 {
		return plid, target, fmt.Errorf("pageload: challenge has a bad proof of work %+v", c.PoW)
	}
	return [16]byte(p), [16]byte(t), nil
}

// Solve finds the challenge's n natively, as the snippet does in the
// browser: the first n ≤ max with SHA-256(plid ‖ le32(n))[:16] == target.
func (c *Challenge) Solve() (plid [16]byte, n uint32, err error) {
	plid, target, err := c.Puzzle()
	if err != nil {
		return plid, 0, err
	}
	for n = 0; ; n++ {
		if abuse.CheckPoW(plid, n, target, c.PoW.Max) {
			return plid, n, nil
		}
		if n == c.PoW.Max { // before n++ can wrap at MaxUint32
			return plid, 0, fmt.Errorf("pageload: no n ≤ %d solves the challenge", c.PoW.Max)
		}
	}
}

// ErrorCode is the stable code of an error answer ({"error": {"code"}}),
// or "http_<status>" when the body carries none.
func ErrorCode(status int, body []byte) string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error.Code == "" {
		return fmt.Sprintf("http_%d", status)
	}
	return e.Error.Code
}
