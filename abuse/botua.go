package abuse

import (
	_ "embed"
	"fmt"
	"regexp"
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"

	lru "github.com/hashicorp/golang-lru/v2"
)

// The declared-bot pattern lists, vendored as data with their licences; see
// botdata/README.md for where they come from and how to refresh them. One
// regular expression per line; leading and trailing spaces are significant.
var (
	//go:embed botdata/isbot-patterns.txt
	isbotPatterns string
	//go:embed botdata/crawler-user-agents.txt
	crawlerPatterns string
)

// MaxUALen is the longest User-Agent, in bytes, that BotUA treats as a
// possible browser; anything longer is hard GIVT (ABUSE.md "Hard GIVT").
const MaxUALen = 1024

// portedPatterns maps each upstream pattern that Go's RE2 rejects (they all
// use look-around) to an exact RE2 equivalent. The look-arounds here are all
// against fixed literals, so notAfter and notBefore expand them into the
// equivalent "end of text, another character, or a shorter prefix" alternation
// (built from a trie, so the result is exact for "does it match anywhere",
// which is all IsBot asks). botua_test.go checks every port against the
// answers of the upstream JavaScript engine. Every key must occur in a pattern
// file; a test fails on a stale entry.
var portedPatterns = map[string]string{
	// isbot: "news" not preceded by "g" and not followed by "sapphire"
	// (Samsung's NewsSapphire app).
	`(?:^|[^g])news(?!sapphire)`: `(?:^|[^g])news` + notAfter("sapphire"),
	// isbot: "google" except in "channel/google…" and "google/google", and
	// not the Google app / WebView / Pixel tokens that real browsers carry.
	`(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))`: notBefore(" channel/", "google/") + "google" + notAfter("wv", "app", "/google", " pixel"),
	// isbot: "bot"/"bots" as a word, but not "cubot" (a phone brand).
	`(?<! cu)bots?(?:\b|_)`: notBefore(" cu") + `bots?(?:\b|_)`,
	// isbot: "scan" but not "camscan(ner)".
	`(?<!cam)scan`: notBefore("cam") + "scan",
	// isbot: "http" but not "libhttp".
	`(?<!lib)http`: notBefore("lib") + "http",
	// isbot: "java" not followed by ";" (a J2ME phone's "Java;" token).
	`java(?!;)`: "java" + notAfter(";"),
}

// trie is a set of lowercase literals used to expand look-arounds.
type trie struct {
	end  bool
	next map[byte]*trie
}

func newTrie(lits []string, reverse bool) *trie {
	root := &trie{next: map[byte]*trie{}}
	for _, l := range lits {
		n := root
		for i := range len(l) {
			c := l[i]
			if reverse {
				c = l[len(l)-1-i]
			}
			if n.next[c] == nil {
				n.next[c] = &trie{next: map[byte]*trie{}}
			}
			n = n.next[c]
		}
		n.end = true
	}
	return root
}

