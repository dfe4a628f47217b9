package collector

import (
	"testing"
	"time"
)

func TestPageSignalsCarryToLaterBatches(t *testing.T) {
	p := newPageSignals(2)
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	a, b, c := [16]byte{1}, [16]byte{2}, [16]byte{3}
	first := &wireSignals{Webdriver: true, Globals: []string{"cdc_x"}}
	if got, _ := p.remember(a, first, pageFlags{referrerSpam: true}, t0.Add(time.Minute)); got != first {
		t.Fatal("the first batch's own signals must be used")
	}
	got, flags := p.remember(a, nil, pageFlags{timezoneFar: true}, t0.Add(time.Minute))
	if got == nil || !got.Webdriver || len(got.Globals) != 1 {
		t.Fatalf("a later batch got %+v, want the first batch's signals", got)
	}
	if !flags.referrerSpam || !flags.timezoneFar {
		t.Fatalf("flags %+v, want the first batch's and this one's", flags)
	}
	if got, flags := p.remember(b, nil, pageFlags{}, t0.Add(time.Hour)); got != nil || flags != (pageFlags{}) {
		t.Fatalf("a page load never seen got %+v %+v, want nothing", got, flags)
	}
	p.remember(b, &wireSignals{}, pageFlags{}, t0.Add(time.Hour))
	p.remember(c, &wireSignals{Webdriver: true}, pageFlags{referrerSpam: true}, t0.Add(time.Hour)) // over the cap: used, not kept
	if got, flags := p.remember(c, nil, pageFlags{}, t0.Add(time.Hour)); got != nil || flags.referrerSpam {
		t.Fatalf("over the cap the entry was kept: %+v %+v", got, flags)
	}
	p.sweep(t0.Add(2 * time.Minute))
	if got, flags := p.remember(a, nil, pageFlags{}, t0); got != nil || flags.referrerSpam {
		t.Fatalf("expired page load still has signals: %+v %+v", got, flags)
	}
	if got, _ := p.remember(b, nil, pageFlags{}, t0); got == nil {
		t.Fatal("a live page load lost its signals in the sweep")
	}
}
