package triage_test

// Held-out templates: written separately from the dev templates, with other wording, other
// senders and other layouts. Nothing was tuned on them; the evaluation measures on them.

import (
	"fmt"
	"strings"
	"time"

	"sortie.dev/sortie/internal/desk/parse"
)

// heldOutCases are our cases that held-out replies refer to (by Message-ID of our mail).
var heldOutCases = map[string]int64{"case-201.out@desk.exit.example.org": 201, "case-202.out@desk.exit.example.org": 202}

var heldOutComplaints = []template{
	{"ho-xarf-both-headers", 5, hoXARFBoth},
	{"ho-xarf3-arf-envelope", 4, hoXARF3Envelope},
	{"ho-arf-fraud", 3, hoARFFraud},
	{"ho-acns-attached", 4, hoACNSAttached},
	{"ho-fail2ban-subject", 4, hoFail2banAbuseFrom},
	{"ho-prose-v6-scan", 4, hoProseV6Scan},
	{"ho-prose-wp-bruteforce", 4, hoProseWPBrute},
	{"ho-prose-provider", 4, hoProseProvider},
	{"ho-prose-police-en", 3, hoProsePoliceEN},
	{"ho-prose-forum-spam", 4, hoProseForumSpam},
	{"ho-prose-threats", 3, hoProseThreats},
	{"ho-prose-label-copyright", 3, hoProseLabelCopyright},
	{"ho-reply-in-reply-to", 3, hoReplyInReplyTo},
	{"ho-autosubmitted-ticket", 4, hoAutoSubmittedTicket},
	{"ho-prose-before-ours", 3, hoProseBeforeOurs},
	{"ho-prose-misdirected", 3, hoProseMisdirected},
	{"ho-prose-exploit-v6", 3, hoProseExploitV6},
	{"ho-prose-scraping-dos", 3, hoProseScraping},
}

var heldOutSpam = []template{
	{"ho-spam-guest-post", 5, hoSpamGuestPost},
	{"ho-spam-domain-listing", 4, hoSpamDomainListing},
	{"ho-spam-loan", 4, hoSpamLoan},
	{"ho-spam-attendee-list", 4, hoSpamAttendeeList},
	{"ho-spam-verify-mailbox", 4, hoSpamVerifyMailbox},
	{"ho-spam-fake-police", 3, hoSpamFakePolice},
	{"ho-spam-promo-list", 4, hoSpamPromoList},
	{"ho-spam-outsourcing", 4, hoSpamOutsourcing},
}

func hoXARFBoth(g *gen) sample {
	at, src := g.when(), g.ours4()
	rtype := g.pick("login-attack", "login-attack", "harvesting")
	cat := parse.CategoryBruteForce
	category := "abuse"
	if rtype == "harvesting" {
		cat, category = parse.CategoryScanning, "info"
		rtype = "portscan"
	}
	human := fmt.Sprintf("Automatisch erzeugter Bericht / automatically generated report\n\n%s hat unsere Systeme angegriffen.\n"+
		"%s attacked our systems.\n", src, src)
	report := fmt.Sprintf("Reported-From: melder@ids.example.de\nCATEGORY: %s\nreport-type: %s\nService: smtp\nVersion: 0.2\n"+
		"user-agent: ids-melder 0.9\nDate: %s\nSource-Type: ipv4\nSource: %s\nPort: 25\nOccurances: %d\n"+
		"Report-ID: <%s@ids.example.de>\nSchema-URL: https://schema.ids.example.de/xarf/%s.json\nAttachment: text/plain\n",
		category, rtype, at.In(time.FixedZone("", 3600)).Format(time.RFC1123Z), src, g.intn(2, 90), g.hex(10), rtype)
	evidence := g.logLines(g.intn(2, 5), at, func(t time.Time) string {
		return fmt.Sprintf("%s postfix/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication failed", t.Format(time.RFC3339), g.intn(100, 9999), src)
	})
	m := newMail(g, "melder@ids.example.de", "Angriff von "+src.String(), at).
		set("X-ARF", "YES").set("X-XARF", "PLAIN").
		multipart(g, "mixed", part{"text/plain; charset=utf8", "", human},
			part{"text/plain; charset=utf8", "report.txt", report}, part{"text/plain", "evidence.txt", evidence})
	return sample{raw: m.bytes(), truth: complaint(cat, true)}
}

