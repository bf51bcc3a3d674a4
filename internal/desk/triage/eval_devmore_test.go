package triage_test

// More dev material: everyday sentences that real mail of both classes is full of, and more
// kinds of junk, so that the filter trained on dev mail learns which words are neutral and
// what junk in general sounds like, as a filter trained on a real mailbox would.

import (
	"fmt"
	"strings"
)

// fillerSentences are neutral sentences found in complaints and junk alike.
var fillerSentences = []string{
	"I hope this message finds you well.", "Thank you for your time.", "Please let me know if you have any questions.",
	"Have a good day.", "Looking forward to hearing from you.", "Sorry for the long message.",
	"Thanks in advance for your help.", "Feel free to contact me if you need more information.",
	"I will be happy to provide more details.", "We would appreciate a quick answer.",
	"Just wanted to reach out about this.", "This is the second time I am writing about this.",
	"Can you please check this as soon as possible?", "I am writing to you because I think you can help.",
	"We have noticed this a few times now.", "You can reach me at this address.",
	"Please get back to me when you can.", "Let me know what you think.", "I appreciate your attention to this matter.",
	"With best wishes from the team.", "Thank you and have a nice week.", "Any help would be great.",
	"Please forward this to the right person if it is not you.", "We are available all week.",
	"Here is what we know so far.", "I would be grateful for a short reply.", "It will only take a minute.",
	"Now is a good time to talk about it.", "Our team is here to help.", "Hello and good afternoon.",
}

// fillerClosings end mail of both classes.
var fillerClosings = []string{
	"Best regards", "Kind regards", "Regards", "Thanks", "Thank you", "Cheers", "Sincerely", "Many thanks",
	"All the best", "Warm wishes", "Yours truly", "Greetings",
}

func (g *gen) fillerLines(n int) string {
	var b strings.Builder
	for range n {
		b.WriteString(fillerSentences[g.r.IntN(len(fillerSentences))] + " ")
	}
	if g.chance(0.6) {
		b.WriteString("\n\n" + fillerClosings[g.r.IntN(len(fillerClosings))] + ",\n" + g.name())
	}
	return strings.TrimSpace(b.String())
}

var devSpamMore = []template{
	{"dev-spam-distributor", 3, devSpamDistributor},
	{"dev-spam-prize", 3, devSpamPrize},
	{"dev-spam-remote-job", 3, devSpamRemoteJob},
	{"dev-spam-software-deal", 3, devSpamSoftwareDeal},
	{"dev-spam-invoice", 3, devSpamInvoice},
	{"dev-spam-parcel", 3, devSpamParcel},
	{"dev-spam-marketing-data", 3, devSpamMarketingData},
	{"dev-spam-business-funding", 3, devSpamBusinessFunding},
	{"dev-spam-solar", 2, devSpamSolar},
	{"dev-spam-hosting-reseller", 2, devSpamHostingReseller},
	{"dev-spam-charity", 2, devSpamCharity},
	{"dev-spam-dating", 2, devSpamDating},
}

func junk(g *gen, from, subject, body string) sample {
	m := newMail(g, from, subject, g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func devSpamDistributor(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("We are a leading manufacturer of %s looking for distributors in your country. Attractive margins, marketing support "+
			"and exclusive territory. Please send us your company profile and we will reply with our catalogue and price list.",
			g.pick("LED lighting", "industrial valves", "packaging machines")),
		fmt.Sprintf("Our factory produces %s at wholesale prices with OEM service. Minimum order is small and samples are free. "+
			"Reply to get the latest quotation.", g.pick("phone cases", "bamboo towels", "cable ties")))
	return junk(g, "sales"+fmt.Sprint(g.intn(1, 9))+"@"+g.pick("factory", "mfg-global")+".example.com",
		g.pick("Cooperation proposal", "Looking for distributors", "Wholesale price list"), body)
}

func devSpamPrize(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("Congratulations! Your email address was selected in our annual online lottery and you have won EUR %d,000. "+
			"To claim your prize, fill in the claim form and pay the small processing fee.", g.intn(250, 950)),
		fmt.Sprintf("You are our lucky visitor of the month! A brand new %s is reserved for you. Answer three questions to receive it, "+
			"only shipping costs apply.", g.pick("smartphone", "tablet", "coffee machine")))
	return junk(g, "claims@"+g.pick("lotto-int", "lucky-draw")+".example.net", g.pick("You are a winner", "Prize notification", "Claim your reward"), body)
}

