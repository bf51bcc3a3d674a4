package triage_test

// Dev templates: the rules and the keyword table were developed on these, and the filter is
// trained on mails made from them. The held-out templates must not borrow their wording.

import (
	"fmt"
	"strings"
	"time"

	"sortie.dev/sortie/internal/desk/parse"
	"sortie.dev/sortie/internal/desk/triage"
)

// devRules are the operator's sender rules as developed on the dev set.
var devRules = []triage.Rule{
	{Name: "hoster", From: "hosting.example.net", Action: "queue", Category: "upstream"},
	{Name: "guardian-feed", From: "*@guardian.example.net", Header: "X-Arf", Action: "ignore"},
}

// devCases are our cases that dev replies refer to.
var devCases = map[int64]bool{101: true, 102: true, 103: true}

var devComplaints = []template{
	{"dev-xarf01-login", 6, devXARF01Login},
	{"dev-xarf02-scan", 5, devXARF02Scan},
	{"dev-arf-abuse", 4, devARFAbuse},
	{"dev-xarf4-ddos", 4, devXARF4DDoS},
	{"dev-acns-clearsigned", 5, devACNS},
	{"dev-fail2ban", 5, devFail2ban},
	{"dev-prose-ssh", 5, devProseSSH},
	{"dev-prose-sqli", 4, devProseSQLi},
	{"dev-prose-hoster", 4, devProseHoster},
	{"dev-prose-police", 3, devProsePolice},
	{"dev-prose-harass", 3, devProseHarass},
	{"dev-prose-phish", 3, devProsePhish},
	{"dev-prose-dos", 3, devProseDoS},
	{"dev-reply-tag", 3, devReplyTag},
	{"dev-noreply-monitor", 4, devNoreplyMonitor},
	{"dev-prose-old-address", 3, devProseOldAddress},
	{"dev-prose-not-ours", 3, devProseNotOurs},
}

var devSpam = []template{
	{"dev-spam-seo", 5, devSpamSEO},
	{"dev-spam-crypto", 5, devSpamCrypto},
	{"dev-spam-quota", 4, devSpamQuota},
	{"dev-spam-newsletter", 4, devSpamNewsletter},
	{"dev-spam-inheritance", 4, devSpamInheritance},
	{"dev-spam-sextortion", 3, devSpamSextortion},
	{"dev-spam-pharma", 4, devSpamPharma},
	{"dev-spam-webdesign", 4, devSpamWebdesign},
}

func complaint(cat parse.Category, automated bool) truth {
	return truth{category: cat, automated: automated, oursAtTime: true}
}

func devXARF01Login(g *gen) sample {
	at, src, port := g.when(), g.ours4(), 22
	service := g.pick("ssh", "ftp", "imap")
	if service == "ftp" {
		port = 21
	} else if service == "imap" {
		port = 143
	}
	human := fmt.Sprintf("Dear network operator,\n\nour sensors at guardian.example.net recorded %d failed %s logins from %s.\n"+
		"The machine-readable report is attached (X-ARF).\n\nGuardian Reporting\n", g.intn(8, 400), service, src)
	report := fmt.Sprintf("---\nReported-From: reports@guardian.example.net\nCategory: abuse\nReport-Type: login-attack\n"+
		"Service: %s\nVersion: 0.1\nUser-Agent: GuardianReporter 2.4\nDate: %s\nSource-Type: ipv4\nSource: %s\nPort: %d\n"+
		"Report-ID: %s@guardian.example.net\nSchema-URL: http://www.x-arf.org/schema/abuse_login-attack_0.1.2.json\n"+
		"Attachment: text/plain\nOccurrences: %d\n", service, at.Format(time.RFC3339), src, port, g.id("gr"), g.intn(8, 400))
	logs := g.logLines(g.intn(3, 8), at, func(t time.Time) string {
		return fmt.Sprintf("%s gate%d %sd[%d]: authentication failure for user %s from %s", t.Format(time.Stamp),
			g.intn(1, 9), service, g.intn(1000, 9999), g.pick("root", "admin", "test", "oracle"), src)
	})
	m := newMail(g, "reports@guardian.example.net", fmt.Sprintf("[X-ARF] abuse report about %s", src), at).
		set("X-ARF", "YES").set("Auto-Submitted", "auto-generated").
		multipart(g, "mixed", part{"text/plain; charset=utf-8", "", human},
			part{"text/plain; charset=utf-8", "report.txt", report}, part{"text/plain", "logs.txt", logs})
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryBruteForce, true)}
}

