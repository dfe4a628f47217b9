package collector

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/verityhq/verity/abuse"
	"github.com/verityhq/verity/collector/enrich"
	"github.com/verityhq/verity/script"
	"github.com/verityhq/verity/storage"
)

// Rejection reasons counted per site and minute (and answered as error
// codes); docs/protocol.md lists them.
const (
	reasonMalformed   = "malformed"
	reasonUnknownSite = "unknown_site"
	reasonOrigin      = "origin_not_allowed"
	reasonBusy        = "queue_full"
)

// maxChallengeBody caps a challenge request: a site key and a URL.
const maxChallengeBody = 4096

// reject counts a hard rejection and returns the error to answer with.
func (h *Handler) reject(site uuid.UUID, reason string, err error) error {
	h.rejects.inc(site, reason, h.now())
	return err
}

// requireTextBody enforces the content types the protocol uses: text/plain
// (what browsers send without a CORS preflight) or application/json.
func requireTextBody(c *fiber.Ctx) error {
	ct := strings.ToLower(strings.TrimSpace(strings.Split(c.Get(fiber.HeaderContentType), ";")[0]))
	if ct != "text/plain" && ct != "application/json" {
		return &Error{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "send text/plain or application/json"}
	}
	return nil
}

// clientIP is the peer address, or the forwarded one from a trusted proxy
// (Fiber's ProxyHeader with EnableTrustedProxyCheck).
func clientIP(c *fiber.Ctx) netip.Addr {
	a, err := netip.ParseAddr(c.IP())
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

// allowCORS lets the page read the answer: the one requesting Origin, never
// "*". It is set on errors too, so the snippet sees a 4xx and stops rather
// than retrying what looks like a network failure; an error body reveals
// nothing a non-browser client could not read anyway.
func allowCORS(c *fiber.Ctx, origin string) {
	if origin != "" {
		c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
		c.Set(fiber.HeaderVary, fiber.HeaderOrigin)
	}
}

type challengeResponse struct {
	V       int               `json:"v"`
	Token   string            `json:"token"`
	TTL     int               `json:"ttl"`
	PoW     powChallenge      `json:"pow"`
	Checks  map[string]string `json:"checks"`  // DOM check -> CSS selector
	Globals string            `json:"globals"` // automation globals pattern
	// Downloads is the pattern of link paths counted as file downloads.
	Downloads string `json:"downloads"`
}

type powChallenge struct {
	Max    uint32 `json:"max"`
	Target string `json:"target"`
	PLID   string `json:"plid"`
}

// challenge issues a page-load token: cheap checks first (size, type, key,
// Origin), then a signed token with its proof-of-work puzzle.
func (h *Handler) challenge(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	allowCORS(c, origin)
	if err := requireTextBody(c); err != nil {
		return h.reject(uuid.Nil, reasonMalformed, err)
	}
	body := c.Body()
	if len(body) > maxChallengeBody {
		return h.reject(uuid.Nil, reasonMalformed, &Error{Status: fiber.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "challenge body over 4096 bytes"})
	}
	var req challengeRequest
	if err := decodeStrict(body, &req); err != nil {
		return h.reject(uuid.Nil, reasonMalformed, err)
	}
	if err := req.validate(); err != nil {
		return h.reject(uuid.Nil, reasonMalformed, err)
	}
	site, ok := h.sites.byPublicKey(req.Site)
	if !ok {
		return h.reject(uuid.Nil, reasonUnknownSite, &Error{Status: fiber.StatusNotFound, Code: reasonUnknownSite, Message: "unknown site key"})
	}
	if !originAllowed(site.AllowedOrigins, origin) {
		return h.reject(site.ID, reasonOrigin, &Error{Status: fiber.StatusForbidden, Code: reasonOrigin, Message: "this Origin is not allowed for the site"})
	}
	ua := c.Get(fiber.HeaderUserAgent)
	ip := clientIP(c)
	var tier abuse.Tier
	if h.declaredBot(ua) {
		tier = abuse.TierDeclaredBot // no puzzle; its events are classified GIVT
	} else {
		// More work for anonymising networks and for networks that ask
		// for many tokens; it decays when they go quiet.
		tier = abuse.TierFor(h.network.Classify(ip), h.behaviour.velocity.Issue(h.issuer.PrefixHash(ip)))
	}
	token, claims, err := h.issuer.Issue(abuse.IssueRequest{SiteID: site.ID, ClientIP: ip, UserAgent: ua, Origin: origin, Tier: tier})
	if err != nil {
		return err
	}
	h.pages.issued(claims.PageLoadID, h.now(), claims.Expires())
	target := claims.PowTarget
	if tier == abuse.TierDeclaredBot {
		// No puzzle is checked for a declared bot; hand it one that n = 0
		// solves, so the snippet runs and its events arrive, classified.
		target = abuse.PowTarget(claims.PageLoadID, 0)
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(challengeResponse{
		V: 1, Token: token, TTL: int(claims.TTL / time.Second),
		PoW:       powChallenge{Max: claims.PowMax, Target: hex.EncodeToString(target[:]), PLID: hex.EncodeToString(claims.PageLoadID[:])},
		Checks:    h.checks,
		Globals:   script.AutomationGlobals,
		Downloads: script.DownloadExtensions,
	})
}

// event accepts one batch of a page load's events: parse, find the site,
// check the Origin, verify the token and its proof of work, reject replays,
// enrich, score, and queue for ClickHouse.
func (h *Handler) event(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	allowCORS(c, origin)
	if err := requireTextBody(c); err != nil {
		return h.reject(uuid.Nil, reasonMalformed, err)
	}
	var req eventRequest
	if err := decodeStrict(c.Body(), &req); err != nil {
		return h.reject(uuid.Nil, reasonMalformed, err)
	}
	if err := req.validate(); err != nil {
		return h.reject(uuid.Nil, reasonMalformed, err)
	}
	siteID, ok := abuse.PeekSiteID(req.Token)
	if !ok {
		return h.reject(uuid.Nil, "token_malformed", &Error{Status: fiber.StatusUnauthorized, Code: "token_malformed", Message: "malformed token"})
	}
	site, ok := h.sites.bySiteID(siteID)
	if !ok {
		return h.reject(uuid.Nil, reasonUnknownSite, &Error{Status: fiber.StatusNotFound, Code: reasonUnknownSite, Message: "unknown site"})
	}
	if !originAllowed(site.AllowedOrigins, origin) {
		return h.reject(site.ID, reasonOrigin, &Error{Status: fiber.StatusForbidden, Code: reasonOrigin, Message: "this Origin is not allowed for the site"})
	}
	hd := readHeaders(c)
	ip := clientIP(c)
	verified, err := h.issuer.Verify(abuse.VerifyRequest{Token: req.Token, SiteID: site.ID, ClientIP: ip, UserAgent: hd.userAgent, Origin: origin, PowN: *req.N})
	if err != nil {
		return h.rejectVerify(site.ID, err)
	}
	if err := h.replay.Check(verified.PageLoadID, req.Seq, verified.Expires()); err != nil {
		if errors.Is(err, abuse.ErrReplayFull) {
			c.Set(fiber.HeaderRetryAfter, "5")
			return h.reject(site.ID, "replay_full", &Error{Status: fiber.StatusServiceUnavailable, Code: "busy", Message: "try again later"})
		}
		return h.rejectVerify(site.ID, err)
	}
	counts := countBatch(req.Events, req.Seq)
	tally := h.behaviour.loads.Add(verified.PageLoadID, counts.events, counts.interactions, verified.Expires())
	if tally.Events > maxEventsPerPageLoad {
		return h.reject(site.ID, "event_limit", &Error{Status: fiber.StatusTooManyRequests, Code: "event_limit",
			Message: fmt.Sprintf("over %d events in one page load; get a new token", maxEventsPerPageLoad)})
	}
	events := h.buildEvents(site, &req, verified, ip, &hd, &counts, tally)
	if err := h.queue.Enqueue(events...); err != nil {
		if errors.Is(err, storage.ErrBusy) || errors.Is(err, storage.ErrClosed) {
			c.Set(fiber.HeaderRetryAfter, "5")
			return h.reject(site.ID, reasonBusy, &Error{Status: fiber.StatusServiceUnavailable, Code: "busy", Message: "ingest queue full; try again later"})
		}
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"accepted": len(events)})
}

// rejectVerify answers a token, proof-of-work or replay failure with its
// reason code: 409 for a replay, 429 at the sequence cap, else 401.
func (h *Handler) rejectVerify(site uuid.UUID, err error) error {
	var ve *abuse.VerifyError
	if !errors.As(err, &ve) {
		return err
	}
	status := fiber.StatusUnauthorized
	switch {
	case errors.Is(err, abuse.ErrReplay):
		status = fiber.StatusConflict
	case errors.Is(err, abuse.ErrSeqLimit):
		status = fiber.StatusTooManyRequests
	}
	return h.reject(site, ve.Reason, &Error{Status: status, Code: ve.Reason, Message: strings.ReplaceAll(ve.Reason, "_", " ")})
}

// declaredBot reports whether a UA says it is a crawler: uap-go's spider
// family, or the isbot and crawler-user-agents lists.
func (h *Handler) declaredBot(ua string) bool {
	return h.ua.Parse(ua).Bot || h.bots.IsBot(ua)
}

// buildEvents turns a verified batch into rows. Everything about the page
// load (browser, place, visitor, session, score) is worked out once.
func (h *Handler) buildEvents(site *storage.Site, req *eventRequest, v abuse.Verified, ip netip.Addr, hd *requestHeaders, counts *batchCounts, tally abuse.PageLoadTally) []storage.Event {
	now := h.now().UTC()
	ua := hd.userAgent
	agent := h.ua.Parse(ua)
	geo := h.geo.Lookup(ip)
	visitor := visitorID(h.keys.VisitorSalt(abuse.Day(now)), site.ID, ip, ua)
	flags := batchFlags(req.Events, geo.Country, now)
	if req.Seq == 1 || req.Signals != nil {
		flags = flags.or(h.firstBatchFlags(site, req, v, ua, counts, now))
	}
	ws, flags := h.pages.remember(v.PageLoadID, req.Signals, flags, v.Expires())
	network := h.network.Classify(ip)
	sig := h.signals(hd, agent, network, v, ws, flags)
	b := h.behaviour
	sig.HighIssuance = b.velocity.Pressure(v.IPPrefixHash) >= abuse.TierElevated
	sig.PageviewBurst = b.bursts.Pageviews(visitor, int(counts.pageviews))
	sig.TooManyEvents = tally.TooMany
	sig.PoWTooFast = v.Tier != abuse.TierDeclaredBot && b.cfg.PowSpeed.PoWTooFast(*req.N, req.SolveMS)
	if e := counts.engagement; e != nil {
		sig.DwellNoInteraction = b.cfg.Dwell.WithoutInteraction(uint32(e.MS), uint8(e.Scroll), tally.Interactions)
	}
	score := h.scoring.Score(sig)
	base := storage.Event{
		SiteID: site.ID, PageLoadID: uuid.UUID(v.PageLoadID), Seq: req.Seq, VisitorID: visitor,
		Country: geo.Country, Region: geo.Region, City: geo.City,
		Browser: agent.Browser, BrowserVersion: agent.BrowserVersion, OS: agent.OS, OSVersion: agent.OSVersion, Device: agent.Device,
		Score: score.Score, Verdict: score.Verdict, Class: score.Class, Reasons: score.Reasons, Ingest: "browser",
		ASN: uint32(network.ASN),
	}
	// The site's own allow and deny rules override the score, event by
	// event (a path rule depends on the page).
	rules := h.sites.rulesFor(site.ID)
	ruleIn := abuse.RuleInput{IP: ip, ASN: uint32(network.ASN), Country: geo.Country, UserAgent: ua}
	out := make([]storage.Event, 0, len(req.Events))
	for i := range req.Events {
		we := &req.Events[i]
		e := base
		// The server's clock; the snippet sends no client times at all.
		e.TS = now.Truncate(time.Second)
		e.SessionID = h.sessions.session(visitor, e.TS)
		e.Type = we.Type
		if page, err := enrich.ParsePage(we.URL); err == nil {
			e.Hostname, e.Pathname = page.Hostname, page.Pathname
			e.UTMSource, e.UTMMedium, e.UTMCampaign, e.UTMContent, e.UTMTerm = page.UTMSource, page.UTMMedium, page.UTMCampaign, page.UTMContent, page.UTMTerm
			if we.Type == "pageview" {
				ref := enrich.ClassifyReferrer(we.Referrer, page)
				e.Referrer, e.Source, e.Channel = ref.URL, ref.Source, ref.Channel
			}
		}
		if rules != nil {
			ruleIn.Path = e.Pathname
			r := rules.Apply(score, ruleIn)
			e.Score, e.Verdict, e.Class, e.Reasons = r.Score, r.Verdict, r.Class, r.Reasons
		}
		switch we.Type {
		case "pageview":
			e.Title, e.ScreenWidth, e.Language, e.Timezone = we.Title, uint16(we.ScreenW), we.Lang, we.TZ
		case "engagement":
			e.EngagementMS, e.ScrollDepth = uint32(we.MS), uint8(we.Scroll)
		case "custom":
			e.Name = we.Name
			e.PropKeys, e.PropValues = sortedProps(we.Props)
		case "outbound", "download":
			e.PropKeys, e.PropValues = []string{"url"}, []string{we.Href}
		case "vital":
			e.Name, e.Value = we.Name, we.Value
		case "dom_check":
			for j, f := range domFindings(we.Checks) {
				d := e
				d.Name, d.Value = f.name, float64(f.count)
				d.EventID = abuse.EventID(site.ID, v.PageLoadID, req.Seq, uint16(i*16+j))
				out = append(out, d)
			}
			continue
		}
		e.EventID = abuse.EventID(site.ID, v.PageLoadID, req.Seq, uint16(i*16))
		out = append(out, e)
	}
	return out
}

// firstBatchFlags are the page-load verdicts only its first batch can
// give: how soon it came after the challenge, and whether its machine
// fingerprint belongs to a cluster.
func (h *Handler) firstBatchFlags(site *storage.Site, req *eventRequest, v abuse.Verified, ua string, counts *batchCounts, now time.Time) pageFlags {
	var f pageFlags
	if v.Tier != abuse.TierDeclaredBot {
		issued := h.pages.issuedAt(v.PageLoadID)
		if issued.IsZero() {
			issued = v.IssuedAt // whole seconds: errs towards "not too soon"
		}
		f.tooSoon = h.behaviour.cfg.PowSpeed.EventsTooSoon(*req.N, now.Sub(issued))
	}
	if req.Signals != nil && counts.pageview != nil {
		fp := h.behaviour.fingerprint(ua, counts.pageview, req.Signals)
		f.cluster = h.behaviour.clusters.Observe(site.ID, fp, v.IPPrefixHash)
	}
	return f
}

type finding struct {
	name  string
	count int
}

// domFindings turns the snippet's [matches, length] per check into
// findings: "checked" (one per page, the denominator), then one row per
// problem with its count.
func domFindings(c map[string][]int) []finding {
	matches := func(k string) int { return c[k][0] }
	length := func(k string) int { return c[k][1] }
	out := []finding{{"checked", 1}}
	add := func(bad bool, name string, n int) {
		if bad {
			out = append(out, finding{name, n})
		}
	}
	add(matches("title") == 0 || length("title") == 0, "missing_title", 1)
	add(length("title") > 60, "long_title", length("title"))
	add(matches("description") == 0 || length("description") == 0, "missing_description", 1)
	add(length("description") > 160, "long_description", length("description"))
	add(matches("h1") != 1, "h1_count", matches("h1"))
	add(matches("canonical") == 0, "missing_canonical", 1)
	add(matches("lang") == 0, "missing_lang", 1)
	add(matches("viewport") == 0, "missing_viewport", 1)
	add(matches("img_no_alt") > 0, "img_no_alt", matches("img_no_alt"))
	add(matches("noindex") > 0, "noindex", 1)
	return out
}

// sortedProps splits custom-event properties into parallel key and value
// arrays, sorted by key so that equal events store equal rows.
func sortedProps(props map[string]string) (keys, values []string) {
	keys = make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	values = make([]string, len(keys))
	for i, k := range keys {
		values[i] = props[k]
	}
	return keys, values
}
