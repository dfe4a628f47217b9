package collector

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

type fakeRejectionSink struct {
	got []storage.Rejection
	err error
}

func (f *fakeRejectionSink) InsertRejections(_ context.Context, rs []storage.Rejection) error {
	if f.err != nil {
		return f.err
	}
	f.got = append(f.got, rs...)
	return nil
}

func TestRejectionsCountPerSiteMinuteReason(t *testing.T) {
	r := newRejections()
	site := uuid.New()
	t0 := time.Date(2026, 3, 1, 12, 0, 5, 0, time.UTC)
	for i := 0; i < 5; i++ {
		r.inc(site, "bad_token", t0.Add(time.Duration(i)*time.Second))
	}
	r.inc(site, "bad_token", t0.Add(time.Minute))
	r.inc(uuid.Nil, "unknown_site", t0)

	sink := &fakeRejectionSink{err: errors.New("down")}
	if err := r.flush(context.Background(), sink); err == nil {
		t.Fatal("flush hid the error")
	}
	r.inc(site, "bad_token", t0) // arrives while ClickHouse is down
	sink.err = nil
	if err := r.flush(context.Background(), sink); err != nil {
		t.Fatal(err)
	}
	sort.Slice(sink.got, func(i, j int) bool {
		a, b := sink.got[i], sink.got[j]
		if a.Reason != b.Reason {
			return a.Reason < b.Reason
		}
		return a.Minute.Before(b.Minute)
	})
	want := []storage.Rejection{
		{SiteID: site, Minute: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Reason: "bad_token", Count: 6},
		{SiteID: site, Minute: time.Date(2026, 3, 1, 12, 1, 0, 0, time.UTC), Reason: "bad_token", Count: 1},
		{SiteID: uuid.Nil, Minute: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC), Reason: "unknown_site", Count: 1},
	}
	if len(sink.got) != len(want) {
		t.Fatalf("flushed %+v, want %+v", sink.got, want)
	}
	for i := range want {
		if sink.got[i] != want[i] {
			t.Errorf("row %d = %+v, want %+v", i, sink.got[i], want[i])
		}
	}
	if n := len(r.snapshot()); n != 0 {
		t.Fatalf("%d counts left after a successful flush", n)
	}
}
