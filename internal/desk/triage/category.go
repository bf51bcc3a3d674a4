package triage

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"sortie.dev/sortie/internal/desk/parse"
)

// How the category is decided when no structured report and no rule says: keywords in the
// Subject and the text, looked up in the table below.
//
// Two categories route a mail rather than describe it, and are tried first: law-enforcement
// and upstream. Each needs a weight of at least 2 (a strong word such as "subpoena" weighs 2,
// a weaker one such as "police" 1, and every distinct keyword counts once) and the mail must
// name one of our addresses (at any time): police and providers write about our addresses,
// while a scam that mentions the police, or phishing that threatens to "suspend" an account
// "within 24 hours", names none of them.
//
// Otherwise every other category scores the weights of its distinct keywords found, and the
// highest score wins; a tie goes to the category listed first. No keyword: other.
var keywordTable = []keyword{
	// law-enforcement (routing)
	{parse.CategoryLawEnforcement, `law enforcement`, 2},
	{parse.CategoryLawEnforcement, `court order`, 2},
	{parse.CategoryLawEnforcement, `subpoena`, 2},
	{parse.CategoryLawEnforcement, `search warrant`, 2},
	{parse.CategoryLawEnforcement, `staatsanwalt`, 2},
	{parse.CategoryLawEnforcement, `polizei`, 2},
	{parse.CategoryLawEnforcement, `public prosecutor`, 2},
	{parse.CategoryLawEnforcement, `preservation (?:request|order)`, 2},
	{parse.CategoryLawEnforcement, `police`, 1},
	{parse.CategoryLawEnforcement, `criminal investigation`, 1},
	{parse.CategoryLawEnforcement, `ermittlungsverfahren`, 1},
	// upstream (routing)
	{parse.CategoryUpstream, `your server`, 1},
	{parse.CategoryUpstream, `our customer`, 1},
	{parse.CategoryUpstream, `deadline`, 1},
	{parse.CategoryUpstream, `suspen(?:d|sion)`, 1},
	{parse.CategoryUpstream, `null[- ]?rout`, 1},
	{parse.CategoryUpstream, `within (?:24|48|72) hours`, 1},
	{parse.CategoryUpstream, `dear customer`, 1},
	{parse.CategoryUpstream, `terms of service|acceptable use policy`, 1},
	{parse.CategoryUpstream, `(?:response|statement|answer) (?:is )?required|send us a statement`, 1},
	// descriptive categories, in tie-break order
	{parse.CategoryCopyright, `copyright`, 2},
	{parse.CategoryCopyright, `dmca`, 2},
	{parse.CategoryCopyright, `infring`, 2},
	{parse.CategoryCopyright, `intellectual property`, 1},
	{parse.CategoryCopyright, `torrent`, 1},
	{parse.CategoryBruteForce, `brute`, 2},
	{parse.CategoryBruteForce, `login attempts?`, 2},
	{parse.CategoryBruteForce, `failed password`, 2},
	{parse.CategoryBruteForce, `authentication failures?`, 1},
	{parse.CategoryBruteForce, `invalid user`, 1},
	{parse.CategoryBruteForce, `ssh`, 1},
	{parse.CategoryBruteForce, `password guessing`, 1},
	{parse.CategoryDoS, `ddos`, 2},
	{parse.CategoryDoS, `denial[- ]of[- ]service`, 2},
	{parse.CategoryDoS, `flood`, 2},
	{parse.CategoryDoS, `\bdos\b`, 1},
	{parse.CategoryFraud, `phishing`, 2},
	{parse.CategoryFraud, `fraud`, 2},
	{parse.CategoryFraud, `scam`, 2},
	{parse.CategoryFraud, `carding|stolen credit card`, 1},
	{parse.CategoryHacking, `hack`, 2},
	{parse.CategoryHacking, `exploit`, 2},
	{parse.CategoryHacking, `sql injection|sqli\b`, 2},
	{parse.CategoryHacking, `defac`, 2},
	{parse.CategoryHacking, `remote code execution|path traversal|\bxss\b`, 1},
	{parse.CategoryHacking, `compromise`, 1},
	{parse.CategoryScanning, `scan`, 2},
	{parse.CategoryScanning, `prob(?:e|es|ing)\b`, 1},
	{parse.CategorySpam, `spam`, 2},
	{parse.CategorySpam, `unsolicited`, 2},
	{parse.CategorySpam, `bulk mail`, 1},
	{parse.CategoryHarassment, `harass`, 2},
	{parse.CategoryHarassment, `threat`, 1},
	{parse.CategoryHarassment, `stalk|blackmail|extort`, 1},
}

type keyword struct {
	category parse.Category
	pattern  string
	weight   int
}

// routing lists the routing categories, tried before the others.
var routing = []parse.Category{parse.CategoryLawEnforcement, parse.CategoryUpstream}

const (
	routingWeight   = 2
	maxCategoryScan = 64 << 10
)

type compiledKeyword struct {
	keyword
	re *regexp.Regexp
}

var keywords = func() []compiledKeyword {
	out := make([]compiledKeyword, len(keywordTable))
	for i, k := range keywordTable {
		out[i] = compiledKeyword{k, regexp.MustCompile(`(?i)` + k.pattern)}
	}
	return out
}()

// categoryByKeywords returns the category the words of subject and text point to, with the
// keywords that decided it. namesOurs says whether the mail names one of our addresses.
func categoryByKeywords(subject, text string, namesOurs bool) (parse.Category, []string) {
	s := subject + "\n" + bounded(text, maxCategoryScan)
	s = strings.Join(strings.Fields(s), " ")
	score := map[parse.Category]int{}
	found := map[parse.Category][]string{}
	for _, k := range keywords {
		if w := k.re.FindString(s); w != "" {
			score[k.category] += k.weight
			found[k.category] = append(found[k.category], strings.ToLower(w))
		}
	}
	if namesOurs {
		for _, c := range routing {
			if score[c] >= routingWeight {
				return c, found[c]
			}
		}
	}
	best, bestScore := parse.CategoryOther, 0
	for _, k := range keywords { // table order breaks ties
		if slices.Contains(routing, k.category) {
			continue
		}
		if sc := score[k.category]; sc > bestScore {
			best, bestScore = k.category, sc
		}
	}
	return best, found[best]
}

// decideCategory picks the category: a structured report's own, else the rule's, else the
// keywords'. It returns the category and the reason.
func decideCategory(m *parse.Message, reports []parse.Report, ruleName string, ruleCat parse.Category, namesOurs bool) (parse.Category, string) {
	for _, r := range reports {
		if r.Format != parse.FormatProse && r.Format != "" && r.Category != parse.CategoryNone {
			return r.Category, fmt.Sprintf("category %s, as the %s report says", r.Category, r.Format)
		}
	}
	if ruleCat != parse.CategoryNone {
		return ruleCat, fmt.Sprintf("category %s, from rule %q", ruleCat, ruleName)
	}
	c, words := categoryByKeywords(m.Subject, m.Text, namesOurs)
	if len(words) == 0 {
		return c, fmt.Sprintf("category %s: no keyword of the table found", c)
	}
	return c, fmt.Sprintf("category %s, from the words %s", c, strings.Join(quoteAll(words), ", "))
}

func quoteAll(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = fmt.Sprintf("%q", w)
	}
	return out
}