func hoXARF3Envelope(g *gen) sample {
	at, src := g.when(), g.ours()
	js := fmt.Sprintf(`{"Version": "3", "ReporterInfo": {"ReporterOrg": "Honeynet Example", "ReporterOrgDomain": "honey.example.org",
 "ReporterOrgEmail": "xarf@honey.example.org"}, "Disclosure": true,
 "Report": {"ReportClass": "Activity", "ReportType": "PortScan", "Date": %q, "SourceIp": %q, "SourcePort": %d,
 "DestinationPort": %d, "Samples": []}}`, at.Format(time.RFC3339), src, g.port(), g.intn(1, 1024))
	fb := "Feedback-Type: xarf\nUser-Agent: honeynet-xarf/3.1\nVersion: 1\n"
	m := newMail(g, "xarf@honey.example.org", "XARF: PortScan "+src.String(), at).
		multipart(g, "report; report-type=feedback-report",
			part{"text/plain", "", "A connection from " + src.String() + " reached our honeypot. See attached."},
			part{"message/feedback-report", "", fb}, part{"application/json", "xarf.json", js})
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryScanning, true)}
}

func hoARFFraud(g *gen) sample {
	at, src := g.when(), g.ours4()
	fb := fmt.Sprintf("Feedback-Type: fraud\nUser-Agent: PostKasten-FBL\nVersion: 0.1\nSource-IP: %s\nReceived-Date: %s\n"+
		"Reported-URI: hxxp://secure-%s.example.net/account\n", src, at.Format(time.RFC1123Z), g.pick("bank", "parcel"))
	m := newMail(g, "fbl-noreply@postkasten.example.net", "Fraud complaint", at).
		multipart(g, "report; report-type=feedback-report",
			part{"text/plain", "", "A recipient marked the attached message as fraudulent."},
			part{"message/feedback-report", "", fb},
			part{"text/rfc822-headers", "", fmt.Sprintf("Received: from [%s]\nSubject: Your parcel is waiting\n", src)})
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryFraud, true)}
}

