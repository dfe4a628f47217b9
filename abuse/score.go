package abuse

// Verdicts stored with every event.
const (
	VerdictOK      = "ok"      // counted
	VerdictSuspect = "suspect" // counted, flagged
	VerdictInvalid = "invalid" // stored, excluded from default statistics
)

// Invalid-traffic classes, after the MRC/IAB taxonomy: general (GIVT) and
// sophisticated (SIVT) invalid traffic.
const (
	ClassDeclaredCrawler = "givt_declared_crawler"
	ClassAutomation      = "sivt_automation"
)

// Signals is what the collector knows about one page load when it scores
// its events. The full scorer (weights, network class, velocity, clusters)
// builds on this; these are the signals the ingest path has today.
type Signals struct {
	DeclaredBot         bool // the UA is a declared crawler (uap-go's Spider family)
	Webdriver           bool // the snippet saw navigator.webdriver
	AutomationGlobals   int  // automation globals the snippet saw (__nightmare, cdc_, ...)
	HeadlessUA          bool // HeadlessChrome / PhantomJS in the UA
	IPPrefixChanged     bool // the token was issued to another /24 or /48
	ClientHintsMismatch bool // Sec-CH-UA disagrees with the User-Agent
	Network             NetClass
}

// Result is a score 0..100 with its verdict, class and reason codes.
type Result struct {
	Score   uint8
	Verdict string
	Class   string
	Reasons []string
}

// Score applies the signals: hard ones classify the event whatever the
// score; the rest add up (capped at 100): 70 or more is invalid, 40 to 69
// suspect.
func Score(s Signals) Result {
	var r Result
	add := func(points int, reason string) {
		r.Score = uint8(min(100, int(r.Score)+points))
		r.Reasons = append(r.Reasons, reason)
	}
	if s.DeclaredBot {
		add(100, "declared_bot")
		r.Class = ClassDeclaredCrawler
	}
	if s.Webdriver {
		add(80, "webdriver")
	}
	if s.AutomationGlobals > 0 {
		add(80, "automation_globals")
	}
	if s.HeadlessUA {
		add(80, "headless_ua")
	}
	// Networks: data centres and anonymisers are where bots live, but
	// real people use VPNs too, so these flag rather than condemn alone.
	if s.Network.Hosting {
		add(50, "datacenter")
	}
	if s.Network.Tor {
		add(50, "tor_exit")
	}
	if s.Network.PublicProxy {
		add(40, "public_proxy")
	}
	if s.Network.ResidentialProxy {
		add(30, "residential_proxy")
	}
	if s.Network.VPN {
		add(10, "vpn")
	}
	if s.ClientHintsMismatch {
		add(40, "ua_client_hints_mismatch")
	}
	if s.IPPrefixChanged {
		add(10, "ip_prefix_changed")
	}
	switch {
	case r.Class != "":
		r.Verdict = VerdictInvalid
	case r.Score >= 70:
		r.Verdict, r.Class = VerdictInvalid, ClassAutomation
	case r.Score >= 40:
		r.Verdict = VerdictSuspect
	default:
		r.Verdict = VerdictOK
	}
	return r
}
