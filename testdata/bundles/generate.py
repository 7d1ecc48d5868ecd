#!/usr/bin/env python3
"""Writes election-2020.json: a realistic, fictional STIX 2.1 dataset of foreign
influence operations against an election, for the demo and the tests.

Deterministic (run it again, get the same bytes). All names, handles, domains
and addresses are invented; addresses are from the documentation ranges
(RFC 5737) and domains use .example. Run: python3 generate.py
"""
import json
import random
import uuid

NS = uuid.UUID("6ba7b811-9dad-41d1-80b4-00c04fd430c8")
rng = random.Random(2020)


def sid(kind, name):
    u = uuid.uuid5(NS, kind + ":" + name)
    # STIX SDOs should use v4 UUIDs: keep the bits random-looking but v4.
    b = bytearray(u.bytes)
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return f"{kind}--{uuid.UUID(bytes=bytes(b))}"


def ts(day, minute=0):
    return f"2020-{day[0]:02d}-{day[1]:02d}T{minute // 60:02d}:{minute % 60:02d}:00.000Z"


TLP = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
}
MEMBERS = {
    "facebook": ("Meta Platforms (Facebook)", "identity--a1b30293-ab98-4670-8345-1107bb708679"),
    "google": ("Google", "identity--de36c7c8-ac9e-4332-b26a-53dafd1303b5"),
    "microsoft": ("Microsoft", "identity--3e729774-e2af-499b-9012-12fb3e1fb823"),
    "twitter": ("Twitter", "identity--fe42261b-620b-4f82-b30e-f420740d2575"),
    "fbi": ("Federal Bureau of Investigation", "identity--8c1d7c6a-6a5b-4b3c-9e2f-1a2b3c4d5e6f"),
    "dhs": ("Department of Homeland Security (CISA)", "identity--5c82c336-f7f2-41df-8bf4-748e2f3dd8f9"),
    "odni": ("Office of the Director of National Intelligence", "identity--4056b917-7055-4830-8a96-7f6cca98cb32"),
}
objects = []


def add(obj):
    objects.append(obj)
    return obj


def sdo(kind, key, created, by, marking="green", **props):
    o = {"type": kind, "spec_version": "2.1", "id": sid(kind, key), "created_by_ref": MEMBERS[by][1],
         "created": created, "modified": created}
    o.update(props)
    o["object_marking_refs"] = [TLP[marking]]
    return add(o)


objects.append({"type": "marking-definition", "spec_version": "2.1", "id": TLP["white"], "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp", "name": "TLP:WHITE", "definition": {"tlp": "white"}})
objects.append({"type": "marking-definition", "spec_version": "2.1", "id": TLP["green"], "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp", "name": "TLP:GREEN", "definition": {"tlp": "green"}})
objects.append({"type": "marking-definition", "spec_version": "2.1", "id": TLP["amber"], "created": "2017-01-20T00:00:00.000Z",
                "definition_type": "tlp", "name": "TLP:AMBER", "definition": {"tlp": "amber"}})
for org, (name, ident) in MEMBERS.items():
    add({"type": "identity", "spec_version": "2.1", "id": ident, "created": "2020-01-15T00:00:00.000Z",
         "modified": "2020-01-15T00:00:00.000Z", "name": name, "identity_class": "organization",
         "sectors": ["government-national"] if org in ("fbi", "dhs", "odni") else ["technology"]})

actors = [
    ("Volga Troll Works", "State-directed troll farm posing as American activists across social platforms.", "fbi"),
    ("Sandstorm Unit", "Military intelligence unit behind hack-and-leak operations against campaign staff.", "odni"),
    ("Quillwriter", "Operators who compromise news sites and plant forged articles and letters.", "dhs"),
]
actor_ids = []
for i, (name, desc, by) in enumerate(actors):
    actor_ids.append(sdo("threat-actor", name, ts((2, 3 + i)), by, name=name, description=desc,
                         threat_actor_types=["nation-state"], sophistication="advanced",
                         primary_motivation="ideology", first_seen="2019-06-01T00:00:00Z")["id"])
    iset = sdo("intrusion-set", name + " infrastructure", ts((2, 3 + i), 30), by, name=name + " infrastructure",
               description="Accounts, domains and servers run by " + name + ".", goals=["influence the 2020 election"],
               resource_level="government")
    add({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", "iset-actor" + name),
         "created": ts((2, 4 + i)), "modified": ts((2, 4 + i)), "relationship_type": "attributed-to",
         "source_ref": iset["id"], "target_ref": actor_ids[-1], "created_by_ref": MEMBERS[by][1]})

patterns = ["Coordinated inauthentic behaviour", "Hack-and-leak", "Fake polling-place notices",
            "Voter-registration phishing", "Synthetic media (deepfake audio)"]
pattern_ids = [sdo("attack-pattern", p, ts((3, 1)), "dhs", name=p, description=p + " aimed at voters or election officials.")["id"]
               for p in patterns]