func hoACNSAttached(g *gen) sample {
	at, src := g.when(), g.ours()
	title := g.pick("Copper Skies (Album)", "Deep Water Rising", "Lanterns", "City of Glass S01E07")
	xml := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<Infringement xmlns="http://www.acns.net/ACNS">
 <Case><ID>%s</ID><Status>Open</Status></Case>
 <Complainant><Entity>Lumen Records</Entity><Email>notices@lumen.example.net</Email></Complainant>
 <Source><TimeStamp>%s</TimeStamp><IP_Address>%s</IP_Address><Port>%d</Port><Type>P2P</Type></Source>
 <Content><Item><Title>%s</Title><Hash Type="SHA1">%s</Hash></Item></Content>
</Infringement>`, g.id("LR"), at.Format(time.RFC3339), src, g.port(), title, g.hex(40))
	human := fmt.Sprintf("To whom it may concern:\n\nLumen Records has learned that a subscriber of yours shared the recording %q. "+
		"The details are in the attached XML file. We ask you to forward this letter to the subscriber.\n\nLumen Records Rights Protection\n", title)
	m := newMail(g, "notices@lumen.example.net", "Unauthorized sharing of "+title, at).
		multipart(g, "mixed", part{"text/plain; charset=utf-8", "", human}, part{"application/xml", "notice.xml", xml})
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryCopyright, true)}
}

func hoFail2banAbuseFrom(g *gen) sample {
	at, src := g.when(), g.ours4()
	body := fmt.Sprintf("The following address was blocked by our intrusion prevention.\n\nJail: postfix-sasl\nAddress: %s\n\n", src)
	body += g.logLines(g.intn(2, 5), at, func(t time.Time) string {
		return fmt.Sprintf("%s fail2ban.actions [%d]: NOTICE [postfix-sasl] Ban %s", t.Format("2006-01-02 15:04:05,000"), g.intn(100, 999), src)
	})
	m := newMail(g, "root@"+g.pick("mail3", "relay")+".example.com", "Abuse from "+src.String(), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryBruteForce, true)}
}

func hoProseV6Scan(g *gen) sample {
	at := g.when()
	src := g.ours()
	body := fmt.Sprintf("hey,\n\nmy firewall logged %s probing a long list of ports on my box around %s.\n"+
		"nothing got in but it's annoying. can you have a look?\n\ncheers, %s\n", src, g.proseTime(at), strings.ToLower(g.name()))
	m := newMail(g, strings.ToLower(g.name())+"@tinybox.example.net", g.pick("port scanning", "your IP is probing me", "scan noise"), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryScanning, false)}
}

func hoProseWPBrute(g *gen) sample {
	at, src := g.when(), g.ours4()
	obf := strings.Replace(src.String(), ".", "[.]", 1+g.r.IntN(3))
	body := fmt.Sprintf("Good morning,\n\nMy WordPress blog is being hammered: thousands of POST /wp-login.php requests, "+
		"a brute force attack guessing the admin password. Address %s, from %s until now.\n\n"+
		"Best,\n%s %s\n(a small blog about birds)\n", obf, g.proseTime(at), g.name(), g.surname())
	m := newMail(g, strings.ToLower(g.surname())+"@birdnotes.example.org", "wp-login attack", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryBruteForce, false)}
}

func hoProseProvider(g *gen) sample {
	at, src := g.when(), g.ours4()
	body := fmt.Sprintf("Hello,\n\nA third party has reported abuse originating from IP %s, which is assigned to your dedicated machine.\n\n"+
		"Please take measures within 24 hours and reply to this ticket with an explanation. Otherwise we will null-route the address.\n\n"+
		"Excerpt of the complaint:\n  > repeated connection attempts from %s at %s\n\nNetwork Abuse Team, Rackline Example\n",
		src, src, g.proseTime(at))
	m := newMail(g, "abuse-desk@rackline.example.com", fmt.Sprintf("[Rackline #%d] Abuse notice for %s", g.intn(10000, 99999), src), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryUpstream, false)}
}

func hoProsePoliceEN(g *gen) sample {
	at, src := g.when(), g.ours4()
	body := fmt.Sprintf("OFFICIAL REQUEST\n\nReference: %s\n\nThis is a law enforcement request from the Cyber Crime Unit of the Example "+
		"County Police. We are investigating an offence and ask for subscriber information and any connection records for %s at %s.\n"+
		"A court order can be provided on request. Please preserve any data you hold.\n\nDetective Sergeant %s\n",
		g.id("CCU-"), src, g.proseTime(at), g.surname())
	m := newMail(g, "ccu."+strings.ToLower(g.surname())+"@police.example.gov", "Data request "+g.id("ref "), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryLawEnforcement, false)}
}

func hoProseForumSpam(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Hi,\n\nwe run a knitting forum and %s has been posting spam (links to pill shops and casinos) into our threads, "+
		"%d posts today, last one at %s. Please stop this unsolicited posting from your network.\n\nModerator team\n",
		src, g.intn(5, 60), g.proseTime(at))
	m := newMail(g, "mods@knitting.example.org", "Forum spam from your network", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategorySpam, false)}
}

func hoProseThreats(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("I am writing because an anonymous person using %s sent me threatening messages through my contact form "+
		"(%s). The messages say they know where I live. I have kept copies.\n\n%s\n", src, g.proseTime(at), g.name())
	m := newMail(g, strings.ToLower(g.name())+".writes@example.com", "Threatening messages", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryHarassment, false)}
}

func hoProseLabelCopyright(g *gen) sample {
	at, src := g.when(), g.ours4()
	body := fmt.Sprintf("Hello,\n\nI run a tiny independent label. Our new record was uploaded to a file sharing site from %s on %s "+
		"without permission. This is copyright infringement and it hurts our artists. Please pass this on to your user.\n\n%s, Tideway Records\n",
		src, g.proseTime(at), g.name())
	m := newMail(g, "hello@tideway.example.net", "Our music shared without permission", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryCopyright, false)}
}

func hoReplyInReplyTo(g *gen) sample {
	at := g.when()
	ids := []string{"case-201.out@desk.exit.example.org", "case-202.out@desk.exit.example.org"}
	k := g.r.IntN(2)
	body := fmt.Sprintf("Understood, thank you. One more question: do you keep any records at all?\n\n%s\n", g.name())
	m := newMail(g, "it@"+g.pick("birdnotes.example.org", "knitting.example.org"), "Re: your message", at).
		set("In-Reply-To", "<"+ids[k]+">").set("References", "<"+ids[k]+">").text(body)
	return sample{raw: m.bytes(), truth: truth{reply: int64(201 + k), category: parse.CategoryOther}}
}

func hoAutoSubmittedTicket(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Case %s was opened for your attention.\n\nSubject of the case: suspicious traffic from %s\nObserved: %s\n\n"+
		"You are receiving this because you are the listed contact for this network.\n", g.id("C-"), src, g.proseTime(at))
	m := newMail(g, "cases@netwatch.example.org", "Case opened: traffic from "+src.String(), at).
		set("Auto-Submitted", "auto-generated").text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryOther, true)}
}

func hoProseBeforeOurs(g *gen) sample {
	src, at := g.outside()
	body := fmt.Sprintf("Dear sir/madam,\n\nOn %s we recorded a flood of requests from %s against our API, which made the service "+
		"slow for everybody. Could you investigate?\n\n%s\n", g.proseTime(at), src, g.name())
	m := newMail(g, "api-team@"+g.pick("weatherly", "quotes")+".example.com", "Excessive requests", at).text(body)
	return sample{raw: m.bytes(), truth: truth{oursOutside: true, category: parse.CategoryDoS}}
}

func hoProseMisdirected(g *gen) sample {
	at, src := g.when(), g.foreign()
	body := fmt.Sprintf("Hello,\n\nI keep seeing connection attempts to my SSH port from %s (%s). "+
		"A lookup pointed me to you, sorry if that's wrong.\n\nThanks,\n%s\n", src, g.proseTime(at), g.name())
	m := newMail(g, strings.ToLower(g.name())+"@pinecone.example.net", "Connection attempts", at).text(body)
	return sample{raw: m.bytes(), truth: truth{category: parse.CategoryBruteForce}}
}

func hoProseExploitV6(g *gen) sample {
	at := g.when()
	src := g.ours()
	body := fmt.Sprintf("Our IDS flagged exploit attempts for a known remote code execution bug in our VPN appliance, coming from %s "+
		"at %s. The payload tried to download a shell script.\n\nSecurity Operations, Example University\n", src, g.proseTime(at))
	m := newMail(g, "secops@uni.example.edu", "Exploit attempts from "+src.String(), at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryHacking, false)}
}

func hoProseScraping(g *gen) sample {
	at, src := g.when(), g.ours()
	body := fmt.Sprintf("Your exit %s sent us about %d requests per second since %s, far more than our small site can take. "+
		"It is effectively a denial of service. Please rate-limit it.\n\n%s\n", src, g.intn(200, 5000), g.proseTime(at), g.name())
	m := newMail(g, "webmaster@"+g.pick("recipes", "maps")+".example.org", "Too many requests", at).text(body)
	return sample{raw: m.bytes(), truth: complaint(parse.CategoryDoS, false)}
}

// Held-out spam.

func hoSpamGuestPost(g *gen) sample {
	body := fmt.Sprintf("Hey,\n\nI'm %s, a content writer. I'd love to contribute a sponsored article to your blog about %s. "+
		"I can pay $%d for a do-follow link in the post. Interested? Let me know your rates.\n\nWarm regards\n",
		g.name(), g.pick("travel tips", "personal finance", "home improvement"), g.intn(50, 300))
	m := newMail(g, strings.ToLower(g.name())+".writer@contentmail.example.net", g.pick("Guest post collaboration", "Sponsored article for your site", "Partnership inquiry"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func hoSpamDomainListing(g *gen) sample {
	body := fmt.Sprintf("DOMAIN SERVICE NOTICE\n\nDomain: exit.example.org\nThis is your final notice to submit your domain to our search "+
		"engine listing service. Listing fee: $%d.00. Without submission your site may lose online visibility.\n"+
		"Secure your listing: https://listing-%s.example.com/pay\n", g.intn(75, 190), g.hex(4))
	m := newMail(g, "notice@domain-listing.example.com", "Final notice: exit.example.org", g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func hoSpamLoan(g *gen) sample {
	body := fmt.Sprintf("Do you need a loan? We give business and personal loans from $5,000 to $%d,000 at a low interest rate of %d%%. "+
		"No credit check. Contact us today with the amount you need.\n", g.intn(50, 900), g.intn(2, 4))
	m := newMail(g, "loans@quickfunds.example.org", g.pick("Loan offer", "Need funding?", "Financial help available"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func hoSpamAttendeeList(g *gen) sample {
	body := fmt.Sprintf("Hi,\n\nWould you be interested in the attendees list of %s %d? We have %d verified contacts with email and phone. "+
		"Let me know and I will share pricing and a sample.\n\nRegards,\n%s | Data Specialist\n",
		g.pick("CyberSec World", "Cloud Expo Example", "NetOps Summit"), 2026, g.intn(3000, 25000), g.name())
	m := newMail(g, strings.ToLower(g.name())+"@leadsdata.example.com", g.pick("Attendees list", "RE: contact list", "Follow up: attendee data"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func hoSpamVerifyMailbox(g *gen) sample {
	body := fmt.Sprintf("Security notification\n\nWe detected unusual sign-in activity on your email account. Your account will be "+
		"suspended within 24 hours unless you confirm your identity.\n\nConfirm now: https://secure-%s.example.net/confirm\n\nIT Help Desk\n", g.hex(5))
	m := newMail(g, "helpdesk@"+g.hex(6)+".example.net", "Action required: confirm your account", g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func hoSpamFakePolice(g *gen) sample {
	ip := g.foreign()
	body := fmt.Sprintf("CYBER POLICE DEPARTMENT\n\nYour computer with IP address %s has been used to visit illegal websites. "+
		"A criminal case has been opened. To close the case you must pay a fine of %d EUR in gift cards within 48 hours. "+
		"Reply to this email for payment instructions.\n", ip, g.intn(300, 900))
	m := newMail(g, "department@cyberpolice-"+g.hex(4)+".example.com", "Criminal case against you", g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}

func hoSpamPromoList(g *gen) sample {
	body := fmt.Sprintf("Spring collection is here! 🌷\n\nDiscover new %s, now with %d%% off for members. "+
		"View in browser: https://shop.example.net/promo/%s\n\nTo stop receiving these emails, click here.\n",
		g.pick("jackets", "lamps", "backpacks"), g.intn(10, 50), g.hex(6))
	m := newMail(g, "hello@shop.example.net", g.pick("New season, new style", "Members get more", "Fresh picks for you"), g.when()).
		set("Precedence", "list").set("List-Id", "<promo.shop.example.net>").text(body)
	t := spamTruth()
	t.automated = true
	return sample{raw: m.bytes(), truth: t}
}

func hoSpamOutsourcing(g *gen) sample {
	body := fmt.Sprintf("Hello,\n\nWe are an offshore software company with %d developers. We can build your product at a fraction of "+
		"the cost: Java, .NET, React, mobile. Free estimate within one day.\n\nShall we schedule a quick call this week?\n\n%s\n",
		g.intn(40, 400), g.name())
	m := newMail(g, "bd@devshore.example.com", g.pick("Dedicated developers", "Cut your development costs", "Quick call?"), g.when()).text(body)
	return sample{raw: m.bytes(), truth: spamTruth()}
}
