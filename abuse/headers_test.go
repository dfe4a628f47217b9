package abuse

import "testing"

func TestClientHintsMismatch(t *testing.T) {
	const chrome124 = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	const hints124 = `"Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"`
	cases := []struct {
		name, ua, hints string
		want            bool
	}{
		{"consistent", chrome124, hints124, false},
		{"no hints (Firefox, or http)", "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", "", false},
		{"Chrome without hints", chrome124, "", false},
		{"UA edited to another version", chrome124, `"Chromium";v="156", "Google Chrome";v="156", "Not-A.Brand";v="99"`, true},
		{"Chromium hints under a Firefox UA", "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", hints124, true},
		{"only a grease brand matches", chrome124, `"Not-A.Brand";v="124"`, false},
	}
	for _, c := range cases {
		if got := ClientHintsMismatch(c.ua, c.hints); got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
