package dashboard

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/google/uuid"

	"github.com/verityhq/verity/storage"
)

// The Stats API (docs/api.md): read-only JSON over the dashboard's
// listener, authenticated by an API token in the Authorization header. It
// has no cookies, sessions or CSRF tokens: nothing a browser sends on its
// own authenticates it, so a cross-site request cannot use it.

// apiPrefix is where the Stats API lives.
const apiPrefix = "/api/v1"

// apiAuthFailuresMax caps failed authentications per client network in
// throttleWindow: each costs a token lookup, and guessing is hopeless
// anyway (256-bit tokens), so only floods reach it.
const apiAuthFailuresMax = 60

// apiTokenLen is the length of a token made by newSecret(apiTokenPrefix):
// the prefix and 32 bytes in unpadded base64url.
const apiTokenLen = len(apiTokenPrefix) + 43

const localsAPIToken = "verity.api_token"

// apiError is a Stats API error: its status and stable code, and a message
// for the developer reading it.
type apiError struct {
	status        int
	code, message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func badParam(name, message string) *apiError {
	return &apiError{status: fiber.StatusBadRequest, code: "invalid_parameter", message: name + ": " + message}
}

var (
	errAPIUnauthorized = &apiError{status: fiber.StatusUnauthorized, code: "unauthorized",
		message: "send a live API token as \"Authorization: Bearer vt_...\" (tokens are made under API tokens in the dashboard)"}
	errAPINotFound = &apiError{status: fiber.StatusNotFound, code: "not_found", message: "no such site or endpoint for this token"}
)

// apiRoutes adds the Stats API. It must come before the pages' middleware
// (routes), which sets cookies and renders HTML: every API path ends here,
// an unknown one with a JSON 404 and another method with a JSON 405.
func (h *Handler) apiRoutes(r fiber.Router) {
	api := r.Group(apiPrefix, h.apiErrors, dropRateLimitHeaders, apiReadOnly, h.apiThrottle(), h.apiAuth, limiter.New(limiter.Config{
		Max:          h.cfg.APIRequestsPerMinute,
		Expiration:   time.Minute,
		KeyGenerator: func(c *fiber.Ctx) string { return "api:" + apiTokenOf(c).ID.String() },
		LimitReached: func(c *fiber.Ctx) error {
			return &apiError{status: fiber.StatusTooManyRequests, code: "rate_limited",
				message: "more than " + strconv.Itoa(h.cfg.APIRequestsPerMinute) + " requests per minute with this token; retry after " + c.GetRespHeader(fiber.HeaderRetryAfter) + " seconds"}
		},
	}))
	api.Get("/stats/aggregate", h.apiAggregate)
	api.Get("/stats/timeseries", h.apiTimeseries)
	api.Get("/stats/breakdown", h.apiBreakdown)
	api.Use(func(*fiber.Ctx) error { return errAPINotFound })
}

// apiReadOnly answers 405 to every method but GET and HEAD, before
// authentication: nothing in the API changes anything.
func apiReadOnly(c *fiber.Ctx) error {
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		c.Set(fiber.HeaderAllow, "GET, HEAD")
		return &apiError{status: fiber.StatusMethodNotAllowed, code: "method_not_allowed", message: "the Stats API is read-only: use GET"}
	}
	return c.Next()
}