func devSpamRemoteJob(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("We are hiring! Work from home %d hours a day and earn up to $%d per week. No experience needed, training provided. "+
			"Send your CV and WhatsApp number to apply.", g.intn(1, 3), g.intn(500, 3000)),
		"Our company needs a part-time payment agent in your area. You receive customer payments and forward them, keeping 10% "+
			"commission. Simple and legal. Reply if interested.")
	return junk(g, "hr@"+g.pick("career-now", "jobs-online")+".example.org", g.pick("Job offer", "Part-time position available", "Work from home"), body)
}

func devSpamSoftwareDeal(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("Genuine licence keys for %s at %d%% off retail price. Instant delivery by email, lifetime activation. "+
			"Visit our store and use the discount code at checkout.", g.pick("office suites", "operating systems", "antivirus"), g.intn(60, 90)),
		"Stop paying for expensive software subscriptions! Our bundle gives you every premium design tool for a one-time payment. "+
			"Offer ends at midnight.")
	return junk(g, "deals@"+g.pick("keyshop", "softbundle")+".example.com", g.pick("Licence keys on sale", "Software bundle deal", "Last day discount"), body)
}

func devSpamInvoice(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("Dear customer, please find attached invoice %s for the services provided. The payment is overdue. "+
			"Open the document on our portal to review and pay: https://billing-%s.example.net/doc", g.id("INV-"), g.hex(4)),
		fmt.Sprintf("Your subscription was renewed and USD %d.99 will be charged to your card today. If you did not authorise this, "+
			"call our billing department to cancel.", g.intn(199, 699)))
	return junk(g, "billing@"+g.hex(5)+".example.net", g.pick("Invoice overdue", "Payment confirmation", "Your order receipt"), body)
}

func devSpamParcel(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("We attempted to deliver your package today but nobody was home. Reschedule your delivery and pay the customs fee "+
			"of %d.%02d at https://track-%s.example.com", g.intn(1, 4), g.intn(0, 99), g.hex(4)),
		"Your shipment is on hold because the address is incomplete. Confirm your details within two days or the parcel goes back to the sender.")
	return junk(g, "delivery@"+g.pick("parcel-status", "ship-track")+".example.com", g.pick("Delivery failed", "Your parcel is on hold", "Shipment notice"), body)
}

func devSpamMarketingData(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("We sell verified B2B email databases: %d decision makers in IT, healthcare and finance, with names, titles and "+
			"direct emails. Boost your sales campaigns today, ask for a free sample.", g.intn(10, 90)*1000),
		"Get more leads! Our marketing lists are updated monthly and fully targeted to your industry. Pay only for what you use.")
	return junk(g, "info@"+g.pick("b2b-data", "leadlists")+".example.org", g.pick("Targeted email lists", "More leads for your business", "B2B database"), body)
}

func devSpamBusinessFunding(g *gen) sample {
	body := g.pick(
		fmt.Sprintf("Your business may qualify for funding of up to $%d,000 with approval in 24 hours. Flexible repayment, bad credit "+
			"accepted. Apply online in five minutes.", g.intn(20, 500)),
		"Private investors are ready to finance projects and companies worldwide at a low annual rate. Send us your business plan "+
			"and the amount needed.")
	return junk(g, "funding@"+g.pick("capital-fast", "invest-partners")+".example.net", g.pick("Funding approved", "Capital for your company", "Investment opportunity"), body)
}

func devSpamSolar(g *gen) sample {
	body := "Cut your electricity bill by up to 70% with solar panels. Government grants available this month, free installation survey. " +
		"Book your appointment today."
	return junk(g, "energy@solar-"+g.pick("save", "home")+".example.com", g.pick("Save on energy", "Solar grant deadline"), body)
}

func devSpamHostingReseller(g *gen) sample {
	body := fmt.Sprintf("Unlimited hosting, free domain and SSL for only $%d.99 a month! Become a reseller and earn recurring income. "+
		"Migrate your sites for free today.", g.intn(1, 4))
	return junk(g, "promo@"+g.pick("cheaphost", "hostmaxx")+".example.org", g.pick("Unlimited hosting deal", "Become a hosting reseller"), body)
}

func devSpamCharity(g *gen) sample {
	body := "Children in our orphanage need food and medicine. Any donation, however small, changes a life. Send your gift by wire " +
		"transfer or gift cards and God will bless you."
	return junk(g, "pastor."+strings.ToLower(g.surname())+"@"+g.pick("hope-mission", "care-home")+".example.org", g.pick("Please help the children", "Donation request"), body)
}

func devSpamDating(g *gen) sample {
	body := fmt.Sprintf("Hi dear, I saw your profile and I liked it. I am %d years old and looking for a serious relationship. "+
		"Write to my private email and I will send you my photos.", g.intn(24, 35))
	return junk(g, strings.ToLower(g.name())+g.hex(3)+"@"+g.pick("lovemail", "singles")+".example.net", g.pick("Hello dear", "Are you there?", "I like you"), body)
}