campaigns = [
    ("Operation Ballot Box", "False polling-place closures and hours, pushed on election eve.", 0, "facebook"),
    ("Operation Postmark", "Claims that mail-in ballots are discarded, amplified by fake local news pages.", 0, "twitter"),
    ("Operation Open Door", "Phishing of county election officials and leaks of their mail.", 1, "microsoft"),
    ("Operation Letterhead", "Forged letters from election officials planted on compromised news sites.", 2, "google"),
]
campaign_ids = []
for i, (name, desc, actor, by) in enumerate(campaigns):
    c = sdo("campaign", name, ts((3, 10 + i)), by, name=name, description=desc, first_seen="2020-03-01T00:00:00Z",
            objective="Reduce turnout and trust in the result")
    campaign_ids.append(c["id"])
    add({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", "camp-actor" + name),
         "created": ts((3, 12 + i)), "modified": ts((3, 12 + i)), "relationship_type": "attributed-to",
         "source_ref": c["id"], "target_ref": actor_ids[actor], "created_by_ref": MEMBERS[by][1]})
    for p in (i, (i + 2) % len(pattern_ids)):
        add({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", f"camp-ap{name}{p}"),
             "created": ts((3, 12 + i)), "modified": ts((3, 12 + i)), "relationship_type": "uses",
             "source_ref": c["id"], "target_ref": pattern_ids[p], "created_by_ref": MEMBERS[by][1]})

words = ["patriot", "voter", "ballot", "freedom", "eagle", "liberty", "county", "precinct", "truth", "news"]
tlds = ["vote-info", "ballot-check", "polls-today", "election-help", "county-vote"]
indicators = []
for n in range(240):
    kind = ["account", "domain", "url", "ip"][n % 4]
    campaign = n % len(campaign_ids)
    by = ["facebook", "twitter", "google", "microsoft", "fbi", "dhs"][n % 6]
    day = (4 + n // 40, 1 + n % 28)
    if kind == "account":
        handle = f"{rng.choice(words)}_{rng.choice(words)}{rng.randint(10, 9999)}"
        platform = "facebook" if by == "facebook" else "twitter"
        pattern = f"[user-account:account_login = '{handle}' AND user-account:account_type = '{platform}']"
        name = f"Inauthentic {platform} account @{handle}"
    elif kind == "domain":
        domain = f"{rng.choice(tlds)}-{rng.randint(100, 999)}.example"
        pattern = f"[domain-name:value = '{domain}']"
        name = f"Lookalike election domain {domain}"
    elif kind == "url":
        url = f"https://{rng.choice(tlds)}-{rng.randint(100, 999)}.example/{rng.choice(words)}/{rng.randint(1, 99)}"
        pattern = f"[url:value = '{url}']"
        name = "Landing page of a voter-registration phishing lure"
    else:
        ip = f"{rng.choice(['198.51.100', '203.0.113', '192.0.2'])}.{rng.randint(1, 254)}"
        pattern = f"[ipv4-addr:value = '{ip}']"
        name = f"Proxy used by the operators, {ip}"
    created = ts(day, n % 600)
    ind = sdo("indicator", f"ind{n}", created, by, marking="amber" if n % 5 == 0 else "green",
              name=name, indicator_types=["malicious-activity"], pattern=pattern, pattern_type="stix",
              valid_from=created.replace(".000Z", "Z"), confidence=50 + n % 40,
              labels=["election-2020", campaigns[campaign][0].lower().replace(" ", "-")])
    indicators.append(ind)
    add({"type": "relationship", "spec_version": "2.1", "id": sid("relationship", f"indicates{n}"),
         "created": created, "modified": created, "relationship_type": "indicates", "created_by_ref": MEMBERS[by][1],
         "source_ref": ind["id"], "target_ref": campaign_ids[campaign]})

# Later versions: raised confidence, and some indicators withdrawn.
for n in range(0, 240, 12):
    old = indicators[n]
    new = dict(old)
    new["modified"] = "2020-10-15T12:00:00.000Z"
    new["confidence"] = 95
    new["description"] = "Confirmed by a second member organization."
    add(new)
    if n % 48 == 0:
        gone = dict(new)
        gone["modified"] = "2020-11-20T09:00:00.000Z"
        gone["revoked"] = True
        gone["description"] = "Withdrawn: the account was reassigned to an unrelated user."
        add(gone)

for n in range(30):
    ind = indicators[n * 7 % 240]
    by = ["facebook", "google", "microsoft", "twitter"][n % 4]
    add({"type": "sighting", "spec_version": "2.1", "id": sid("sighting", f"s{n}"), "created_by_ref": MEMBERS[by][1],
         "created": ts((10, 1 + n % 28)), "modified": ts((10, 1 + n % 28)), "sighting_of_ref": ind["id"],
         "where_sighted_refs": [MEMBERS[by][1]], "count": 3 + n % 50,
         "first_seen": "2020-10-01T00:00:00Z", "last_seen": "2020-10-31T00:00:00Z",
         "object_marking_refs": [TLP["green"]]})

for i, (name, desc, _, by) in enumerate(campaigns):
    refs = [campaign_ids[i]] + [ind["id"] for n, ind in enumerate(indicators) if n % len(campaign_ids) == i][:30]
    sdo("report", "Assessment: " + name, ts((10, 20 + i)), ["fbi", "dhs", "odni", "fbi"][i],
        marking="amber", name="Assessment: " + name, description=desc, published=ts((10, 21 + i)).replace(".000Z", "Z"),
        report_types=["campaign", "threat-actor"], object_refs=refs)

bundle = {"type": "bundle", "id": "bundle--" + str(uuid.uuid5(NS, "election-2020")), "objects": objects}
with open("election-2020.json", "w", encoding="utf-8") as f:
    json.dump(bundle, f, indent=1, ensure_ascii=False)
    f.write("\n")
print(len(objects), "objects")
