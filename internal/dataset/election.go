// Package dataset builds the demo's election-threat dataset, a realistic,
// fictional STIX 2.1 bundle of foreign influence operations against an
// election, with the design card's STIX library (github.com/TcM1911/stix2):
// the hub builds STIX with it, and validates what it is sent with its own
// stix package. All names, handles, domains and addresses are invented:
// addresses from the documentation ranges (RFC 5737), domains under
// .example. The bundle is deterministic: the same bytes every time.
package dataset

//go:generate go run ./gen ../../testdata/bundles/election-2020.json

import (
	"bytes"
	"crypto/sha1"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/TcM1911/stix2"
)

// namespace is the UUIDv5 namespace of the dataset's ids (RFC 4122's URL
// namespace, as the earlier Python generator used).
var namespace = [16]byte{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x41, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8}

// id is a stable id of kind for name: a UUIDv5 of it, with the version
// bits of a v4 (STIX asks domain objects for v4 UUIDs).
func id(kind, name string) stix2.Identifier {
	h := sha1.New()
	h.Write(namespace[:])
	h.Write([]byte(kind + ":" + name))
	b := h.Sum(nil)[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return stix2.Identifier(fmt.Sprintf("%s--%x-%x-%x-%x-%x", kind, b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]))
}

// at is 2020-month-day, minute minutes after midnight.
func at(month, day, minute int) *stix2.Timestamp {
	return &stix2.Timestamp{Time: time.Date(2020, time.Month(month), day, minute/60, minute%60, 0, 0, time.UTC)}
}

func stamp(s string) *stix2.Timestamp {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &stix2.Timestamp{Time: t}
}

// Member is one of the hub's member organizations, as the dataset names it.
type Member struct {
	Org, Name string
	Identity  stix2.Identifier
}

// Members are the organizations of testdata/hub.yaml that made the dataset.
var Members = []Member{
	{"facebook", "Meta Platforms (Facebook)", "identity--a1b30293-ab98-4670-8345-1107bb708679"},
	{"google", "Google", "identity--de36c7c8-ac9e-4332-b26a-53dafd1303b5"},
	{"microsoft", "Microsoft", "identity--3e729774-e2af-499b-9012-12fb3e1fb823"},
	{"twitter", "Twitter", "identity--fe42261b-620b-4f82-b30e-f420740d2575"},
	{"fbi", "Federal Bureau of Investigation", "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"},
	{"dhs", "Department of Homeland Security (CISA)", "identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9"},
	{"odni", "Office of the Director of National Intelligence", "identity--4056b917-7055-4830-8a96-7f6cca98cb32"},
}

func member(org string) Member {
	for _, m := range Members {
		if m.Org == org {
			return m
		}
	}
	panic("no member " + org)
}

// builder collects the objects in order and remembers the first error.
type builder struct {
	objects []stix2.STIXObject
	err     error
	rng     *rand.Rand
}

func (b *builder) add(o stix2.STIXObject, err error) {
	if err != nil && b.err == nil {
		b.err = err
	}
	if err == nil {
		b.objects = append(b.objects, o)
	}
}

// made are the options every object made by org at t carries.
func made(org string, t *stix2.Timestamp, marking *stix2.MarkingDefinition) []stix2.STIXOption {
	opts := []stix2.STIXOption{stix2.OptionCreatedBy(member(org).Identity), stix2.OptionCreated(t), stix2.OptionModified(t)}
	if marking != nil {
		opts = append(opts, stix2.OptionObjectMarking([]stix2.Identifier{marking.ID}))
	}
	return opts
}

func (b *builder) relationship(key, org string, t *stix2.Timestamp, typ stix2.RelationshipType, source, target stix2.Identifier) {
	r, err := stix2.NewRelationship(typ, source, target, made(org, t, nil)...)
	if err == nil {
		r.ID = id("relationship", key)
	}
	b.add(r, err)
}

func (b *builder) pick(words []string) string { return words[b.rng.IntN(len(words))] }

// between is a number in [lo, hi].
func (b *builder) between(lo, hi int) int { return lo + b.rng.IntN(hi-lo+1) }

