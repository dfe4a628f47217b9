package collector

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector/enrich"
	"github.com/verityhq/verity/storage"
)

// Server-to-server events: POST /api/v1/events, signed with the site's
// secret key (docs/protocol.md, "Server-to-server"). Conversions and revenue
// that matter should come this way; they are stored as verified.
const (
	s2sTolerance = 300 * time.Second
	maxS2SEvents = 100
)

type s2sRequest struct {
	Events []s2sEvent `json:"events"`
}

type s2sEvent struct {
	Name  string            `json:"name"`
	URL   string            `json:"url"`
	Value float64           `json:"value"`
	Props map[string]string `json:"props"`
}

// nonces remembers the nonces seen within the tolerance window, so a
// captured request cannot be replayed to this node; across nodes the
// deterministic event id makes ClickHouse keep one copy.
type nonces struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newNonces() *nonces { return &nonces{seen: map[string]time.Time{}} }

// use records a nonce and reports whether it was new.
func (n *nonces) use(site uuid.UUID, nonce string, now time.Time) bool {
	key := site.String() + "/" + nonce
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.seen) > 100_000 {
		for k, t := range n.seen {
			if now.Sub(t) > 2*s2sTolerance {
				delete(n.seen, k)
			}
		}
	}
	if _, ok := n.seen[key]; ok {
		return false
	}
	n.seen[key] = now
	return true
}

// S2SSignature is the signature a server sends in X-Verity-Signature:
// "v1=" + hex HMAC-SHA256(secret key, method \n path \n timestamp \n nonce
// \n hex SHA-256(body)).
func S2SSignature(secret, method, path, timestamp, nonce string, body []byte) string {
	bodyHash := sha256.Sum256(body)
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%s\n%s\n%s\n%s\n%s", method, path, timestamp, nonce, hex.EncodeToString(bodyHash[:]))
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func (h *Handler) serverEvents(c *fiber.Ctx) error {
	unauthorized := func(site uuid.UUID, code, msg string) error {
		return h.reject(site, code, &Error{Status: fiber.StatusUnauthorized, Code: code, Message: msg})
	}
	if ct := c.Get(fiber.HeaderContentType); ct != fiber.MIMEApplicationJSON && ct != fiber.MIMEApplicationJSONCharsetUTF8 {
		return h.reject(uuid.Nil, reasonMalformed, &Error{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send application/json"})
	}
	siteID, err := uuid.Parse(c.Get("X-Verity-Site"))
	if err != nil {
		return unauthorized(uuid.Nil, "signature_missing", "X-Verity-Site must be the site id")
	}
	site, ok := h.sites.bySiteID(siteID)
	if !ok {
		return h.reject(uuid.Nil, reasonUnknownSite, &Error{Status: fiber.StatusNotFound, Code: reasonUnknownSite, Message: "unknown site"})
	}
	ts, nonce, sig := c.Get("X-Verity-Timestamp"), c.Get("X-Verity-Nonce"), c.Get("X-Verity-Signature")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(nonce) < 16 || len(nonce) > 64 || sig == "" {
		return unauthorized(site.ID, "signature_missing", "X-Verity-Timestamp (unix seconds), X-Verity-Nonce (16..64 chars) and X-Verity-Signature are required")
	}
	now := h.now()
	if d := now.Sub(time.Unix(sec, 0)); d > s2sTolerance || d < -s2sTolerance {
		return unauthorized(site.ID, "signature_expired", "timestamp outside ±300 s of the server clock")
	}
	secret := h.keys.SiteSecret(site.ID, site.SecretVersion)
	want := S2SSignature(secret, c.Method(), c.Path(), ts, nonce, c.Body())
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return unauthorized(site.ID, "signature_invalid", "signature does not match")
	}
	if !h.s2sNonces.use(site.ID, nonce, now) {
		return h.reject(site.ID, "replay", &Error{Status: fiber.StatusConflict, Code: "replay", Message: "nonce already used"})
	}
	var req s2sRequest
	if err := decodeStrict(c.Body(), &req); err != nil {
		return h.reject(site.ID, reasonMalformed, err)
	}
	if len(req.Events) == 0 || len(req.Events) > maxS2SEvents {
		return h.reject(site.ID, reasonMalformed, badField("events", fmt.Sprintf("must hold 1..%d events", maxS2SEvents)))
	}
	// The nonce names this request: events keep their ids if it is re-sent
	// to another node.
	plid := sha256.Sum256([]byte(nonce))
	events := make([]storage.Event, 0, len(req.Events))
	for i, se := range req.Events {
		we := wireEvent{Type: "custom", URL: se.URL, Name: se.Name, Props: se.Props, Value: se.Value}
		if err := we.validate(eventField(i)); err != nil {
			return h.reject(site.ID, reasonMalformed, err)
		}
		e := storage.Event{SiteID: site.ID, TS: time.Unix(sec, 0).UTC(), PageLoadID: uuid.UUID(plid[:16]), Type: "custom", Name: se.Name,
			Value: se.Value, Verified: true, Verdict: abuse.VerdictOK, Ingest: "server"}
		e.PropKeys, e.PropValues = sortedProps(se.Props)
		e.EventID = abuse.EventID(site.ID, [16]byte(plid[:16]), 0, uint16(i))
		if page, err := enrich.ParsePage(se.URL); err == nil {
			e.Hostname, e.Pathname = page.Hostname, page.Pathname
		}
		events = append(events, e)
	}
	if err := h.queue.Enqueue(events...); err != nil {
		c.Set(fiber.HeaderRetryAfter, "5")
		return h.reject(site.ID, reasonBusy, &Error{Status: fiber.StatusServiceUnavailable, Code: "busy", Message: "ingest queue full; try again later"})
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"accepted": len(events)})
}
