package triage

import (
	"testing"

	"sortie.dev/sortie/internal/desk/parse"
)

func TestCategoryByKeywords(t *testing.T) {
	tests := []struct {
		name      string
		subject   string
		text      string
		namesOurs bool
		want      parse.Category
	}{
		{"dmca", "DMCA notice", "infringing copy of a film", true, parse.CategoryCopyright},
		{"ssh", "Abuse", "sshd: Failed password for invalid user admin", true, parse.CategoryBruteForce},
		{"portscan", "", "We detected a port scan against our network", true, parse.CategoryScanning},
		{"ddos", "DDoS from your range", "", true, parse.CategoryDoS},
		{"phishing", "", "phishing mails were sent", true, parse.CategoryFraud},
		{"sqli", "", "SQL injection attempts on our shop", true, parse.CategoryHacking},
		{"threats", "", "someone harassed and threatened my family", true, parse.CategoryHarassment},
		{"spam", "", "unsolicited comment spam on our forum", true, parse.CategorySpam},
		{"police-de", "Auskunftsersuchen", "Die Polizei ermittelt, Staatsanwaltschaft", true, parse.CategoryLawEnforcement},
		{"police-needs-ours", "URGENT", "police will arrest you, pay the fine", false, parse.CategoryOther},
		{"upstream", "Abuse ticket", "our customer ... your server ... deadline within 24 hours or we suspend it", true, parse.CategoryUpstream},
		{"upstream-needs-ours", "Account notice", "your account will be suspended within 24 hours", false, parse.CategoryOther},
		{"upstream-one-word-only", "", "your server attacked my ssh with failed password guesses", true, parse.CategoryBruteForce},
		{"provider-forwards-scan", "", "Our customer reports a port scan from your server; deadline 48h", true, parse.CategoryUpstream},
		{"nothing", "hello", "how are you", true, parse.CategoryOther},
		{"dos-word", "", "a DoS attack", true, parse.CategoryDoS},
		{"dos-not-in-words", "", "dosage of windows", true, parse.CategoryOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, words := categoryByKeywords(tt.subject, tt.text, tt.namesOurs)
			if got != tt.want {
				t.Errorf("category %q (words %q), want %q", got, words, tt.want)
			}
		})
	}
}

func TestKeywordTableCovers(t *testing.T) {
	seen := map[parse.Category]bool{}
	for _, k := range keywordTable {
		seen[k.category] = true
		if k.weight < 1 || k.weight > 2 {
			t.Errorf("keyword %q weighs %d, want 1 or 2", k.pattern, k.weight)
		}
	}
	for _, c := range parse.Categories {
		if c != parse.CategoryOther && !seen[c] {
			t.Errorf("category %q has no keyword", c)
		}
	}
}