// apiErrors answers every error of the API as JSON {"error": {"code",
// "message"}}, like the collector; internal errors are logged, never shown.
// Responses are never cached: they are per token and change by the minute.
func (h *Handler) apiErrors(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	err := c.Next()
	if err == nil {
		return nil
	}
	ae, ok := errors.AsType[*apiError](err)
	if !ok {
		h.log.Error("api request failed", "path", c.Path(), "err", err)
		ae = &apiError{status: fiber.StatusInternalServerError, code: "internal", message: "internal error; try again later"}
	}
	if ae.status == fiber.StatusUnauthorized {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="verity"`)
	}
	c.Response().ResetBody()
	return c.Status(ae.status).JSON(fiber.Map{"error": fiber.Map{"code": ae.code, "message": ae.message}})
}

// apiThrottle answers 429 to a network after apiAuthFailuresMax failed
// authentications in throttleWindow.
func (h *Handler) apiThrottle() fiber.Handler {
	return limiter.New(limiter.Config{
		Max:        apiAuthFailuresMax,
		Expiration: throttleWindow,
		// Only failed authentications count: apiAuth sets their status
		// before the limiter looks (other errors become a status later,
		// in apiErrors, so they do not count).
		SkipSuccessfulRequests: true,
		KeyGenerator:           func(c *fiber.Ctx) string { return "api-auth:" + networkOf(c.IP()) },
		LimitReached: func(*fiber.Ctx) error {
			return &apiError{status: fiber.StatusTooManyRequests, code: "rate_limited", message: "too many failed requests from this network; retry later"}
		},
	})
}

// apiAuth finds the live token of the Authorization header. A missing,
// malformed, unknown or revoked token is the same 401. Tokens are looked up
// by their SHA-256, so the lookup's timing says nothing about the token; the
// stored hash is compared again in constant time all the same.
func (h *Handler) apiAuth(c *fiber.Ctx) error {
	// The scheme's name is case-insensitive (RFC 9110 §11.1).
	scheme, token, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || len(token) != apiTokenLen || !strings.HasPrefix(token, apiTokenPrefix) {
		return unauthorized(c)
	}
	hash := hashSecret(token)
	tok, err := h.store.APITokenByHash(c.UserContext(), hash)
	if errors.Is(err, storage.ErrNotFound) {
		return unauthorized(c)
	} else if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare([]byte(tok.Hash), []byte(hash)) != 1 || tok.Revoked {
		return unauthorized(c)
	}
	c.Locals(localsAPIToken, tok)
	return c.Next()
}

// unauthorized sets the status now, so that apiThrottle counts it.
func unauthorized(c *fiber.Ctx) error {
	c.Status(fiber.StatusUnauthorized)
	return errAPIUnauthorized
}

func apiTokenOf(c *fiber.Ctx) storage.APIToken { return c.Locals(localsAPIToken).(storage.APIToken) }

// apiQuery reads site_id and the dashboard's query parameters (see
// storage.ParseQuery), plus the endpoint's own (extra), and checks that the
// token may read the site: another tenant's site, one outside the token's
// scope, and one that does not exist are the same 404.
func (h *Handler) apiQuery(c *fiber.Ctx, extra ...string) (storage.Query, url.Values, error) {
	v, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return storage.Query{}, nil, &apiError{status: fiber.StatusBadRequest, code: "invalid_parameter", message: "the query string is malformed"}
	}
	ids := v["site_id"]
	if len(ids) != 1 {
		return storage.Query{}, nil, badParam("site_id", "give exactly one site id")
	}
	siteID, err := uuid.Parse(ids[0])
	if err != nil {
		return storage.Query{}, nil, badParam("site_id", "not a site id (a UUID)")
	}
	q, err := storage.ParseQuery(v, h.now(), append(extra, "site_id")...)
	if err != nil {
		return storage.Query{}, nil, &apiError{status: fiber.StatusBadRequest, code: "invalid_parameter", message: err.Error()}
	}
	tok := apiTokenOf(c)
	site, err := h.store.SiteByID(c.UserContext(), siteID)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Query{}, nil, errAPINotFound
	} else if err != nil {
		return storage.Query{}, nil, err
	}
	if site.TenantID != tok.TenantID || !slices.Contains(tok.SiteIDs, site.ID) {
		return storage.Query{}, nil, errAPINotFound
	}
	q.SiteID = site.ID
	return q, v, nil
}

// apiQueryJSON echoes what a response is about.
type apiQueryJSON struct {
	SiteID  string    `json:"site_id"`
	Period  string    `json:"period"`
	From    time.Time `json:"from"` // included
	To      time.Time `json:"to"`   // excluded
	View    string    `json:"view"`
	Filters []string  `json:"filters"`
	Compare bool      `json:"compare"`
}

func queryJSON(q storage.Query) apiQueryJSON {
	out := apiQueryJSON{SiteID: q.SiteID.String(), Period: string(q.Period), From: q.From.UTC(), To: q.To.UTC(), View: string(q.View),
		Filters: []string{}, Compare: q.Compare}
	for _, f := range q.Filters {
		out.Filters = append(out.Filters, f.String())
	}
	return out
}

type metricsJSON struct {
	Visitors        uint64  `json:"visitors"`
	Visits          uint64  `json:"visits"`
	Pageviews       uint64  `json:"pageviews"`
	ViewsPerVisit   float64 `json:"views_per_visit"`
	BounceRate      float64 `json:"bounce_rate"`
	VisitDurationMS int64   `json:"visit_duration_ms"`
}

func metricsOf(m storage.Metrics) metricsJSON {
	return metricsJSON{Visitors: m.Visitors, Visits: m.Visits, Pageviews: m.Pageviews, ViewsPerVisit: m.ViewsPerVisit,
		BounceRate: m.BounceRate, VisitDurationMS: m.VisitDuration.Milliseconds()}
}

func (h *Handler) apiAggregate(c *fiber.Ctx) error {
	q, _, err := h.apiQuery(c)
	if err != nil {
		return err
	}
	a, err := h.store.Aggregate(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := struct {
		Query    apiQueryJSON `json:"query"`
		Results  metricsJSON  `json:"results"`
		Previous *metricsJSON `json:"previous,omitempty"`
	}{Query: queryJSON(q), Results: metricsOf(a.Current)}
	if a.Previous != nil {
		p := metricsOf(*a.Previous)
		out.Previous = &p
	}
	return c.JSON(out)
}

type pointJSON struct {
	Start     time.Time `json:"start"`
	Visitors  uint64    `json:"visitors"`
	Visits    uint64    `json:"visits"`
	Pageviews uint64    `json:"pageviews"`
}

func (h *Handler) apiTimeseries(c *fiber.Ctx) error {
	q, v, err := h.apiQuery(c, "interval")
	if err != nil {
		return err
	}
	interval, err := storage.ParseInterval(v.Get("interval"))
	if err != nil {
		return badParam("interval", "want hour or day")
	}
	if interval == "" {
		interval = storage.DefaultInterval(q)
	}
	step := 24 * time.Hour
	if interval == storage.IntervalHour {
		step = time.Hour
	}
	// Timeseries refuses this too, as an internal error; here it is the
	// caller's parameter.
	if n := q.To.Sub(q.From) / step; n > storage.MaxBuckets {
		return badParam("interval", strconv.Itoa(int(n))+" "+string(interval)+" buckets; at most "+strconv.Itoa(storage.MaxBuckets)+": choose day or a shorter period")
	}
	points, err := h.store.Timeseries(c.UserContext(), q, interval)
	if err != nil {
		return err
	}
	out := struct {
		Query    apiQueryJSON `json:"query"`
		Interval string       `json:"interval"`
		Results  []pointJSON  `json:"results"`
	}{Query: queryJSON(q), Interval: string(interval), Results: []pointJSON{}}
	for _, p := range points {
		out.Results = append(out.Results, pointJSON{Start: p.Start.UTC(), Visitors: p.Visitors, Visits: p.Visits, Pageviews: p.Pageviews})
	}
	return c.JSON(out)
}

type breakdownRowJSON struct {
	Value    string  `json:"value"`
	Visitors uint64  `json:"visitors"`
	Visits   uint64  `json:"visits"`
	Count    uint64  `json:"count"`
	Share    float64 `json:"share"`
}

func (h *Handler) apiBreakdown(c *fiber.Ctx) error {
	q, v, err := h.apiQuery(c, "dimension", "limit")
	if err != nil {
		return err
	}
	name := v.Get("dimension")
	if name == "" {
		return badParam("dimension", "required, e.g. dimension=source (docs/api.md lists them)")
	}
	d, err := storage.ParseDimension(name)
	if err != nil {
		return badParam("dimension", strings.TrimPrefix(err.Error(), "dimension: "))
	}
	limit := storage.DefaultBreakdownLimit
	if s := v.Get("limit"); s != "" {
		if limit, err = strconv.Atoi(s); err != nil || limit < 1 || limit > storage.MaxBreakdownLimit {
			return badParam("limit", "want a whole number from 1 to "+strconv.Itoa(storage.MaxBreakdownLimit))
		}
	}
	b, err := h.store.Breakdown(c.UserContext(), q, d, limit)
	if err != nil {
		return err
	}
	out := struct {
		Query     apiQueryJSON       `json:"query"`
		Dimension string             `json:"dimension"`
		PropKey   string             `json:"prop_key,omitempty"`
		Visitors  uint64             `json:"visitors"`
		Results   []breakdownRowJSON `json:"results"`
	}{Query: queryJSON(q), Dimension: string(b.Dimension), PropKey: b.PropKey, Visitors: b.Visitors, Results: []breakdownRowJSON{}}
	for _, r := range b.Rows {
		out.Results = append(out.Results, breakdownRowJSON{Value: r.Value, Visitors: r.Visitors, Visits: r.Visits, Count: r.Count, Share: r.Share})
	}
	return c.JSON(out)
}