func devXARF02Scan(g *gen) sample {
	at, src := g.when(), g.ours()
	human := fmt.Sprintf("Hello,\n\nhost %s has been scanning our address space. Details follow in the attached report.\n\n"+
		"-- \nScanWatch automated reporting\n", src)
	report := fmt.Sprintf("Reported-From: watch@scanwatch.example.com\nCategory: info\nReport-Type: portscan\nService: tcp\n"+
		"Version: 0.2\nUser-Agent: scanwatch-reporter\nDate: %s\nSource-Type: ip-address\nSource: %s\nDestination-Port: %d\n"+
		"Report-ID: %s\nSchema-URL: http://www.x-arf.org/schema/info_portscan_0.1.0.json\nAttachment: none\n",
		at.Format(time.RFC1123Z), src, g.intn(1, 9000), g.uuid())
	m := newMail(g, "watch@scanwatch.example.com", "Portscan from "+src.String(), at).
		set("X-XARF", "PLAIN").set("Auto-Submitted", "auto-generated").
		multipart(g, "mixed", part{"text/plain; charset=utf-8", "", human}, part{"text/plain; charset=utf8", "report.txt", report})
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryScanning, true)}
}

func devARFAbuse(g *gen) sample {
	at, src := g.when(), g.ours4()
	human := "This is an email abuse report for an email message received from IP " + src.String() + " on " +
		at.Format(time.RFC1123Z) + ".\nFor more information about this format please see the feedback loop pages.\n"
	fb := fmt.Sprintf("Feedback-Type: abuse\nUser-Agent: MailFeedback/1.0\nVersion: 1\nSource-IP: %s\nArrival-Date: %s\n"+
		"Original-Mail-From: <%s@shop.example.com>\nReported-Domain: shop.example.com\n", src, at.Format(time.RFC1123Z), g.pick("deals", "promo", "info"))
	orig := fmt.Sprintf("Received: from [%s] by mx.example.org\nFrom: deals@shop.example.com\nTo: user@example.org\n"+
		"Subject: %s\nDate: %s\n\n%s\n", src, g.pick("Great deals inside", "Your reward", "Last chance"), at.Format(time.RFC1123Z),
		g.pick("Buy now and save.", "Click to claim.", "Limited offer."))
	m := newMail(g, "fbl@mailbox.example.org", "FW: abuse report", at).
		multipart(g, "report; report-type=feedback-report", part{"text/plain; charset=us-ascii", "", human},
			part{"message/feedback-report", "", fb}, part{"message/rfc822", "", orig})
	return sample{raw: m.bytes(), truth: complaint(parse.CategorySpam, true)}
}

func devXARF4DDoS(g *gen) sample {
	at, src := g.when(), g.ours()
	js := fmt.Sprintf(`{"xarf_version": "4.0.0", "report_id": %q, "timestamp": %q,
 "reporter": {"org": "Shield Networks", "contact": "soc@shield.example.net", "domain": "shield.example.net"},
 "sender": {"org": "Shield Networks", "contact": "soc@shield.example.net", "domain": "shield.example.net"},
 "source_identifier": %q, "source_port": %d, "category": "connection", "type": "ddos",
 "destination_ip": "198.51.100.%d", "destination_port": 443, "evidence_source": "flow_analysis"}`,
		g.uuid(), at.Format(time.RFC3339), src, g.port(), g.intn(1, 19))
	human := "Shield Networks detected traffic from your network taking part in a denial of service attack. " +
		"The attached XARF report has the details.\n"
	m := newMail(g, "soc@shield.example.net", "XARF report "+g.id("SN-"), at).set("Auto-Submitted", "auto-generated").
		multipart(g, "mixed", part{"text/plain", "", human}, part{"application/json", "xarf.json", js})
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryDoS, true)}
}

