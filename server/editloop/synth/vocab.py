"""The domains the spec generator draws from.

Each domain lists entities (singular, space-separated words) with a pool of attributes and the
relationships between them as ``(source, verb, target, cardinality)``. An attribute's semantic
kind is inferred from its words (see :func:`attribute_kind`) unless written ``"words:kind"``.
Verbs are single words so that every renderer can use them as-is.
"""

from __future__ import annotations

KINDS = ("id", "name", "text", "money", "date", "count", "flag", "email", "fk")

ONE_TO_MANY = "one-to-many"
ONE_TO_ONE = "one-to-one"
ONE_OR_MORE = "one-to-one-or-more"
CARDINALITIES = (ONE_TO_MANY, ONE_TO_ONE, ONE_OR_MORE)

_MONEY = {"price", "amount", "fee", "cost", "salary", "balance", "total", "budget", "deposit", "fine", "rent", "wage", "revenue", "tip", "rate"}
_DATE = {"date", "day", "deadline", "birthday", "time"}
_COUNT = {"count", "quantity", "number", "level", "rating", "score", "capacity", "year", "minutes", "seats", "floor", "stock", "age", "weight", "mileage", "duration", "points", "priority", "size", "km", "hours", "hectares", "months", "yield", "reading", "headcount"}
_NAME = {"name", "title", "label", "nickname", "username", "headline"}

IRREGULAR_PLURALS = {"person": "people", "child": "children", "staff": "staff", "series": "series", "equipment": "equipment", "media": "media", "fish": "fish"}


def attribute_kind(words: tuple[str, ...]) -> str:
    last = words[-1]
    if words[0] in ("is", "has", "can") or last in ("active", "enabled", "verified", "paid", "available", "published", "archived"):
        return "flag"
    if "email" in words:
        return "email"
    if last in _MONEY:
        return "money"
    if last in _DATE:
        return "date"
    if last in _COUNT:
        return "count"
    if last in _NAME:
        return "name"
    return "text"


