"""A synthetic corpus for measuring story clustering: wire copy, its reprints, other outlets'
own versions, and distinct events of the same kind on the same day.

Every article knows its event, so "same story" decisions can be scored pair by pair:

- ``wire``: the agency's original (APP, with its dateline "ISLAMABAD, Nov 26 (APP):").
- ``verbatim``: a reprint of it under another headline, dateline or not, with the outlet's
  boilerplate (a copyright line, a "follow us" line) added.
- ``edited``: a reprint trimmed from the end (at least half kept), with a paragraph of the
  outlet's own background added and the dateline removed.
- ``own``: another outlet's own report of the event: other sentences (paraphrases), another
  order, the same place, people and numbers.

Distinct events of one kind on one day (two attacks, two meetings...) differ in place,
people and numbers, and share the kind's vocabulary, whole stock sentences and the country's
institutions. Two events of one kind in one place within three days are not generated.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PLACES = [
    "Lakki Marwat",
    "Bannu",
    "Dera Ismail Khan",
    "Tank",
    "Khyber",
    "Bajaur",
    "North Waziristan",
    "South Waziristan",
    "Kurram",
    "Orakzai",
    "Mardan",
    "Swabi",
    "Charsadda",
    "Nowshera",
    "Kohat",
    "Hangu",
    "Karak",
    "Chitral",
    "Dir",
    "Swat",
    "Shangla",
    "Besham",
    "Kohistan",
    "Mansehra",
    "Abbottabad",
    "Haripur",
    "Quetta",
    "Turbat",
    "Gwadar",
    "Panjgur",
    "Khuzdar",
    "Kalat",
    "Mastung",
    "Noshki",
    "Kech",
    "Awaran",
    "Sibi",
    "Zhob",
    "Loralai",
    "Chaman",
    "Pishin",
    "Hub",
    "Lasbela",
    "Sukkur",
    "Larkana",
    "Hyderabad",
    "Thatta",
    "Badin",
    "Jacobabad",
    "Shikarpur",
    "Nawabshah",
    "Multan",
    "Bahawalpur",
    "Dera Ghazi Khan",
    "Rajanpur",
    "Sargodha",
    "Faisalabad",
    "Sialkot",
    "Gujranwala",
    "Jhelum",
    "Attock",
    "Mianwali",
    "Gilgit",
    "Skardu",
    "Hunza",
    "Chilas",
    "Muzaffarabad",
]
FIRST = [
    "Muhammad",
    "Ahmed",
    "Ali",
    "Imran",
    "Tariq",
    "Khalid",
    "Asif",
    "Nadeem",
    "Farooq",
    "Zubair",
    "Saleem",
    "Rashid",
    "Javed",
    "Irfan",
    "Shahid",
    "Naveed",
    "Kamran",
    "Adnan",
    "Faisal",
    "Usman",
    "Bilal",
    "Hamid",
    "Zahid",
    "Sajid",
    "Waqar",
    "Amjad",
    "Arshad",
    "Babar",
    "Fahad",
    "Haroon",
]
LAST = [
    "Khan",
    "Qureshi",
    "Malik",
    "Chaudhry",
    "Butt",
    "Sheikh",
    "Baloch",
    "Afridi",
    "Yousafzai",
    "Khattak",
    "Mengal",
    "Bugti",
    "Jamali",
    "Magsi",
    "Abbasi",
    "Gillani",
    "Shah",
    "Bhatti",
    "Awan",
    "Niazi",
    "Marwat",
    "Wazir",
    "Mehsud",
    "Durrani",
    "Kakar",
    "Achakzai",
    "Rind",
    "Zehri",
    "Leghari",
    "Mazari",
    "Tareen",
    "Sherpao",
    "Bangash",
    "Orakzai",
    "Turi",
    "Kundi",
    "Gandapur",
    "Tiwana",
]
CHINESE = ["Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu", "Xu", "Sun", "Ma"]
GIVEN = ["Wei", "Jun", "Lei", "Hong", "Ming", "Jian", "Yong", "Tao", "Qiang", "Ping", "Bin", "Hui"]
COMPANIES = [
    "China Road and Bridge Corporation",
    "China Gezhouba Group",
    "Power China",
    "China Harbour Engineering",
    "Sinohydro",
    "China Energy Engineering",
    "CMEC",
    "Three Gorges Corporation",
    "China Railway Group",
]
NUMBERS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]

# Each kind: headline, lead, details and closing sentences, each in two wordings
# (the wire's, and another outlet's). Slots: {place} {person} {official} {number} {injured}
# {company} {chinese} {org} {target} {amount}.
KINDS: dict[str, dict[str, list[tuple[str, str]]]] = {
    "attack": {
        "head": [
            (
                "{number} policemen martyred as militants attack {target} in {place}",
                "Militants storm {target} in {place}, {number} police killed",
            ),
        ],
        "lead": [
            (
                "{number} policemen were martyred and {injured} others injured when heavily armed militants attacked a {target} in {place} late on Tuesday night, police said.",
                "Militants killed {number} police personnel and wounded {injured} in an overnight assault on a {target} in {place}, officials confirmed on Wednesday.",
            ),
        ],
        "details": [
            (
                "The attackers opened fire from several directions with automatic weapons and hand grenades, and the exchange of fire lasted for nearly an hour.",
                "According to the police, the assailants used automatic rifles and grenades, and the gunfight went on for about an hour.",
            ),
            (
                "District Police Officer {official} said reinforcements were rushed to the area and the injured were shifted to the District Headquarters Hospital {place}.",
                "{official}, the district police officer, told reporters that more personnel had been sent and the wounded had been taken to the DHQ hospital in {place}.",
            ),
            (
                "Among the martyred was Sub-Inspector {person}, who had been posted at the {target} for two years.",
                "Sub-Inspector {person}, posted there for the last two years, was among those who lost their lives.",
            ),
            (
                "A search operation was launched in the surrounding villages of {place} to trace the attackers, who fled under the cover of darkness.",
                "Security forces cordoned off the villages around {place} and began a search for the militants, who escaped in the dark.",
            ),
            (
                "The Chief Minister of Khyber Pakhtunkhwa condemned the attack and sought a report from the Inspector General of Police.",
                "Condemning the incident, the provincial chief executive asked the provincial police chief for a detailed report.",
            ),
            (
                "The funeral prayers of the martyred policemen were offered at the Police Lines {place} with full official honours.",
                "The martyrs' funeral prayers were held at {place} Police Lines, where they were laid to rest with official honours.",
            ),
            (
                "No group has so far claimed responsibility for the attack, though the Counter Terrorism Department has registered a case.",
                "A case has been registered with the Counter Terrorism Department; no organisation has claimed the assault so far.",
            ),
        ],
        "close": [
            (
                "Attacks on police posts have increased in the province over the past year.",
                "The province has seen a rise in attacks on police installations in recent months.",
            ),
        ],
    },
    "blast": {
        "head": [
            (
                "{number} killed, {injured} injured in blast at {target} in {place}",
                "Explosion at {place} {target} leaves {number} dead",
            ),
        ],
        "lead": [
            (
                "At least {number} people were killed and {injured} injured when an explosive device went off near a {target} in {place} on Tuesday, officials said.",
                "An explosion near a {target} in {place} on Tuesday killed at least {number} people and wounded {injured}, according to officials.",
            ),
        ],
        "details": [
            (
                "Deputy Commissioner {official} said the device had been planted on a motorcycle parked near the {target}.",
                "The bomb was fitted to a parked motorcycle close to the {target}, Deputy Commissioner {official} told the media.",
            ),
            (
                "Rescue 1122 teams shifted the injured to the Civil Hospital {place}, where an emergency was declared.",
                "The wounded were taken by rescuers to {place} Civil Hospital, which declared an emergency.",
            ),
            (
                "The bomb disposal squad said about {number} kilograms of explosives had been used in the blast.",
                "Around {number} kilograms of explosive material was used, according to the bomb disposal unit.",
            ),
            (
                "Among the dead was a local trader, {person}, whose shop was next to the {target}.",
                "{person}, a shopkeeper whose business stood beside the {target}, was among those killed.",
            ),
            (
                "The Prime Minister condemned the blast and directed the authorities to provide the best medical care to the injured.",
                "Condemning the explosion, the premier ordered the best possible treatment for the wounded.",
            ),
            (
                "Security was tightened across {place} and the area around the {target} was cordoned off.",
                "Police sealed off the area around the {target} and stepped up security in {place}.",
            ),
        ],
        "close": [
            (
                "The province has witnessed a surge in militant violence in recent months.",
                "Militant violence in the region has risen sharply over the past months.",
            ),
        ],
    },
    "meeting": {
        "head": [
            (
                "{official} meets Chinese envoy, discusses CPEC projects in {place}",
                "CPEC projects in {place} reviewed as {official} receives Chinese ambassador",
            ),
        ],
        "lead": [
            (
                "Federal Minister {official} on Tuesday met Chinese Ambassador {chinese} and discussed the progress of CPEC projects in {place}, including the {target}.",
                "The progress of CPEC schemes in {place}, among them the {target}, came under discussion when Chinese Ambassador {chinese} called on Federal Minister {official} on Tuesday.",
            ),
        ],
        "details": [
            (
                "The minister said the government was committed to completing the {target} on time and had allocated Rs {amount} billion for it.",
                "Rs {amount} billion has been set aside for the {target}, the minister said, adding that it would be completed on schedule.",
            ),
            (
                "Ambassador {chinese} said {company} would bring more investment to {place} once the first phase was finished.",
                "More Chinese investment would flow into {place} after the first phase, the envoy said, noting the role of {company}.",
            ),
            (
                "Both sides agreed to hold a meeting of the Joint Working Group in {place} next month.",
                "It was agreed that the joint working group would meet in {place} next month.",
            ),
            (
                "The minister also briefed the envoy on the security arrangements for Chinese nationals working on the {target}.",
                "Security measures for Chinese staff on the {target} were also explained to the ambassador.",
            ),
            (
                "Secretary {person} and senior officials of the ministry attended the meeting.",
                "The meeting was also attended by Secretary {person} and other senior officials.",
            ),
        ],
        "close": [
            (
                "CPEC is a flagship project of the Belt and Road Initiative.",
                "The corridor is a flagship of China's Belt and Road Initiative.",
            ),
        ],
    },
    "accident": {
        "head": [
            (
                "{number} dead, {injured} injured as bus plunges into ravine near {place}",
                "Bus accident near {place} claims {number} lives",
            ),
        ],
        "lead": [
            (
                "At least {number} passengers were killed and {injured} injured when a bus fell into a ravine near {place} early on Tuesday, rescue officials said.",
                "A passenger bus skidded off the road and fell into a gorge near {place} on Tuesday morning, killing {number} people and injuring {injured}, according to rescuers.",
            ),
        ],
        "details": [
            (
                "The bus was travelling from {place} to Rawalpindi when the driver lost control on a sharp turn.",
                "The driver lost control at a sharp bend while the bus was on its way from {place} to Rawalpindi.",
            ),
            (
                "Assistant Commissioner {official} said the injured had been shifted to the Tehsil Headquarters Hospital.",
                "The wounded were moved to the THQ hospital, Assistant Commissioner {official} said.",
            ),
            (
                "Among the dead was {person}, a schoolteacher returning home for the holidays.",
                "{person}, a teacher who was going home for the holidays, was among the victims.",
            ),
            (
                "Rescue teams used ropes to bring the bodies out of the ravine, a task that took several hours.",
                "It took rescuers several hours and ropes to recover the bodies from the gorge.",
            ),
            (
                "Police said overspeeding appeared to be the cause of the accident.",
                "Initial police findings point to overspeeding.",
            ),
        ],
        "close": [
            (
                "Road accidents kill thousands of people in the country every year.",
                "Thousands of people die in road accidents in the country each year.",
            ),
        ],
    },
    "economy": {
        "head": [
            (
                "{company} signs Rs {amount} billion deal for {target} in {place}",
                "Rs {amount}bn agreement for {place} {target} signed with {company}",
            ),
        ],
        "lead": [
            (
                "{company} on Tuesday signed an agreement worth Rs {amount} billion to build the {target} in {place}, officials said.",
                "An agreement of Rs {amount} billion for the construction of the {target} in {place} was signed with {company} on Tuesday.",
            ),
        ],
        "details": [
            (
                "The agreement was signed by {official} on behalf of the provincial government and {chinese} for the company.",
                "{official} signed for the provincial government and {chinese} for the Chinese firm.",
            ),
            (
                "The {target} is expected to be completed within {number} years and to create thousands of jobs in {place}.",
                "Completion is expected within {number} years, with thousands of jobs created in {place}, officials said.",
            ),
            (
                "Provincial Finance Minister {person} said the project would boost trade and industry in the region.",
                "The project would give a boost to regional trade and industry, said {person}, the provincial finance minister.",
            ),
            (
                "The financing will come from a consortium of Chinese banks under the CPEC framework.",
                "A group of Chinese banks will finance the scheme under CPEC.",
            ),
        ],
        "close": [
            (
                "Pakistan has been seeking foreign investment to support its economy.",
                "The government has been trying to attract foreign investment to shore up the economy.",
            ),
        ],
    },
}
TARGETS = {
    "attack": ["police checkpost", "police station", "FC post", "security convoy", "levies post"],
    "blast": ["vegetable market", "bus stand", "mosque", "police van", "bazaar"],
    "meeting": [
        "Gwadar East Bay Expressway",
        "Karakoram Highway realignment",
        "ML-1 railway",
        "Dasu dam",
        "Mohmand dam",
    ],
    "accident": ["bus", "coaster", "van"],
    "economy": [
        "special economic zone",
        "coal power plant",
        "water treatment plant",
        "industrial park",
        "solar park",
    ],
}
OUTLETS = ["app", "dawn", "thenews", "tribune", "brecorder", "radio", "observer", "dailytimes", "nation"]
BOILERPLATE = {
    "brecorder": "Copyright Business Recorder, 2026",
    "dailytimes": "Follow Daily Times on X and Facebook for the latest news and updates.",
    "observer": "Pakistan Observer is now on WhatsApp: follow our channel for breaking news.",
    "radio": "Radio Pakistan: the voice of the nation since 1947.",
    "nation": "Copyright The Nation, all rights reserved.",
}
DATELINE_CITY = ["ISLAMABAD", "PESHAWAR", "QUETTA", "KARACHI", "LAHORE"]


@dataclass
class Article:
    event: int
    kind: str
    day: int
    variant: str  # wire | verbatim | edited | own | single
    source: str
    title: str
    text: str
    published: datetime


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _slots(rng: random.Random, kind: str, taken: set[str]) -> dict[str, str]:
    return {
        "place": rng.choice([p for p in PLACES if p not in taken]),
        "person": _person(rng),
        "official": _person(rng),
        "number": rng.choice(NUMBERS),
        "injured": rng.choice(NUMBERS),
        "company": rng.choice(COMPANIES),
        "chinese": f"{rng.choice(CHINESE)} {rng.choice(GIVEN)}",
        "target": rng.choice(TARGETS[kind]),
        "amount": str(rng.randint(5, 400)),
    }


def _sentences(
    kind: str, slots: dict[str, str], wording: int, rng: random.Random, shuffle: bool
) -> list[str]:
    parts = KINDS[kind]
    details = [pair[wording] for pair in parts["details"]]
    if shuffle:
        rng.shuffle(details)
        details = details[: max(3, len(details) - 1)]
    out = [parts["lead"][0][wording], *details, parts["close"][0][wording]]
    return [s.format(**slots) for s in out]


def generate(events_per_day: int = 12, days: int = 10, seed: int = 7) -> list[Article]:
    """Events of every kind each day (several of one kind on one day), each carried by the
    wire, reprinted verbatim and edited, and reported in their own words by other outlets."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 1, 6, tzinfo=UTC)
    articles: list[Article] = []
    event = 0
    kinds = list(KINDS)
    recent: list[tuple[int, str, str]] = []  # (day, kind, place)
    for day in range(days):
        for i in range(events_per_day):
            kind = kinds[i % len(kinds)]
            event += 1
            # Two events of one kind in one place within three days would be hard to tell
            # apart for a reader too; the corpus keeps them apart (see the README).
            taken = {p for d, k, p in recent if k == kind and day - d < 3}
            slots = _slots(rng, kind, taken)
            recent.append((day, kind, slots["place"]))
            at = start + timedelta(days=day, hours=rng.uniform(0, 14))
            city = rng.choice(DATELINE_CITY)
            dateline = f"{city}, {at:%b} {at.day} (APP): "
            paragraphs = _sentences(kind, slots, 0, rng, shuffle=True)
            headline = KINDS[kind]["head"][0][0].format(**slots)
            wire_text = dateline + "\n".join(paragraphs)
            articles.append(
                Article(event, kind, day, "wire", "app", headline[0].upper() + headline[1:], wire_text, at)
            )
            outlets = rng.sample(OUTLETS[1:], 6)
            for n, outlet in enumerate(outlets):
                when = at + timedelta(hours=rng.uniform(0.5, 20))
                other_head = KINDS[kind]["head"][0][1].format(**slots)
                if n < 2:  # verbatim reprint: new headline, boilerplate, maybe no dateline
                    body = "\n".join(paragraphs) if rng.random() < 0.5 else wire_text
                    extra = BOILERPLATE.get(outlet, "")
                    text = f"{body}\n{extra}" if extra else body
                    articles.append(Article(event, kind, day, "verbatim", outlet, other_head, text, when))
                elif n < 4:  # edited reprint: trimmed, own paragraph added, no dateline
                    keep = rng.randint((len(paragraphs) + 1) // 2, len(paragraphs) - 1)
                    own = (
                        f"Our correspondent in {slots['place']} adds that residents have long "
                        "complained about the situation and demanded action from the authorities."
                    )
                    text = "\n".join([*paragraphs[:keep], own, BOILERPLATE.get(outlet, "")]).strip()
                    articles.append(
                        Article(event, kind, day, "edited", outlet, f"{other_head}: report", text, when)
                    )
                else:  # the outlet's own version, in other words
                    text = f"{slots['place'].upper()}: " + "\n".join(
                        _sentences(kind, slots, 1, rng, shuffle=True)
                    )
                    articles.append(Article(event, kind, day, "own", outlet, other_head, text, when))
    articles.sort(key=lambda a: a.published)
    return articles


def relation(a: Article, b: Article) -> str:
    """The category of a pair: how two articles relate in truth."""
    if a.event == b.event:
        if "own" in (a.variant, b.variant):
            return "own version"
        if "edited" in (a.variant, b.variant):
            return "edited reprint"
        return "verbatim reprint"
    if a.kind == b.kind and a.day == b.day:
        return "distinct, same kind and day"
    return "distinct, other"