// Election2020 is the dataset as an indented bundle: 579 objects.
func Election2020() ([]byte, error) {
	b := &builder{rng: rand.New(rand.NewPCG(2020, 2020))}
	for _, tlp := range []*stix2.MarkingDefinition{stix2.TLPWhite, stix2.TLPGreen, stix2.TLPAmber} {
		b.add(tlp, nil)
	}
	for _, m := range Members {
		sector := "technology"
		if m.Org == "fbi" || m.Org == "dhs" || m.Org == "odni" {
			sector = "government-national"
		}
		t := at(1, 15, 0)
		o, err := stix2.NewIdentity(m.Name, stix2.OptionClass("organization"), stix2.OptionSectors([]string{sector}), stix2.OptionCreated(t), stix2.OptionModified(t))
		if err == nil {
			o.ID = m.Identity
		}
		b.add(o, err)
	}

	actors := []struct{ name, description, org string }{
		{"Volga Troll Works", "State-directed troll farm posing as American activists across social platforms.", "fbi"},
		{"Sandstorm Unit", "Military intelligence unit behind hack-and-leak operations against campaign staff.", "odni"},
		{"Quillwriter", "Operators who compromise news sites and plant forged articles and letters.", "dhs"},
	}
	var actorIDs []stix2.Identifier
	for i, a := range actors {
		actor, err := stix2.NewThreatActor(a.name, append(made(a.org, at(2, 3+i, 0), stix2.TLPGreen),
			stix2.OptionDescription(a.description), stix2.OptionTypes([]string{"nation-state"}), stix2.OptionSophistication("advanced"),
			stix2.OptionPrimaryMotivation("ideology"), stix2.OptionFirstSeen(stamp("2019-06-01T00:00:00Z")))...)
		if err != nil {
			return nil, err
		}
		actor.ID = id("threat-actor", a.name)
		actorIDs = append(actorIDs, actor.ID)
		b.add(actor, nil)
		set, err := stix2.NewIntrusionSet(a.name+" infrastructure", append(made(a.org, at(2, 3+i, 30), stix2.TLPGreen),
			stix2.OptionDescription("Accounts, domains and servers run by "+a.name+"."), stix2.OptionGoals([]string{"influence the 2020 election"}),
			stix2.OptionResourceLevel("government"))...)
		if err != nil {
			return nil, err
		}
		set.ID = id("intrusion-set", a.name+" infrastructure")
		b.add(set, nil)
		b.relationship("iset-actor"+a.name, a.org, at(2, 4+i, 0), stix2.RelationshipTypeAttributedTo, set.ID, actor.ID)
	}

	var patternIDs []stix2.Identifier
	for _, p := range []string{"Coordinated inauthentic behaviour", "Hack-and-leak", "Fake polling-place notices", "Voter-registration phishing", "Synthetic media (deepfake audio)"} {
		ap, err := stix2.NewAttackPattern(p, append(made("dhs", at(3, 1, 0), stix2.TLPGreen), stix2.OptionDescription(p+" aimed at voters or election officials."))...)
		if err == nil {
			ap.ID = id("attack-pattern", p)
			patternIDs = append(patternIDs, ap.ID)
		}
		b.add(ap, err)
	}

	campaigns := []struct {
		name, description string
		actor             int
		org               string
	}{
		{"Operation Ballot Box", "False polling-place closures and hours, pushed on election eve.", 0, "facebook"},
		{"Operation Postmark", "Claims that mail-in ballots are discarded, amplified by fake local news pages.", 0, "twitter"},
		{"Operation Open Door", "Phishing of county election officials and leaks of their mail.", 1, "microsoft"},
		{"Operation Letterhead", "Forged letters from election officials planted on compromised news sites.", 2, "google"},
	}
	var campaignIDs []stix2.Identifier
	for i, c := range campaigns {
		camp, err := stix2.NewCampaign(c.name, append(made(c.org, at(3, 10+i, 0), stix2.TLPGreen),
			stix2.OptionDescription(c.description), stix2.OptionFirstSeen(stamp("2020-03-01T00:00:00Z")), stix2.OptionObjective("Reduce turnout and trust in the result"))...)
		if err != nil {
			return nil, err
		}
		camp.ID = id("campaign", c.name)
		campaignIDs = append(campaignIDs, camp.ID)
		b.add(camp, nil)
		b.relationship("camp-actor"+c.name, c.org, at(3, 12+i, 0), stix2.RelationshipTypeAttributedTo, camp.ID, actorIDs[c.actor])
		for _, p := range []int{i, (i + 2) % len(patternIDs)} {
			b.relationship(fmt.Sprintf("camp-ap%s%d", c.name, p), c.org, at(3, 12+i, 0), stix2.RelationshipTypeUses, camp.ID, patternIDs[p])
		}
	}

	words := []string{"patriot", "voter", "ballot", "freedom", "eagle", "liberty", "county", "precinct", "truth", "news"}
	sites := []string{"vote-info", "ballot-check", "polls-today", "election-help", "county-vote"}
	var indicators []*stix2.Indicator
	for n := range 240 {
		campaign := n % len(campaignIDs)
		org := []string{"facebook", "twitter", "google", "microsoft", "fbi", "dhs"}[n%6]
		var pattern, name string
		switch n % 4 {
		case 0:
			handle := fmt.Sprintf("%s_%s%d", b.pick(words), b.pick(words), b.between(10, 9999))
			platform := "twitter"
			if org == "facebook" {
				platform = "facebook"
			}
			pattern = fmt.Sprintf("[user-account:account_login = '%s' AND user-account:account_type = '%s']", handle, platform)
			name = fmt.Sprintf("Inauthentic %s account @%s", platform, handle)
		case 1:
			domain := fmt.Sprintf("%s-%d.example", b.pick(sites), b.between(100, 999))
			pattern, name = fmt.Sprintf("[domain-name:value = '%s']", domain), "Lookalike election domain "+domain
		case 2:
			url := fmt.Sprintf("https://%s-%d.example/%s/%d", b.pick(sites), b.between(100, 999), b.pick(words), b.between(1, 99))
			pattern, name = fmt.Sprintf("[url:value = '%s']", url), "Landing page of a voter-registration phishing lure"
		default:
			ip := fmt.Sprintf("%s.%d", b.pick([]string{"198.51.100", "203.0.113", "192.0.2"}), b.between(1, 254))
			pattern, name = fmt.Sprintf("[ipv4-addr:value = '%s']", ip), "Proxy used by the operators, "+ip
		}
		created := at(4+n/40, 1+n%28, n%600)
		marking := stix2.TLPGreen
		if n%5 == 0 {
			marking = stix2.TLPAmber
		}
		ind, err := stix2.NewIndicator(pattern, "stix", created, append(made(org, created, marking),
			stix2.OptionName(name), stix2.OptionTypes([]string{"malicious-activity"}), stix2.OptionConfidence(50+n%40),
			stix2.OptionLabels([]string{"election-2020", strings.ToLower(strings.ReplaceAll(campaigns[campaign].name, " ", "-"))}))...)
		if err != nil {
			return nil, err
		}
		ind.ID = id("indicator", fmt.Sprintf("ind%d", n))
		indicators = append(indicators, ind)
		b.add(ind, nil)
		b.relationship(fmt.Sprintf("indicates%d", n), org, created, stix2.RelationshipTypeIndicates, ind.ID, campaignIDs[campaign])
	}

	// Later versions: raised confidence, and some indicators withdrawn.
	for n := 0; n < 240; n += 12 {
		confirmed := *indicators[n]
		confirmed.Modified = stamp("2020-10-15T12:00:00Z")
		confirmed.Confidence = 95
		confirmed.Description = "Confirmed by a second member organization."
		b.add(&confirmed, nil)
		if n%48 == 0 {
			withdrawn := confirmed
			withdrawn.Modified = stamp("2020-11-20T09:00:00Z")
			withdrawn.Revoked = true
			withdrawn.Description = "Withdrawn: the account was reassigned to an unrelated user."
			b.add(&withdrawn, nil)
		}
	}

	for n := range 30 {
		org := []string{"facebook", "google", "microsoft", "twitter"}[n%4]
		s, err := stix2.NewSighting(indicators[n*7%240].ID, append(made(org, at(10, 1+n%28, 0), stix2.TLPGreen),
			stix2.OptionWhereSighted([]stix2.Identifier{member(org).Identity}), stix2.OptionCount(int64(3+n%50)),
			stix2.OptionFirstSeen(stamp("2020-10-01T00:00:00Z")), stix2.OptionLastSeen(stamp("2020-10-31T00:00:00Z")))...)
		if err == nil {
			s.ID = id("sighting", fmt.Sprintf("s%d", n))
		}
		b.add(s, err)
	}

	for i, c := range campaigns {
		refs := []stix2.Identifier{campaignIDs[i]}
		for n, ind := range indicators {
			if n%len(campaignIDs) == i && len(refs) <= 30 {
				refs = append(refs, ind.ID)
			}
		}
		org := []string{"fbi", "dhs", "odni", "fbi"}[i]
		r, err := stix2.NewReport("Assessment: "+c.name, at(10, 21+i, 0), refs, append(made(org, at(10, 20+i, 0), stix2.TLPAmber),
			stix2.OptionDescription(c.description), stix2.OptionTypes([]string{"campaign", "threat-actor"}))...)
		if err == nil {
			r.ID = id("report", "Assessment: "+c.name)
		}
		b.add(r, err)
	}
	if b.err != nil {
		return nil, b.err
	}
	return bundle(id("bundle", "election-2020"), b.objects)
}

// bundle writes objects, in order, as an indented bundle.
func bundle(id stix2.Identifier, objects []stix2.STIXObject) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	err := enc.Encode(struct {
		Type    string             `json:"type"`
		ID      stix2.Identifier   `json:"id"`
		Objects []stix2.STIXObject `json:"objects"`
	}{"bundle", id, objects})
	return buf.Bytes(), err
}
