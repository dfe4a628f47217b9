package collector

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/verityhq/verity/script"
)

// The wire format is documented in docs/protocol.md and pinned by the
// snippet's golden payloads (script/testdata/golden); the limits are the
// script package's, which a test there keeps equal to the snippet's.
const (
	maxEventsPerPageLoad = script.MaxEventsPerToken
	maxBatchEvents       = script.MaxEventsPerBatch
	maxURL               = script.MaxURLLen
	maxTitle             = script.MaxTitleLen
	maxShort             = script.MaxShortLen
	maxName              = script.MaxNameLen
	maxProps             = script.MaxProps
	maxKey               = script.MaxPropKeyLen
	maxValue             = script.MaxPropValueLen
	maxGlobals           = script.MaxGlobals
	maxSolveMS           = 10 * 60 * 1000
	maxEventOffsetMS     = 24 * 60 * 60 * 1000
)

type challengeRequest struct {
	Site string `json:"site"`
	URL  string `json:"url"`
}

type eventRequest struct {
	Token   string       `json:"token"`
	N       *uint32      `json:"n"`
	SolveMS int64        `json:"solve_ms"`
	Seq     uint32       `json:"seq"`
	Events  []wireEvent  `json:"events"`
	Signals *wireSignals `json:"signals"`
}

// wireEvent is the union of every event type's fields; which ones may be
// set depends on Type (checked by validate).
type wireEvent struct {
	Type     string            `json:"type"`
	URL      string            `json:"url"`
	Referrer string            `json:"referrer"`
	Title    string            `json:"title"`
	ScreenW  int               `json:"screen_w"`
	Lang     string            `json:"lang"`
	TZ       string            `json:"tz"`
	MS       int64             `json:"ms"`
	Scroll   int               `json:"scroll"`
	Name     string            `json:"name"`
	Props    map[string]string `json:"props"`
	Href     string            `json:"href"`
	Value    float64           `json:"value"`
	Checks   map[string][]int  `json:"checks"` // check -> [matches, length of the first match's content or text]
}

type wireSignals struct {
	Webdriver bool     `json:"webdriver"`
	Globals   []string `json:"globals"`
	Langs     int      `json:"langs"`
	SoftGL    bool     `json:"sw_gl"`
	Win       []int    `json:"win"`
	Perm      string   `json:"perm"` // Permissions API state + Notification.permission
	// Plugins was navigator.plugins.length, sent by snippets before the
	// perm signal replaced it (every current browser reports a fixed list,
	// so it told nothing). Still accepted from cached copies; ignored.
	Plugins int `json:"plugins"`
}

// decodeStrict decodes exactly one JSON value into v: unknown fields,
// duplicate names, invalid UTF-8, trailing data and wrong types are errors
// naming the field. It uses go-json-experiment/json, the prototype of Go's
// encoding/json/v2 by its authors (in the standard library only behind
// GOEXPERIMENT=jsonv2 so far): decoding was the largest cost of POST
// /api/event in the load test's CPU profile, and this decodes the
// snippet's first batch 2.5 times faster than encoding/json's Decoder,
// with 31 allocations instead of 76 (docs/benchmarks.md). Names match
// case-insensitively, as encoding/json's did.
func decodeStrict(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return badRequest("malformed_json", "empty body")
	}
	err := json.Unmarshal(body, v, json.RejectUnknownMembers(true), json.MatchCaseInsensitiveNames(true))
	if err == nil {
		return nil
	}
	var semErr *json.SemanticError
	var synErr *jsontext.SyntacticError
	switch {
	case errors.As(err, &semErr) && errors.Is(err, json.ErrUnknownName):
		return badRequest("malformed_json", fmt.Sprintf("json: unknown field %q", semErr.JSONPointer.LastToken()))
	case errors.As(err, &semErr) && semErr.GoType != nil:
		return badField(fieldPath(semErr.JSONPointer), "wrong type, want "+strings.TrimPrefix(semErr.GoType.String(), "*"))
	case errors.As(err, &synErr) && synErr.ByteOffset > 0 && jsontext.Value(body[:synErr.ByteOffset]).IsValid():
		return badRequest("malformed_json", "trailing data after the JSON value")
	case errors.As(err, &synErr):
		return badRequest("malformed_json", fmt.Sprintf("malformed JSON at byte %d", synErr.ByteOffset))
	}
	return badRequest("malformed_json", "malformed JSON")
}

// fieldPath writes a JSON pointer (/events/0/scroll) the way validate
// names fields (events[0].scroll).
func fieldPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			b.WriteString("[" + tok + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	return b.String()
}

func badRequest(code, msg string) *Error { return &Error{Status: 400, Code: code, Message: msg} }

func badField(field, msg string) *Error {
	return &Error{Status: 400, Code: "invalid_field", Message: field + ": " + msg}
}