def pluralize(word: str) -> str:
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith("y") and word[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return word + "es"
    return word + "s"


# domain -> (title, {entity: "attr, attr, ..."}, [(source, verb, target, cardinality)])
DOMAINS: dict[str, tuple[str, dict[str, str], list[tuple[str, str, str, str]]]] = {
    "shop": ("an online shop", {
        "customer": "full name, email, phone number, signup date, loyalty points, is active, shipping address",
        "order": "order date, total amount, status, delivery date, item count, is paid",
        "product": "title, unit price, stock level, description, weight, is available",
        "category": "name, description, sort number",
        "review": "rating, comment, review date, is verified",
        "payment": "amount, payment date, method, is refunded",
        "line item": "quantity, unit price, discount amount",
    }, [
        ("customer", "places", "order", ONE_TO_MANY),
        ("order", "contains", "line item", ONE_OR_MORE),
        ("product", "appears", "line item", ONE_TO_MANY),
        ("category", "groups", "product", ONE_TO_MANY),
        ("customer", "writes", "review", ONE_TO_MANY),
        ("product", "receives", "review", ONE_TO_MANY),
        ("order", "requires", "payment", ONE_TO_ONE),
    ]),
    "library": ("a library", {
        "member": "full name, email, join date, is active, card number",
        "book": "title, isbn code, publish year, page count, language",
        "author": "full name, birth date, nationality, biography",
        "loan": "loan date, due date, return date, late fee",
        "branch": "name, street address, opening time, capacity",
        "reservation": "reserved date, expiry date, status",
        "publisher": "name, country, website",
    }, [
        ("member", "borrows", "loan", ONE_TO_MANY),
        ("book", "covers", "loan", ONE_TO_MANY),
        ("author", "writes", "book", ONE_OR_MORE),
        ("branch", "holds", "book", ONE_TO_MANY),
        ("member", "makes", "reservation", ONE_TO_MANY),
        ("book", "has", "reservation", ONE_TO_MANY),
        ("publisher", "publishes", "book", ONE_TO_MANY),
    ]),
    "school": ("a school", {
        "student": "full name, email, birth date, grade level, enrollment date, is active",
        "teacher": "full name, email, hire date, salary, subject area",
        "course": "title, credit count, description, room code, capacity",
        "enrollment": "enrolled date, final score, status",
        "classroom": "building name, room number, seat count, has projector",
        "assignment": "title, due date, max score, instructions",
        "department": "name, budget, head office",
    }, [
        ("student", "attends", "enrollment", ONE_TO_MANY),
        ("course", "lists", "enrollment", ONE_TO_MANY),
        ("teacher", "teaches", "course", ONE_OR_MORE),
        ("classroom", "hosts", "course", ONE_TO_MANY),
        ("course", "includes", "assignment", ONE_TO_MANY),
        ("department", "employs", "teacher", ONE_OR_MORE),
    ]),
    "hospital": ("a hospital", {
        "patient": "full name, birth date, blood type, phone number, insurance code, is admitted",
        "doctor": "full name, specialty, license number, email, shift start time",
        "appointment": "appointment date, reason, duration minutes, status",
        "ward": "name, floor, bed capacity, is open",
        "prescription": "drug name, dosage, issue date, refill count",
        "invoice": "total amount, issue date, due date, is paid",
        "nurse": "full name, shift name, hire date",
    }, [
        ("patient", "books", "appointment", ONE_TO_MANY),
        ("doctor", "attends", "appointment", ONE_TO_MANY),
        ("ward", "admits", "patient", ONE_TO_MANY),
        ("doctor", "issues", "prescription", ONE_TO_MANY),
        ("patient", "receives", "invoice", ONE_TO_MANY),
        ("ward", "staffs", "nurse", ONE_OR_MORE),
    ]),
    "blog": ("a blog platform", {
        "author": "username, email, bio, join date, is verified",
        "post": "title, body, publish date, view count, is published, slug",
        "comment": "body, posted date, like count, is hidden",
        "tag": "label, color, usage count",
        "subscriber": "email, subscribed date, is confirmed",
        "newsletter": "subject, send date, open count",
    }, [
        ("author", "writes", "post", ONE_TO_MANY),
        ("post", "collects", "comment", ONE_TO_MANY),
        ("author", "leaves", "comment", ONE_TO_MANY),
        ("tag", "labels", "post", ONE_TO_MANY),
        ("newsletter", "reaches", "subscriber", ONE_OR_MORE),
        ("author", "sends", "newsletter", ONE_TO_MANY),
    ]),
    "fleet": ("a vehicle fleet", {
        "vehicle": "plate number, model name, mileage, purchase date, is available, fuel type",
        "driver": "full name, license number, hire date, phone number, rating",
        "trip": "start time, end time, distance km, fuel cost, purpose",
        "depot": "name, city, capacity, manager name",
        "maintenance": "service date, cost, description, odometer reading",
        "fuel card": "card number, monthly limit amount, expiry date, is blocked",
    }, [
        ("driver", "drives", "trip", ONE_TO_MANY),
        ("vehicle", "makes", "trip", ONE_TO_MANY),
        ("depot", "parks", "vehicle", ONE_OR_MORE),
        ("vehicle", "needs", "maintenance", ONE_TO_MANY),
        ("driver", "holds", "fuel card", ONE_TO_ONE),
    ]),
    "restaurant": ("a restaurant", {
        "guest": "full name, phone number, email, visit count, allergy notes",
        "reservation": "reserved time, party size, status, special request",
        "dining table": "table number, seat count, zone, is outdoor",
        "menu item": "name, price, calorie count, is vegetarian, course type",
        "waiter": "full name, hire date, hourly wage",
        "bill": "subtotal amount, tip, payment method, closed time",
    }, [
        ("guest", "makes", "reservation", ONE_TO_MANY),
        ("dining table", "takes", "reservation", ONE_TO_MANY),
        ("waiter", "serves", "dining table", ONE_TO_MANY),
        ("reservation", "produces", "bill", ONE_TO_ONE),
        ("bill", "lists", "menu item", ONE_OR_MORE),
    ]),
    "gym": ("a fitness club", {
        "athlete": "full name, email, birth date, weight, membership level",
        "trainer": "full name, certification, hourly fee, email",
        "session": "session date, duration minutes, intensity level, notes",
        "membership": "start date, end date, monthly fee, is active",
        "workout plan": "title, goal, week count, difficulty",
        "locker": "locker number, zone, is occupied",
    }, [
        ("trainer", "leads", "session", ONE_TO_MANY),
        ("athlete", "joins", "session", ONE_TO_MANY),
        ("athlete", "buys", "membership", ONE_TO_MANY),
        ("trainer", "designs", "workout plan", ONE_TO_MANY),
        ("athlete", "rents", "locker", ONE_TO_ONE),
    ]),
    "airline": ("an airline", {
        "passenger": "full name, passport code, nationality, birth date, email",
        "flight": "flight code, departure time, arrival time, gate, is delayed",
        "booking": "booking date, fare amount, seat code, travel class",
        "airport": "name, city, iata code, terminal count",
        "aircraft": "model name, seat capacity, range km, service date",
        "crew member": "full name, role, hire date, flight hours",
    }, [
        ("passenger", "makes", "booking", ONE_TO_MANY),
        ("flight", "carries", "booking", ONE_TO_MANY),
        ("airport", "launches", "flight", ONE_TO_MANY),
        ("aircraft", "operates", "flight", ONE_TO_MANY),
        ("flight", "assigns", "crew member", ONE_OR_MORE),
    ]),
    "bank": ("a bank", {
        "client": "full name, email, birth date, credit score, is verified",
        "account": "account number, balance, opened date, currency, is frozen",
        "transaction": "amount, posted date, description, channel",
        "loan": "principal amount, interest rate, start date, term months",
        "card": "card number, expiry date, daily limit amount, is contactless",
        "advisor": "full name, email, office code, hire date",
    }, [
        ("client", "owns", "account", ONE_OR_MORE),
        ("account", "records", "transaction", ONE_TO_MANY),
        ("client", "takes", "loan", ONE_TO_MANY),
        ("account", "issues", "card", ONE_TO_MANY),
        ("advisor", "manages", "client", ONE_TO_MANY),
    ]),
    "hotel": ("a hotel", {
        "guest": "full name, email, phone number, loyalty points, country",
        "room": "room number, floor, nightly rate, bed count, is smoking",
        "stay": "check in date, check out date, total amount, status",
        "housekeeper": "full name, shift name, hire date",
        "amenity": "name, daily fee, is included",
        "complaint": "description, filed date, is resolved",
    }, [
        ("guest", "books", "stay", ONE_TO_MANY),
        ("room", "hosts", "stay", ONE_TO_MANY),
        ("housekeeper", "cleans", "room", ONE_TO_MANY),
        ("room", "offers", "amenity", ONE_TO_MANY),
        ("guest", "files", "complaint", ONE_TO_MANY),
    ]),
    "cinema": ("a cinema", {
        "movie": "title, release date, runtime minutes, genre, age rating",
        "screening": "start time, base price, language, is sold out",
        "hall": "name, seat count, screen size, has dolby",
        "ticket": "seat code, price, purchase date, is used",
        "viewer": "nickname, email, birth date, visit count",
        "director": "full name, country, award count",
    }, [
        ("movie", "schedules", "screening", ONE_TO_MANY),
        ("hall", "shows", "screening", ONE_TO_MANY),
        ("screening", "sells", "ticket", ONE_TO_MANY),
        ("viewer", "buys", "ticket", ONE_TO_MANY),
        ("director", "directs", "movie", ONE_OR_MORE),
    ]),
    "music": ("a music streaming service", {
        "artist": "stage name, country, debut year, follower count",
        "album": "title, release date, track count, label",
        "track": "title, duration, play count, is explicit",
        "listener": "username, email, signup date, is premium",
        "playlist": "name, description, is public, created date",
        "concert": "venue name, concert date, ticket price, capacity",
    }, [
        ("artist", "releases", "album", ONE_TO_MANY),
        ("album", "includes", "track", ONE_OR_MORE),
        ("listener", "curates", "playlist", ONE_TO_MANY),
        ("playlist", "contains", "track", ONE_TO_MANY),
        ("artist", "performs", "concert", ONE_TO_MANY),
    ]),
    "projects": ("a project tracker", {
        "team": "name, slack channel, headcount",
        "project": "name, start date, deadline, budget, is archived",
        "task": "title, priority, estimate hours, status, due date",
        "employee": "full name, email, job title, hire date, salary",
        "sprint": "name, start date, end date, goal",
        "time entry": "entry date, hours, note, is billable",
    }, [
        ("team", "owns", "project", ONE_TO_MANY),
        ("project", "tracks", "task", ONE_TO_MANY),
        ("employee", "completes", "task", ONE_TO_MANY),
        ("project", "plans", "sprint", ONE_OR_MORE),
        ("employee", "logs", "time entry", ONE_TO_MANY),
        ("team", "employs", "employee", ONE_OR_MORE),
    ]),
    "realestate": ("a real estate agency", {
        "agent": "full name, email, license number, commission rate, hire date",
        "property": "street address, city, asking price, bedroom count, listing date, has garage",
        "buyer": "full name, email, max budget, is preapproved",
        "viewing": "viewing date, feedback, interest level",
        "offer": "offer amount, offer date, status, is accepted",
        "landlord": "full name, phone number, property count",
    }, [
        ("agent", "lists", "property", ONE_TO_MANY),
        ("buyer", "schedules", "viewing", ONE_TO_MANY),
        ("property", "hosts", "viewing", ONE_TO_MANY),
        ("buyer", "submits", "offer", ONE_TO_MANY),
        ("property", "attracts", "offer", ONE_TO_MANY),
        ("landlord", "rents", "property", ONE_TO_MANY),
    ]),
    "events": ("an event organizer", {
        "event": "title, event date, venue name, ticket price, capacity",
        "attendee": "full name, email, company name, is vip",
        "speaker": "full name, bio, talk title, fee",
        "sponsor": "company name, tier, contribution amount",
        "registration": "registered date, badge code, has attended",
        "venue": "name, city, room count, rental cost",
    }, [
        ("attendee", "submits", "registration", ONE_TO_MANY),
        ("event", "accepts", "registration", ONE_TO_MANY),
        ("event", "features", "speaker", ONE_OR_MORE),
        ("sponsor", "funds", "event", ONE_TO_MANY),
        ("venue", "hosts", "event", ONE_TO_MANY),
    ]),
    "farm": ("a farm", {
        "field": "name, area hectares, soil type, is irrigated",
        "crop": "name, planting date, harvest date, expected yield",
        "worker": "full name, hourly wage, hire date, phone number",
        "harvest": "harvest date, weight, quality grade, sale price",
        "tractor": "model name, purchase date, engine hours, is working",
        "buyer": "company name, email, credit limit amount",
    }, [
        ("field", "grows", "crop", ONE_TO_MANY),
        ("crop", "yields", "harvest", ONE_TO_MANY),
        ("worker", "gathers", "harvest", ONE_TO_MANY),
        ("worker", "drives", "tractor", ONE_TO_ONE),
        ("buyer", "purchases", "harvest", ONE_TO_MANY),
    ]),
    "support": ("a customer support desk", {
        "customer": "company name, email, plan level, signup date",
        "ticket": "subject, description, priority, opened date, is closed",
        "agent": "full name, email, team name, shift name",
        "reply": "body, sent date, is internal",
        "product": "name, version label, release date",
        "survey": "score, comment, answered date",
    }, [
        ("customer", "opens", "ticket", ONE_TO_MANY),
        ("agent", "handles", "ticket", ONE_TO_MANY),
        ("ticket", "gathers", "reply", ONE_TO_MANY),
        ("product", "concerns", "ticket", ONE_TO_MANY),
        ("ticket", "triggers", "survey", ONE_TO_ONE),
    ]),
    "vet": ("a veterinary clinic", {
        "owner": "full name, phone number, email, street address",
        "pet": "name, species, breed, birth date, weight, is neutered",
        "visit": "visit date, reason, diagnosis, total cost",
        "vet": "full name, license number, specialty, hire date",
        "vaccine": "name, given date, expiry date, batch code",
    }, [
        ("owner", "registers", "pet", ONE_OR_MORE),
        ("pet", "attends", "visit", ONE_TO_MANY),
        ("vet", "performs", "visit", ONE_TO_MANY),
        ("pet", "receives", "vaccine", ONE_TO_MANY),
    ]),
    "warehouse": ("a warehouse", {
        "supplier": "company name, email, country, rating",
        "item": "sku code, name, unit cost, weight, reorder level",
        "shelf": "aisle code, level, max weight, is refrigerated",
        "shipment": "shipped date, carrier name, tracking code, freight cost",
        "stock count": "counted date, quantity, is verified",
        "clerk": "full name, badge number, shift name",
    }, [
        ("supplier", "provides", "item", ONE_TO_MANY),
        ("shelf", "stores", "item", ONE_TO_MANY),
        ("supplier", "sends", "shipment", ONE_TO_MANY),
        ("item", "gets", "stock count", ONE_TO_MANY),
        ("clerk", "performs", "stock count", ONE_TO_MANY),
    ]),
}
