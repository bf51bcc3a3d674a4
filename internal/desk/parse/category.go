package parse

import "strings"

// wordRules map words found in a format's own type or category onto the desk's categories.
// The first rule whose word occurs in the folded text wins, so "vuln_scanning" is scanning
// and "ddos_amplification" is dos.
var wordRules = []struct {
	word string
	cat  Category
}{
	{"copyright", CategoryCopyright}, {"dmca", CategoryCopyright}, {"infring", CategoryCopyright},
	{"piracy", CategoryCopyright},
	{"phish", CategoryFraud}, {"fraud", CategoryFraud}, {"scam", CategoryFraud},
	{"spam", CategorySpam}, {"bulkmessag", CategorySpam},
	{"ddos", CategoryDoS}, {"flood", CategoryDoS}, {"amplif", CategoryDoS}, {"scraping", CategoryDoS},
	{"scan", CategoryScanning}, {"recon", CategoryScanning}, {"probe", CategoryScanning},
	{"login", CategoryBruteForce}, {"brute", CategoryBruteForce}, {"authfail", CategoryBruteForce},
	{"credential", CategoryBruteForce}, {"passwordguess", CategoryBruteForce},
	{"malware", CategoryHacking}, {"botnet", CategoryHacking}, {"exploit", CategoryHacking},
	{"hack", CategoryHacking}, {"intrusion", CategoryHacking}, {"vuln", CategoryHacking},
	{"compromis", CategoryHacking}, {"infected", CategoryHacking}, {"virus", CategoryHacking},
	{"injection", CategoryHacking}, {"sqli", CategoryHacking}, {"webattack", CategoryHacking},
	{"defac", CategoryHacking}, {"cve", CategoryHacking}, {"misconfig", CategoryHacking},
	{"harass", CategoryHarassment},
}

// exactRules are short words that only count when they are the whole word.
var exactRules = map[string]Category{
	"dos": CategoryDoS, "c2": CategoryHacking, "threat": CategoryHarassment,
}

// classify maps a type or category word of any format onto a category, CategoryNone when
// it names nothing known.
func classify(word string) Category {
	w := foldWord(word)
	if w == "" {
		return CategoryNone
	}
	if c, ok := exactRules[w]; ok {
		return c
	}
	for _, r := range wordRules {
		if strings.Contains(w, r.word) {
			return r.cat
		}
	}
	return CategoryNone
}

// foldWord keeps the lower-case letters and digits of s.
func foldWord(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && i < 256; i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
			b.WriteByte(c)
		case 'A' <= c && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		}
	}
	return b.String()
}