func devACNS(g *gen) sample {
	at, src := g.when(), g.ours4()
	title := g.pick("Harbour Lights", "The Last Orchard", "Paper Moons S02E04", "Quiet Engines", "Northbound")
	xml := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Infringement xmlns="http://www.acns.net/ACNS">
<Case><ID>%s</ID></Case>
<Complainant><Entity>Orchard Pictures</Entity><Contact>Rights Desk</Contact><Email>rights@orchard.example.com</Email></Complainant>
<Source><TimeStamp>%s</TimeStamp><IP_Address>%s</IP_Address><Port>%d</Port><Type>P2P</Type><SubType Protocol="BITTORRENT"/></Source>
<Content><Item><Title>%s</Title><FileName>%s.mkv</FileName><Hash Type="SHA1">%s</Hash></Item></Content>
</Infringement>`, g.id("OP-"), at.Format(time.RFC3339), src, g.port(), title, strings.ReplaceAll(title, " ", "."), g.hex(40))
	text := fmt.Sprintf("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nDear Sir or Madam,\n\n"+
		"We write on behalf of Orchard Pictures, which holds the rights to \"%s\".\n"+
		"- We have noticed that the address %s made this work available for download.\n"+
		"Please act to stop this infringement.\n\n%s\n\n-----BEGIN PGP SIGNATURE-----\n\niQEz%s\n-----END PGP SIGNATURE-----\n",
		title, src, dashEscape(xml), g.hex(40))
	m := newMail(g, "rights@orchard.example.com", "Notice of unauthorized distribution "+g.id("#"), at).text(text)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryCopyright, true)}
}

// dashEscape escapes lines starting with '-' as PGP clear-signing does.
func dashEscape(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "-") {
			lines[i] = "- " + l
		}
	}
	return strings.Join(lines, "\n")
}

func devFail2ban(g *gen) sample {
	at, src := g.when(), g.ours()
	host := g.pick("web1", "mx", "vps7", "nas") + "." + g.pick("example.com", "example.org", "example.net")
	body := fmt.Sprintf("Hi,\n\nThe IP %s has just been banned by Fail2Ban after %d attempts against sshd.\n\n"+
		"Here are more information about %s:\n\nLines containing IP %s in /var/log/auth.log\n\n", src, g.intn(3, 12), src, src)
	body += g.logLines(g.intn(3, 6), at, func(t time.Time) string {
		return fmt.Sprintf("%s %s sshd[%d]: Failed password for invalid user %s from %s port %d ssh2",
			t.Format(time.Stamp), strings.Split(host, ".")[0], g.intn(1000, 30000), g.pick("admin", "pi", "ubuntu", "git"), src, g.port())
	})
	body += "\nRegards,\n\nFail2Ban\n"
	m := newMail(g, "fail2ban@"+host, fmt.Sprintf("[Fail2Ban] sshd: banned %s from %s", src, host), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryBruteForce, true)}
}

func devProseSSH(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Hello abuse team,\n\n%s %s has been trying to log in to my home server over SSH since %s. "+
		"Hundreds of failed password attempts, trying user names like root and admin.\n\nPlease make it stop.\n\n%s %s\n",
		g.pick("Your address", "The host at", "Somebody at"), src, g.proseTime(at), g.name(), g.surname())
	m := newMail(g, strings.ToLower(g.name())+"@homelab.example.org", g.pick("SSH attacks from your network", "Brute force on my server", "Please stop these login attempts"), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryBruteForce, false)}
}

func devProseSQLi(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Hi,\n\nour web shop saw SQL injection attempts from %s on %s. Requests like\n"+
		"  GET /products.php?id=1%%27%%20UNION%%20SELECT%%20password%%20FROM%%20users--\nand attempts to exploit an old plugin.\n"+
		"We blocked the address. Please check what is running there.\n\n%s, IT at %s\n",
		src, g.proseTime(at), g.name(), g.pick("Blue Kettle Shop", "Corner Books", "Fjord Outdoor"))
	m := newMail(g, "it@"+g.pick("kettle", "cornerbooks", "fjord")+".example.com", "Hacking attempts against our shop", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryHacking, false)}
}

func devProseHoster(g *gen) sample {
	at, src := g.when(), g.ours4()
	ticket := g.id("HT")
	body := fmt.Sprintf("Dear customer,\n\nwe received a complaint about your server %s (%s).\n"+
		"Please resolve the issue and send us a statement by the deadline of %s.\n"+
		"If we do not hear from you we may have to suspend the server.\n\nKind regards\nAbuse Department, Hosting Example\nTicket %s\n",
		src, g.pick("port scanning", "brute force", "spam", "phishing"), at.Add(48*time.Hour).Format("2006-01-02 15:04 MST"), ticket)
	m := newMail(g, "abuse@hosting.example.net", fmt.Sprintf("Abuse ticket %s: your server %s", ticket, src), at).text(body)
	t := complaint(parse.CategoryUpstream, false)
	t.oursAtTime = true
	return sample{raw: m.bytes(), truth: t}
}

func devProsePolice(g *gen) sample {
	at, src := g.when(), g.ours4()
	body := fmt.Sprintf("Sehr geehrte Damen und Herren,\n\nim Rahmen eines Ermittlungsverfahrens der Staatsanwaltschaft Beispielstadt "+
		"(Az. %s) bitten wir um Auskunft zum Inhaber der IP-Adresse %s am %s.\n\nMit freundlichen Grüßen\nPolizeipräsidium Beispielstadt\n",
		g.id("StA "), src, at.Format("02.01.2006 um 15:04:05 MEZ"))
	m := newMail(g, "ermittlung@polizei.example", "Auskunftsersuchen "+g.id("Az "), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryLawEnforcement, false)}
}

func devProseHarass(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Someone using %s keeps posting threats and insults about me on our village forum, "+
		"most recently at %s. This has been going on for weeks and I feel harassed. Please do something.\n\n%s\n",
		src, g.proseTime(at), g.name())
	m := newMail(g, strings.ToLower(g.name())+g.pick("73", "88", "")+"@mail.example.net", "Threats posted from your IP", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryHarassment, false)}
}

func devProsePhish(g *gen) sample {
	at, src := g.when(), g.ours4()
	body := fmt.Sprintf("Hello,\n\nthe phishing page hxxps://login-%s.example.com/verify collected passwords from our members, and the "+
		"stolen accounts were then used from %s on %s for fraud in our marketplace.\n\nTrust & Safety, %s\n",
		g.pick("bank", "pay", "mail"), src, g.proseTime(at), g.pick("Market Example", "Trade Example"))
	m := newMail(g, "trust@market.example.com", "Fraud from your address "+src.String(), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryFraud, false)}
}

func devProseDoS(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Our game server was hit by a flood of UDP packets from %s starting %s, about %d Mbit/s. "+
		"It looks like a DDoS. Please stop it.\n\n%s (server admin)\n", src, g.proseTime(at), g.intn(50, 900), g.name())
	m := newMail(g, "admin@"+g.pick("pixelfort", "mineclub", "lanparty")+".example.org", "DDoS against our server", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryDoS, false)}
}

func devReplyTag(g *gen) sample {
	at := g.when()
	c := []int64{101, 102, 103}[g.r.IntN(3)]
	body := fmt.Sprintf("Thanks for the explanation. We have blocked the exit on our side and consider the matter closed.\n\n%s\n\n"+
		"> Dear reporter, the address you wrote about is an exit of a privacy network...\n", g.name())
	m := newMail(g, "noc@"+g.pick("fjord", "kettle")+".example.com", fmt.Sprintf("Re: [sortie#%d] Your abuse report", c), at).text(body)
	return sample{raw: m.bytes(), truth: truth{reply: c, category: parse.CategoryOther}}
}

func devNoreplyMonitor(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Automated notice from Sentinel Monitoring.\n\nAddress: %s\nFirst seen: %s\nActivity: %s\n\n"+
		"This mailbox is not monitored. Please do not reply to this message.\n", src, g.proseTime(at),
		g.pick("port scan on 445/tcp", "SSH brute force", "web vulnerability scan"))
	m := newMail(g, "noreply@sentinel.example.com", "Sentinel notice for "+src.String(), at).text(body)
	cat := parse.CategoryScanning
	if strings.Contains(body, "brute") {
		cat = parse.CategoryBruteForce
	}
	return sample{raw: m.bytes(), truth: complaint(cat, true)}
}

func devProseOldAddress(g *gen) sample {
	src, at := g.outside()
	body := fmt.Sprintf("Hello,\n\nat %s the address %s sent a series of login attempts to our SSH server. Please look into it.\n\n%s\n",
		g.proseTime(at), src, g.name())
	m := newMail(g, "ops@"+g.pick("farm", "studio")+".example.org", "Login attempts from "+src.String(), at).text(body)
	return sample{raw: m.bytes(), truth: truth{oursOutside: true, category: parse.CategoryBruteForce}}
}

func devProseNotOurs(g *gen) sample {
	at, src := g.when(), g.foreign()
	body := fmt.Sprintf("Dear abuse desk,\n\n%s scanned our ports and tried passwords on our mail server on %s. "+
		"I believe it belongs to your network.\n\nRegards\n%s\n", src, g.proseTime(at), g.name())
	m := newMail(g, "postmaster@"+g.pick("dune", "harbor")+".example.net", "Scan and login attempts", at).text(body)
	return sample{raw: m.bytes(), truth: truth{category: parse.CategoryBruteForce}}
}

// Spam.

func spamTruth() truth { return truth{spam: true} }

func devSpamSEO(g *gen) sample {
	body := fmt.Sprintf("Hi there,\n\nI was checking your website and noticed it is not ranking on the first page of Google for %s.\n"+
		"We offer SEO packages with high authority backlinks, from only $%d per month. Guaranteed first page results!\n\n"+
		"Reply with YES and I will send you our price list.\n\n%s\nSEO Consultant\n",
		g.pick("important keywords", "your main services", "local searches"), g.intn(99, 499), g.name())
	m := newMail(g, g.pick("rank", "seo.team", "growth")+"@seo"+g.pick("boost", "rise", "star")+".example.com",
		g.pick("Rank #1 on Google", "Your website ranking", "Quick question about your site"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func devSpamCrypto(g *gen) sample {
	body := fmt.Sprintf("Dear friend,\n\nOur automated trading platform earned investors %d%% profit last month. Start with just $250 "+
		"and watch your crypto portfolio grow. Bitcoin, Ethereum and more.\n\nRegister today: https://%s.example.net/join?ref=%s\n\n"+
		"Best wishes,\nThe Investment Team\n", g.intn(30, 400), g.pick("coinpro", "quantum-trade", "profitbot"), g.hex(6))
	m := newMail(g, "invest@"+g.pick("coinpro", "quantum-trade")+".example.net", g.pick("Make money with crypto", "Your profit is waiting", "Passive income opportunity"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func devSpamQuota(g *gen) sample {
	body := fmt.Sprintf("Dear user,\n\nYour mailbox abuse@exit.example.org has exceeded its storage quota (%d%%). Incoming messages are "+
		"on hold. To avoid losing mail, verify your account now:\n\nhttps://mail-verify-%s.example.com/login\n\n"+
		"Failure to verify will lead to account deactivation.\n\nMail Administrator\n", g.intn(95, 99), g.hex(4))
	m := newMail(g, "admin@"+g.pick("mail-verify", "webmail-support")+".example.com", "Mailbox quota exceeded", g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func devSpamNewsletter(g *gen) sample {
	body := fmt.Sprintf("THIS WEEK ONLY: %d%% off all %s!\n\nFree shipping on orders over $50. Shop the sale now at https://store.example.com/sale\n\n"+
		"You receive this newsletter because you subscribed. Unsubscribe: https://store.example.com/unsub?u=%s\n",
		g.intn(20, 70), g.pick("garden tools", "sneakers", "headphones", "kitchenware"), g.hex(8))
	m := newMail(g, "news@store.example.com", g.pick("Weekend sale", "New arrivals for you", "Don't miss out"), g.when()).
		set("Precedence", "bulk").set("List-Unsubscribe", "<https://store.example.com/unsub>").text(body)
	t := spamTruth()
	t.automated = true
	return sample{raw: m.bytes(), truth: t}
}

func devSpamInheritance(g *gen) sample {
	body := fmt.Sprintf("Greetings,\n\nI am barrister %s %s, personal attorney to a late client who left the sum of US$%d,500,000 "+
		"with no next of kin. I seek your consent to present you as the beneficiary. Kindly reply with your full name and phone number "+
		"so we can proceed. This transaction is risk free.\n\nYours faithfully\n", g.name(), g.surname(), g.intn(3, 19))
	m := newMail(g, "barrister."+strings.ToLower(g.surname())+"@lawchambers.example.org", g.pick("Confidential proposal", "Beneficiary notice", "Urgent response needed"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func devSpamSextortion(g *gen) sample {
	ip := g.foreign()
	body := fmt.Sprintf("I know your password and I have been watching you. My malware recorded you through your camera while you "+
		"visited certain websites from %s. Send $%d in Bitcoin to wallet 1%s within 48 hours or I will share the video with all "+
		"your contacts.\n", ip, g.intn(900, 2500), g.hex(30))
	m := newMail(g, g.hex(8)+"@mailer.example.net", g.pick("Your account is hacked", "I recorded you", "Security alert"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func devSpamPharma(g *gen) sample {
	body := fmt.Sprintf("Cheap meds online, no prescription needed!\n%s, %s and more at %d%% discount. Discreet delivery worldwide.\n"+
		"Order: https://%s.example.org/shop\n", g.pick("Pain relief", "Sleeping pills", "Diet pills"), g.pick("vitamins", "weight loss", "muscle growth"),
		g.intn(40, 85), g.pick("pharma-direct", "med-express", "pillbox"))
	m := newMail(g, "sales@"+g.pick("pharma-direct", "med-express")+".example.org", g.pick("Best prices on meds", "Pharmacy sale", "Feel better today"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func devSpamWebdesign(g *gen) sample {
	body := fmt.Sprintf("Hello,\n\nAre you happy with your current website? Our team of %d designers builds modern, mobile-friendly sites "+
		"and apps at affordable prices. We also do logo design and social media marketing.\n\nCan I send you some samples of our work?\n\n"+
		"Thanks,\n%s\nBusiness Development Manager\n", g.intn(10, 60), g.name())
	m := newMail(g, strings.ToLower(g.name())+"@webcraft"+g.pick("", "-studio", "-agency")+".example.com", g.pick("Website redesign", "Re: Website proposal", "Mobile app development"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}
