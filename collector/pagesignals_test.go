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
	if got := p.remember(a, first, t0.Add(time.Minute)); got != first {
		t.Fatal("the first batch's own signals must be used")
	}
	if got := p.remember(a, nil, t0.Add(time.Minute)); got == nil || !got.Webdriver || len(got.Globals) != 1 {
		t.Fatalf("a later batch got %+v, want the first batch's signals", got)
	}
	if got := p.remember(b, nil, t0); got != nil {
		t.Fatalf("a page load never seen got %+v, want nil", got)
	}
	p.remember(b, &wireSignals{}, t0.Add(time.Hour))
	p.remember(c, &wireSignals{Webdriver: true}, t0.Add(time.Hour)) // over the cap: used, not kept
	if got := p.remember(c, nil, t0); got != nil {
		t.Fatalf("over the cap the entry was kept: %+v", got)
	}
	p.sweep(t0.Add(2 * time.Minute))
	if got := p.remember(a, nil, t0); got != nil {
		t.Fatalf("expired page load still has signals: %+v", got)
	}
	if got := p.remember(b, nil, t0); got == nil {
		t.Fatal("a live page load lost its signals in the sweep")
	}
}
