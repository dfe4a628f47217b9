package collector

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestDecodeEventRequestErrorsNameTheField(t *testing.T) {
	cases := []struct {
		body, code, msg string
	}{
		{``, "malformed_json", "empty body"},
		{`{"token":"t","n":1,"seq":1,"events":[]}`, "invalid_field", "events: must hold 1..50 events"},
		{`{"token":"t","n":1,"seq":0,"events":[{"type":"pageview","url":"https://a.example/"}]}`, "invalid_field", "seq: must be 1..200"},
		{`{"token":"t","seq":1,"events":[{"type":"pageview","url":"https://a.example/"}]}`, "invalid_field", "n: required"},
		{`{"token":"t","n":"1","seq":1,"events":[]}`, "invalid_field", "n: wrong type, want uint32"},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"engagement","url":"https://a.example/","scroll":101}]}`, "invalid_field", "events[0].scroll: must be 0..100"},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"vital","url":"https://a.example/","name":"XYZ","value":1}]}`, "invalid_field", "events[0].name: unknown Web Vital"},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/"}]} {}`, "malformed_json", "trailing data after the JSON value"},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/","x":1}]}`, "malformed_json", `json: unknown field "x"`},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/"}],"signals":{"perm":"` + strings.Repeat("p", 65) + `"}}`, "invalid_field", "signals.perm: longer than 64 characters"},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"engagement","url":"https://a.example/","scroll":"all"}]}`, "invalid_field", "events[0].scroll: wrong type, want int"},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/"}]}` + "\n\t ", "", ""},
		{`{"token":"t","n":1,"n":2,"seq":1,"events":[{"type":"pageview","url":"https://a.example/"}]}`, "malformed_json", "malformed JSON at byte 19"},
		{"{\"token\":\"t\xff\",\"n\":1,\"seq\":1,\"events\":[{\"type\":\"pageview\",\"url\":\"https://a.example/\"}]}", "malformed_json", "malformed JSON at byte 11"},
		{`{"token":"t","n":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/"}]`, "malformed_json", "malformed JSON at byte 84"},
		{`{"TOKEN":"t","N":1,"Seq":1,"events":[{"type":"pageview","url":"https://a.example/"}]}`, "", ""},
	}
	for _, c := range cases {
		var req eventRequest
		err := decodeStrict([]byte(c.body), &req)
		if err == nil {
			err = req.validate()
		}
		if c.code == "" {
			if err != nil {
				t.Errorf("%s\n  err = %v, want none", c.body, err)
			}
			continue
		}
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.Status != 400 || apiErr.Code != c.code || apiErr.Message != c.msg {
			t.Errorf("%s\n  err = %v, want 400 %s %q", c.body, err, c.code, c.msg)
		}
	}
}

// FuzzDecodeEvent: whatever the body, decoding never panics, and a body
// that passes validation respects every limit of the protocol.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"token":"t","n":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/","referrer":"","title":"x","screen_w":1,"lang":"en","tz":"UTC"}],"signals":{"webdriver":false,"globals":[],"langs":1,"sw_gl":false,"win":[1,2,3,4],"plugins":0}}`))
	f.Add([]byte(`{"token":"t","n":1,"seq":2,"events":[{"type":"custom","url":"https://a.example/","name":"s","props":{"a":"b"}}]}`))
	f.Add([]byte(`{"token":"t","n":1,"seq":2,"events":[{"type":"dom_check","url":"https://a.example/","checks":{"h1":[2,5]}}]}`))
	f.Add([]byte(`{"events":[null]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var req eventRequest
		if decodeStrict(body, &req) != nil || req.validate() != nil {
			return
		}
		if len(req.Events) < 1 || len(req.Events) > maxBatchEvents || req.Seq < 1 || req.Seq > maxEventsPerPageLoad || req.N == nil {
			t.Fatalf("validated request out of bounds: %d events, seq %d", len(req.Events), req.Seq)
		}
		for _, e := range req.Events {
			for _, s := range []string{e.URL, e.Referrer, e.Title, e.Href} {
				if len(s) > maxURL || !utf8.ValidString(s) {
					t.Fatalf("validated string out of bounds: %q", s)
				}
			}
			if len(e.Props) > maxProps {
				t.Fatalf("validated %d props", len(e.Props))
			}
		}
	})
}

// TestSignalsOfOldAndNewSnippets: snippets cached before perm replaced
// plugins still send plugins; browsers without the Permissions API send no
// perm. Both are accepted.
func TestSignalsOfOldAndNewSnippets(t *testing.T) {
	for _, signals := range []string{
		`{"webdriver":false,"globals":[],"langs":2,"sw_gl":false,"win":[1,2,3,4],"plugins":5}`,
		`{"webdriver":false,"globals":[],"langs":2,"sw_gl":false,"win":[1,2,3,4]}`,
		`{"webdriver":false,"globals":[],"langs":2,"sw_gl":false,"win":[1,2,3,4],"perm":"promptdefault"}`,
	} {
		var req eventRequest
		body := `{"token":"t","n":1,"seq":1,"events":[{"type":"pageview","url":"https://a.example/"}],"signals":` + signals + `}`
		if err := decodeStrict([]byte(body), &req); err != nil {
			t.Fatalf("%s: %v", signals, err)
		}
		if err := req.validate(); err != nil {
			t.Fatalf("%s: %v", signals, err)
		}
	}
}