func checkString(field, s string, max int, required bool) error {
	switch {
	case required && s == "":
		return badField(field, "required")
	case !utf8.ValidString(s):
		return badField(field, "not valid UTF-8")
	case len(s) > max && utf8.RuneCountInString(s) > max: // the limits count code points
		return badField(field, fmt.Sprintf("longer than %d characters", max))
	}
	return nil
}

func (r *challengeRequest) validate() error {
	if err := checkString("site", r.Site, maxShort, true); err != nil {
		return err
	}
	return checkString("url", r.URL, maxURL, true)
}

// validate checks every field against the protocol's limits.
func (r *eventRequest) validate() error {
	if err := checkString("token", r.Token, 256, true); err != nil {
		return err
	}
	if r.N == nil {
		return badField("n", "required")
	}
	if r.SolveMS < 0 || r.SolveMS > maxSolveMS {
		return badField("solve_ms", "out of range")
	}
	if r.Seq < 1 || r.Seq > maxEventsPerPageLoad {
		return badField("seq", fmt.Sprintf("must be 1..%d", maxEventsPerPageLoad))
	}
	if len(r.Events) == 0 || len(r.Events) > maxBatchEvents {
		return badField("events", fmt.Sprintf("must hold 1..%d events", maxBatchEvents))
	}
	for i := range r.Events {
		if err := r.Events[i].validate(eventField(i)); err != nil {
			return err
		}
	}
	if s := r.Signals; s != nil {
		if len(s.Globals) > maxGlobals {
			return badField("signals.globals", "too many")
		}
		for _, g := range s.Globals {
			if err := checkString("signals.globals", g, maxShort, false); err != nil {
				return err
			}
		}
		if len(s.Win) != 0 && len(s.Win) != 4 {
			return badField("signals.win", "want 4 numbers")
		}
		if err := checkString("signals.perm", s.Perm, maxShort, false); err != nil {
			return err
		}
	}
	return nil
}

// eventFields are the names "events[0]" ... of the events a batch (or a
// server-to-server request) may hold, made once rather than per event.
var eventFields = func() []string {
	out := make([]string, max(maxBatchEvents, maxS2SEvents))
	for i := range out {
		out[i] = fmt.Sprintf("events[%d]", i)
	}
	return out
}()

func eventField(i int) string {
	if i < len(eventFields) {
		return eventFields[i]
	}
	return fmt.Sprintf("events[%d]", i)
}

// checkNames are the DOM checks the challenge answer asks for.
var checkNames = func() map[string]bool {
	m := map[string]bool{}
	for k := range script.DefaultChecks() {
		m[k] = true
	}
	return m
}()

func (e *wireEvent) validate(at string) error {
	if err := checkString(at+".url", e.URL, maxURL, true); err != nil {
		return err
	}
	// An array, not a map literal: this runs for every event, and a map
	// would be allocated and hashed each time (seen in the load test's
	// allocation profile).
	for _, f := range [...]struct {
		name string
		v    string
		max  int
	}{{"referrer", e.Referrer, maxURL}, {"title", e.Title, maxTitle}, {"lang", e.Lang, maxShort}, {"tz", e.TZ, maxShort}, {"href", e.Href, maxURL}, {"name", e.Name, maxName}} {
		if err := checkString(at+"."+f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	switch e.Type {
	case "pageview":
		if e.ScreenW < 0 || e.ScreenW > 100_000 {
			return badField(at+".screen_w", "out of range")
		}
	case "engagement":
		if e.MS < 0 || e.MS > maxEventOffsetMS {
			return badField(at+".ms", "out of range")
		}
		if e.Scroll < 0 || e.Scroll > 100 {
			return badField(at+".scroll", "must be 0..100")
		}
	case "custom":
		if e.Name == "" {
			return badField(at+".name", "required")
		}
		if len(e.Props) > maxProps {
			return badField(at+".props", fmt.Sprintf("at most %d properties", maxProps))
		}
		for k, v := range e.Props {
			if err := checkString(at+".props key", k, maxKey, true); err != nil {
				return err
			}
			if err := checkString(at+".props["+k+"]", v, maxValue, false); err != nil {
				return err
			}
		}
	case "outbound", "download":
		if e.Href == "" {
			return badField(at+".href", "required")
		}
	case "vital":
		switch e.Name {
		case "TTFB", "FCP", "LCP", "INP", "CLS":
		default:
			return badField(at+".name", "unknown Web Vital")
		}
		if e.Value < 0 || e.Value > 10*60*1000 {
			return badField(at+".value", "out of range")
		}
	case "dom_check":
		if len(e.Checks) == 0 {
			return badField(at+".checks", "required")
		}
		for k, v := range e.Checks {
			if !checkNames[k] {
				return badField(at+".checks", "unknown check "+k)
			}
			if len(v) != 2 || v[0] < 0 || v[0] > 100_000 || v[1] < 0 || v[1] > 100_000 {
				return badField(at+".checks."+k, "want [matches, length]")
			}
		}
	default:
		return badField(at+".type", "unknown event type")
	}
	return nil
}