// keys returns the trie's next bytes in a fixed order.
func (t *trie) keys() []byte {
	ks := make([]byte, 0, len(t.next))
	for c := range t.next {
		ks = append(ks, c)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

// class returns a negated character class of the trie's next bytes.
func (t *trie) class() string {
	var b strings.Builder
	b.WriteString("[^")
	for _, c := range t.keys() {
		if strings.IndexByte(`\]^-[`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	b.WriteString("]")
	return b.String()
}

// notAfter returns an RE2 expression equivalent to (?!(?:lit1|lit2|...)) for
// a pattern that is searched anywhere: at the end of text, or a character
// that starts no literal, or a partial literal followed by either.
func notAfter(lits ...string) string {
	var walk func(t *trie) string
	walk = func(t *trie) string {
		alts := []string{"$", t.class()}
		for _, c := range t.keys() {
			if n := t.next[c]; !n.end {
				alts = append(alts, regexp.QuoteMeta(string(c))+walk(n))
			}
		}
		return "(?:" + strings.Join(alts, "|") + ")"
	}
	return walk(newTrie(lits, false))
}

// notBefore returns an RE2 expression equivalent to (?<!lit1|lit2|...): the
// mirror image of notAfter, consuming the characters before the match.
func notBefore(lits ...string) string {
	var walk func(t *trie) string
	walk = func(t *trie) string {
		alts := []string{"^", t.class()}
		for _, c := range t.keys() {
			if n := t.next[c]; !n.end {
				alts = append(alts, walk(n)+regexp.QuoteMeta(string(c)))
			}
		}
		return "(?:" + strings.Join(alts, "|") + ")"
	}
	return walk(newTrie(lits, true))
}

// splitPatterns returns the non-empty lines of an embedded pattern file,
// keeping their spaces.
func splitPatterns(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSuffix(l, "\r")
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// compileList compiles one pattern list, porting the patterns RE2 rejects.
// It returns the compiled patterns and how many were taken as they are and
// how many were ported.
func compileList(name string, pats []string) (res []*regexp.Regexp, asIs, ported int, err error) {
	res = make([]*regexp.Regexp, 0, len(pats))
	for i, p := range pats {
		src := p
		if rep, ok := portedPatterns[p]; ok {
			src = rep
			ported++
		} else {
			asIs++
		}
		re, err := compileLower(src)
		if err != nil {
			what := "needs a port"
			if src != p {
				what = "port"
			}
			return nil, 0, 0, fmt.Errorf("abuse: %s line %d: %q %s: %w", name, i+1, p, what, err)
		}
		res = append(res, re)
	}
	return res, asIs, ported, nil
}

// compileLower compiles a case-insensitive pattern into a case-sensitive one
// that matches the same lowercased ASCII text: it lowercases the literals and
// lets the parser fold the character classes. Why: Go's regexp finds a
// case-sensitive literal prefix with strings.Index, where (?i) or one big
// alternation of all patterns forces the slow NFA over every byte (one
// alternation of all 1,706 patterns measured 4.9 ms per uncached UA, and one
// of the 125 non-literal ones 0.64 ms; this way the whole miss costs about
// 0.4 ms, see BenchmarkBotUAMiss).
func compileLower(p string) (*regexp.Regexp, error) {
	tree, err := syntax.Parse(p, syntax.Perl|syntax.FoldCase)
	if err != nil {
		return nil, err
	}
	var walk func(t *syntax.Regexp)
	walk = func(t *syntax.Regexp) {
		if t.Op == syntax.OpLiteral && t.Flags&syntax.FoldCase != 0 {
			for i, r := range t.Rune {
				t.Rune[i] = unicode.ToLower(r)
			}
			t.Flags &^= syntax.FoldCase
		}
		for _, s := range t.Sub {
			walk(s)
		}
	}
	walk(tree)
	return regexp.Compile(tree.String())
}

// BotUA tells declared bots from browsers by their User-Agent header, using
// the isbot and crawler-user-agents pattern lists (hard GIVT in ABUSE.md). A
// search over the 1,706 patterns costs about 0.4 ms, so results are cached per UA string in a bounded LRU. It is safe for
// concurrent use.
type BotUA struct {
	literals []string         // patterns that are plain lowercase literals
	patterns []*regexp.Regexp // all other patterns, lowercase: see compileLower
	cache    *lru.Cache[string, bool]
}

// NewBotUA compiles the embedded pattern lists and returns a classifier that
// caches the verdicts of up to cacheSize distinct User-Agents (at least 1).
func NewBotUA(cacheSize int) (*BotUA, error) {
	isbot, _, _, err := compileList("isbot-patterns.txt", splitPatterns(isbotPatterns))
	if err != nil {
		return nil, err
	}
	crawler, _, _, err := compileList("crawler-user-agents.txt", splitPatterns(crawlerPatterns))
	if err != nil {
		return nil, err
	}
	cache, err := lru.New[string, bool](max(cacheSize, 1))
	if err != nil {
		return nil, fmt.Errorf("abuse: bot UA cache: %w", err)
	}
	b := &BotUA{cache: cache}
	for _, re := range append(isbot, crawler...) {
		// 1,581 of the 1,706 patterns are plain words ("googlebot"):
		// strings.Contains checks them all in about 70 µs; the other 125
		// regexps take about 270 µs per uncached UA.
		if lit, complete := re.LiteralPrefix(); complete {
			b.literals = append(b.literals, lit)
		} else {
			b.patterns = append(b.patterns, re)
		}
	}
	return b, nil
}

// IsBot reports whether ua is a declared bot. It is also true, without
// consulting the lists or the cache, for the other User-Agents ABUSE.md counts
// as hard GIVT: an empty one, one longer than MaxUALen bytes, and one with a
// byte outside printable-or-space ASCII (real browsers send neither non-ASCII
// nor control bytes). Matching is case-insensitive, as in isbot.
func (b *BotUA) IsBot(ua string) bool {
	if ua == "" || len(ua) > MaxUALen {
		return true
	}
	for i := range len(ua) {
		if c := ua[i]; c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7f {
			return true
		}
	}
	if v, ok := b.cache.Get(ua); ok {
		return v
	}
	v := b.match(strings.ToLower(ua))
	// Copy the key: callers (Fiber) may hand over a string backed by a
	// reused buffer.
	b.cache.Add(strings.Clone(ua), v)
	return v
}

// match reports whether any pattern matches the lowercased ua.
func (b *BotUA) match(lower string) bool {
	for _, lit := range b.literals {
		if strings.Contains(lower, lit) {
			return true
		}
	}
	for _, re := range b.patterns {
		if re.MatchString(lower) {
			return true
		}
	}
	return false
}
