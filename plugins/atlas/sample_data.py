"""Realistic sample extracts for the ``customers`` and ``orders`` tables, with known problems.

``generate`` writes ``<landing>/customers/<ds>/customers.csv`` and ``<landing>/orders/<ds>/orders.csv``
with the columns of ``include/tables/*.yml`` in order. Customers are mostly Danish (valid CPR
numbers matching the birth date, Danish phone formats and postal codes), some American and
British. Deliberate problems are placed by exact quota so every run of a seed is identical and
the returned :class:`SampleSummary` says how many of each were written (counts, never values):

=====================  =====  ==========================================================
problem                rate   how it looks
=====================  =====  ==========================================================
missing email          5 %    empty ``email_address``
invalid phone          2 %    ``invalid_phone`` or too few digits
duplicate customer id  1 %    an earlier customer row sent again, unchanged
invalid tier           0.5 %  ``customer_tier`` outside bronze/silver/gold/platinum
PII in notes           ~18 %  a name, email, phone or CPR number inside ``notes``
negative amount        2 %    ``order_amount`` below zero
orphan order           3 %    ``customer_id`` well-formed but absent from customers
missing customer id    1 %    empty ``customer_id`` on an order
=====================  =====  ==========================================================

Faker only fills small name and street pools up front (seeded per instance, no global state);
every row is assembled from those pools with one ``random.Random(seed)``, so 10,000 customers
and 50,000 orders take well under a second.

    python -m atlas.sample_data --landing DIR --ds 2026-11-21 --customers N --orders N --seed S
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import random
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import IO, Any, NamedTuple

CUSTOMER_COLUMNS = (
    "customer_id", "customer_name", "email_address", "phone_number", "cpr_number", "address", "city",
    "postal_code", "country", "date_of_birth", "created_at", "is_active", "customer_tier", "notes",
)
ORDER_COLUMNS = (
    "order_id", "customer_id", "order_date", "order_amount", "currency", "status", "payment_method",
    "shipping_address",
)

RATE_MISSING_EMAIL = 0.05
RATE_INVALID_PHONE = 0.02
RATE_DUPLICATE_ID = 0.01
RATE_INVALID_TIER = 0.005
RATE_NOTES = 0.60
RATE_NOTES_PII = 0.30  # share of the notes that carry PII
RATE_NEGATIVE_AMOUNT = 0.02
RATE_ORPHAN_ORDER = 0.03
RATE_MISSING_CUSTOMER_ID = 0.01

MAX_CUSTOMERS = 4_000_000  # ids C000001..; seven digits beyond C999999; orphans draw from ids above
MAX_ORPHAN_ID = 999_999
MAX_ORDERS = 99_999_999

TIERS = (("bronze", 50), ("silver", 30), ("gold", 15), ("platinum", 5))
INVALID_TIERS = ("diamond", "vip", "unknown", "standard")
INVALID_PHONES = ("invalid_phone", "12345", "+45 1234", "555-01", "0000")
CURRENCIES = (("DKK", 85), ("EUR", 8), ("SEK", 4), ("NOK", 3))
STATUSES = (("completed", 70), ("pending", 12), ("cancelled", 10), ("refunded", 8))
PAYMENT_METHODS = (("credit_card", 55), ("mobile_pay", 30), ("invoice", 12), ("", 3))

PLAIN_NOTES = (
    "Asked about delivery times before Christmas.",
    "Prefers invoice payment for larger orders.",
    "Requested a printed catalogue.",
    "Complained about a late delivery; offered a 10% discount voucher.",
    "Returned an item, refund processed.",
    "Interested in the loyalty programme.",
    "Payment failed twice, card details updated.",
    "Upgraded tier after a large order.",
    "Kunden ønsker ikke at modtage nyhedsbrev.",
    "Kunden har spurgt til leveringstid og returret.",
)
_PII_NOTES: tuple[tuple[str, ...], ...] = (  # (template, fields it needs)
    ("Spoke with {name} about a missing parcel.", "name"),
    ("Contact person for deliveries: {name}.", "name"),
    ("Wants receipts sent to {email} instead.", "email"),
    ("Alternative email: {email}", "email"),
    ("Call back on {phone} after 16:00.", "phone"),
    ("Reachable on {phone} during work hours.", "phone"),
    ("{name} called from {phone} about a refund.", "name", "phone"),
    ("Identity verified with CPR {cpr}.", "cpr"),
    ("CPR-nr. {cpr} oplyst ved telefonisk henvendelse.", "cpr"),
)
_CPR_WEIGHTS = (4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
_EMAIL_DOMAINS = ("gmail.com", "hotmail.com", "outlook.dk", "mail.dk", "yahoo.com", "live.dk", "icloud.com")
_ASCII = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ä": "a", "ö": "o", "ü": "u", "é": "e", "'": ""})
_DK_PLACES = (
    ("1050", "København K"), ("1550", "København V"), ("2100", "København Ø"), ("2200", "København N"),
    ("2300", "København S"), ("2000", "Frederiksberg"), ("2800", "Kongens Lyngby"), ("2970", "Hørsholm"),
    ("3000", "Helsingør"), ("3400", "Hillerød"), ("4000", "Roskilde"), ("4600", "Køge"),
    ("4700", "Næstved"), ("5000", "Odense C"), ("5700", "Svendborg"), ("6000", "Kolding"),
    ("6700", "Esbjerg"), ("7100", "Vejle"), ("7400", "Herning"), ("7500", "Holstebro"),
    ("8000", "Aarhus C"), ("8200", "Aarhus N"), ("8600", "Silkeborg"), ("8700", "Horsens"),
    ("8800", "Viborg"), ("8900", "Randers C"), ("9000", "Aalborg"), ("9700", "Brønderslev"),
)
# Danish mobile and landline number ranges in use (third digit 1-9), US area codes, UK mobiles 74/75/78
_DK_PREFIXES = ("20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "40", "41", "42",
                "50", "51", "52", "53", "60", "61", "71", "81", "91", "92", "93",
                "33", "35", "36", "38", "39", "43", "44", "45", "46", "48", "86", "87", "89", "96", "97", "98")
_US_AREA_CODES = ("202", "206", "212", "303", "305", "312", "404", "415", "512", "602", "617", "646",
                  "702", "713", "718", "773", "818", "917", "972")


@dataclass(frozen=True)
class SampleSummary:
    """How many rows were written and how many carry each deliberate problem (rows as written)."""

    customer_rows: int
    order_rows: int
    missing_emails: int
    invalid_phones: int
    duplicate_customer_ids: int
    invalid_tiers: int
    notes_with_pii: int
    negative_amounts: int
    orphan_orders: int
    missing_customer_ids: int

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class _Pools(NamedTuple):
    """Values drawn from Faker once per locale; rows pick from them."""

    male: tuple[str, ...]
    female: tuple[str, ...]
    last: tuple[str, ...]
    streets: tuple[str, ...]
    places: tuple[tuple[str, str], ...]  # (postal_code, city)


@dataclass(frozen=True)
class _Locale:
    faker: str
    country: str
    share: float
    phone: Callable[[random.Random], str]
    street: Callable[[random.Random, str], str]


class _Customer(NamedTuple):
    row: tuple[str, ...]
    created: datetime
    ship_to: str
    problems: frozenset[str]


# --- phones, CPR, emails -------------------------------------------------------------------------


def _dk_phone(rng: random.Random) -> str:
    n = f"{rng.choice(_DK_PREFIXES)}{rng.randint(1, 9)}{rng.randrange(10**5):05d}"
    pairs = " ".join(n[i:i + 2] for i in range(0, 8, 2))
    return rng.choice((f"+45 {pairs}", n, f"+45{n}", pairs, f"0045 {n}", f"+45 {n[:4]} {n[4:]}"))


def _us_phone(rng: random.Random) -> str:
    area = rng.choice(_US_AREA_CODES)
    exchange = rng.randint(200, 999)
    exchange += exchange % 100 == 11  # N11 codes are service numbers, not exchanges
    line = f"{rng.randrange(10**4):04d}"
    return rng.choice((f"({area}) {exchange}-{line}", f"+1 {area}-{exchange}-{line}",
                       f"{area}.{exchange}.{line}", f"{area}-{exchange}-{line}"))


def _gb_phone(rng: random.Random) -> str:
    block, rest = f"7{rng.choice('458')}{rng.randrange(100):02d}", f"{rng.randrange(10**6):06d}"
    return rng.choice((f"+44 {block} {rest}", f"0{block} {rest}", f"+44{block}{rest}"))


def cpr_number(born: date, rng: random.Random, female: bool) -> str:
    """A valid CPR number ``DDMMYY-XXXX`` for ``born``: century digit, modulus 11, sex parity."""
    seventh = rng.choice("0123") if born.year < 2000 else "4"
    head = f"{born:%d%m%y}{seventh}"
    partial = sum(int(d) * w for d, w in zip(head, _CPR_WEIGHTS, strict=False))
    while True:
        d8, d9 = rng.randrange(10), rng.randrange(10)
        check = -(partial + d8 * _CPR_WEIGHTS[7] + d9 * _CPR_WEIGHTS[8]) % 11
        if check < 10 and (check % 2 == 0) == female:
            return f"{head[:6]}-{seventh}{d8}{d9}{check}"


def _email(rng: random.Random, first: str, last: str) -> str:
    f, lname = (part.lower().translate(_ASCII).replace(" ", "") for part in (first, last))
    local = rng.choice((f"{f}.{lname}", f"{f}{lname}{rng.randint(1, 99)}", f"{f[0]}{lname}",
                        f"{f}_{lname}", f"{lname}.{f}{rng.randint(60, 99)}"))
    return f"{local}@{rng.choice(_EMAIL_DOMAINS)}"


# --- locales -------------------------------------------------------------------------------------


def _dk_street(rng: random.Random, street: str) -> str:
    floor = f", {rng.randint(1, 5)}. {rng.choice(('th', 'tv', 'mf'))}" if rng.random() < 0.3 else ""
    return f"{street} {rng.randint(1, 180)}{floor}"


def _us_street(rng: random.Random, street: str) -> str:
    apt = f" Apt {rng.randint(1, 40)}" if rng.random() < 0.2 else ""
    return f"{rng.randint(10, 9999)} {street}{apt}"


def _gb_street(rng: random.Random, street: str) -> str:
    return f"{rng.randint(1, 250)} {street}"


_LOCALES = (
    _Locale("da_DK", "Denmark", 0.85, _dk_phone, _dk_street),
    _Locale("en_US", "United States", 0.09, _us_phone, _us_street),
    _Locale("en_GB", "United Kingdom", 0.06, _gb_phone, _gb_street),
)


def _pools(seed: int) -> dict[str, _Pools]:
    """Name, street and place pools per locale from Faker, each instance seeded on its own."""
    from faker import Faker

    pools = {}
    for offset, loc in enumerate(_LOCALES):
        fake = Faker(loc.faker)
        fake.seed_instance(seed + offset)
        places = _DK_PLACES if loc.faker == "da_DK" else tuple(
            (fake.postcode(), fake.city()) for _ in range(150)
        )
        pools[loc.faker] = _Pools(
            male=tuple(fake.first_name_male() for _ in range(250)),
            female=tuple(fake.first_name_female() for _ in range(250)),
            last=tuple(fake.last_name() for _ in range(300)),
            streets=tuple(fake.street_name() for _ in range(300)),
            places=places,
        )
    return pools


# --- rows ----------------------------------------------------------------------------------------


def _quota(rng: random.Random, population: Sequence[int], rate: float) -> set[int]:
    """Exactly ceil(rate * n) distinct members of ``population`` (at least one when n > 0)."""
    return set(rng.sample(population, min(len(population), math.ceil(rate * len(population)))))


def _weighted(rng: random.Random, options: tuple[tuple[str, int], ...], k: int = 1) -> list[str]:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options], k=k)


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=int(rng.random() * ((end - start).total_seconds() + 1)))


class _Generator:
    """Builds the rows for one ``ds`` from one seed."""

    def __init__(self, ds: str, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not secrets
        self.pools = _pools(seed)
        self.day = date.fromisoformat(ds)
        self.day_start = datetime(self.day.year, self.day.month, self.day.day)
        self.day_end = self.day_start + timedelta(days=1, seconds=-1)

    def _locale(self) -> _Locale:
        roll, acc = self.rng.random(), 0.0
        for loc in _LOCALES:
            acc += loc.share
            if roll < acc:
                return loc
        return _LOCALES[0]

    def _person(self, loc: _Locale, female: bool) -> tuple[str, str]:
        pool = self.pools[loc.faker]
        first = self.rng.choice(pool.female if female else pool.male)
        return first, self.rng.choice(pool.last)

    def _note(self, loc: _Locale, pii: bool, cpr: str) -> str:
        rng = self.rng
        if not pii:
            return rng.choice(PLAIN_NOTES)
        template, *fields = rng.choice([t for t in _PII_NOTES if cpr or "cpr" not in t[1:]])
        first, last = self._person(self._locale(), rng.random() < 0.5)
        values = {"name": f"{first} {last}", "email": _email(rng, first, last), "phone": loc.phone(rng),
                  "cpr": cpr}
        return template.format(**{f: values[f] for f in fields})

    def customer(self, number: int, problems: frozenset[str]) -> _Customer:
        rng, loc = self.rng, self._locale()
        female = rng.random() < 0.5
        first, last = self._person(loc, female)
        born = self.day - timedelta(days=rng.randint(18 * 365 + 5, 90 * 365))
        cpr = cpr_number(born, rng, female) if loc.faker == "da_DK" else ""
        pool = self.pools[loc.faker]
        street = loc.street(rng, rng.choice(pool.streets))
        postal, city = rng.choice(pool.places)
        created = _between(rng, self.day_start - timedelta(days=3 * 365), self.day_end)
        notes = self._note(loc, "notes_pii" in problems, cpr) if "notes" in problems else ""
        row = (
            f"C{number:06d}",
            f"{first} {last}",
            "" if "missing_email" in problems else _email(rng, first, last),
            rng.choice(INVALID_PHONES) if "invalid_phone" in problems else loc.phone(rng),
            cpr, street, city, postal, loc.country, born.isoformat(), _stamp(created),
            "true" if rng.random() < 0.85 else "false",
            rng.choice(INVALID_TIERS) if "invalid_tier" in problems else _weighted(rng, TIERS)[0],
            notes,
        )
        ship_to = f"{street}, {postal} {city}" + ("" if loc.faker == "da_DK" else f", {loc.country}")
        return _Customer(row, created, ship_to, problems - {"notes"})

    def random_address(self) -> str:
        loc = self._locale()
        pool = self.pools[loc.faker]
        postal, city = self.rng.choice(pool.places)
        return f"{loc.street(self.rng, self.rng.choice(pool.streets))}, {postal} {city}, {loc.country}"

    def customers(self, rows: int) -> list[_Customer]:
        """``rows`` customer rows; duplicates repeat an earlier row unchanged."""
        rng = self.rng
        duplicates = _quota(rng, range(1, rows), RATE_DUPLICATE_ID) if rows > 1 else set()
        unique = range(rows - len(duplicates))
        flags: dict[int, set[str]] = {i: set() for i in unique}
        noted = _quota(rng, unique, RATE_NOTES)
        for name, members in (
            ("missing_email", _quota(rng, unique, RATE_MISSING_EMAIL)),
            ("invalid_phone", _quota(rng, unique, RATE_INVALID_PHONE)),
            ("invalid_tier", _quota(rng, unique, RATE_INVALID_TIER)),
            ("notes", noted),
            ("notes_pii", _quota(rng, sorted(noted), RATE_NOTES_PII)),
        ):
            for i in members:
                flags[i].add(name)
        out: list[_Customer] = []
        made: list[_Customer] = []
        for position in range(rows):
            if position in duplicates:
                original = rng.choice(made)
                out.append(original._replace(problems=original.problems | {"duplicate_id"}))
                continue
            made.append(self.customer(len(made) + 1, frozenset(flags[len(made)])))
            out.append(made[-1])
        return out

    def orders(self, rows: int, customers: list[_Customer]) -> Iterator[tuple[tuple[str, ...], frozenset[str]]]:
        """Order rows linked to ``customers`` (a few heavy buyers), with the order problems placed."""
        rng = self.rng
        known = [c for c in customers if "duplicate_id" not in c.problems]
        unlinked = sorted(_quota(rng, range(rows), RATE_ORPHAN_ORDER + RATE_MISSING_CUSTOMER_ID))
        missing = _quota(rng, unlinked, RATE_MISSING_CUSTOMER_ID / (RATE_ORPHAN_ORDER + RATE_MISSING_CUSTOMER_ID))
        orphans, negative = set(unlinked) - missing, _quota(rng, range(rows), RATE_NEGATIVE_AMOUNT)
        buyers = rng.choices(known, cum_weights=list(accumulate(rng.paretovariate(1.6) for _ in known)), k=rows)
        columns = zip(*(_weighted(rng, options, rows) for options in (CURRENCIES, STATUSES, PAYMENT_METHODS)),
                      strict=True)
        for i, (currency, status, payment) in enumerate(columns):
            problems: set[str] = set()
            buyer: _Customer | None = buyers[i]
            if i in orphans:
                highest = max(MAX_ORPHAN_ID, 2 * len(known))
                buyer, customer_id, problems = None, f"C{rng.randint(len(known) + 1, highest):06d}", {"orphan"}
            elif i in missing:
                buyer, customer_id, problems = None, "", {"missing_customer_id"}
            else:
                customer_id = buyers[i].row[0]
            if i in negative:
                amount = -rng.uniform(10, 500)
                problems.add("negative_amount")
            else:
                amount = min(rng.lognormvariate(6.0, 0.9), 50_000.0)
            yield (
                f"O{i + 1:08d}", customer_id, _stamp(self._order_time(buyer)), f"{amount:.2f}",
                currency, status, payment, self._ship_to(buyer),
            ), frozenset(problems)

    def _order_time(self, buyer: _Customer | None) -> datetime:
        """After the customer was created, within two years; one order in ten on the day itself."""
        start = self.day_start - timedelta(days=730)
        if buyer and buyer.created > start:
            start = buyer.created
        if self.rng.random() < 0.1 and start < self.day_start:
            start = self.day_start
        return _between(self.rng, start, self.day_end)

    def _ship_to(self, buyer: _Customer | None) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return ""
        return buyer.ship_to if buyer and roll < 0.95 else self.random_address()


# --- writing -------------------------------------------------------------------------------------


def _root(landing_root: Any) -> Any:
    """A local ``Path`` for paths and file:// URLs, else an ``ObjectStoragePath``."""
    if isinstance(landing_root, str) and "://" in landing_root:
        if landing_root.startswith("file://"):
            return Path(landing_root.removeprefix("file://"))
        from airflow.sdk import ObjectStoragePath

        from atlas import settings

        return ObjectStoragePath(landing_root, conn_id=settings.storage_conn_id())
    if isinstance(landing_root, str | os.PathLike):
        return Path(landing_root)
    return landing_root


@contextmanager
def _open_for_write(target: Any) -> Iterator[IO[str]]:
    """Text handle on ``target``; local files appear under their final name only when complete."""
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        with partial.open("w", encoding="utf-8", newline="") as handle:
            yield handle
        partial.replace(target)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", encoding="utf-8") as handle:
        yield handle


def _write_csv(target: Any, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    with _open_for_write(target) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate(
    landing_root: str | os.PathLike[str] | Any,
    ds: str,
    customers: int = 10_000,
    orders: int = 50_000,
    seed: int = 42,
) -> SampleSummary:
    """Write the customers and orders extracts for ``ds`` under ``landing_root``; count the problems.

    ``landing_root`` is a local folder, a ``file://`` or ``s3://`` URL (the latter through
    ``ATLAS_STORAGE_CONN_ID``), or an ``airflow.sdk.ObjectStoragePath``.
    """
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"customers must be between 1 and {MAX_CUSTOMERS}")
    if not 0 <= orders <= MAX_ORDERS:
        raise ValueError(f"orders must be between 0 and {MAX_ORDERS}")
    gen = _Generator(ds, seed)
    customer_rows = gen.customers(customers)
    root = _root(landing_root)
    _write_csv(root / "customers" / ds / "customers.csv", CUSTOMER_COLUMNS, (c.row for c in customer_rows))
    order_problems: Counter[str] = Counter()

    def counted(rows: Iterable[tuple[tuple[str, ...], frozenset[str]]]) -> Iterator[tuple[str, ...]]:
        for row, problems in rows:  # streamed: millions of orders never sit in memory at once
            order_problems.update(problems)
            order_problems["rows"] += 1
            yield row

    _write_csv(root / "orders" / ds / "orders.csv", ORDER_COLUMNS, counted(gen.orders(orders, customer_rows)))
    return _summarize(customer_rows, order_problems)


def _summarize(customers: list[_Customer], orders: Counter[str]) -> SampleSummary:
    flags = Counter(problem for c in customers for problem in c.problems)
    return SampleSummary(
        customer_rows=len(customers),
        order_rows=orders["rows"],
        missing_emails=flags["missing_email"],
        invalid_phones=flags["invalid_phone"],
        duplicate_customer_ids=flags["duplicate_id"],
        invalid_tiers=flags["invalid_tier"],
        notes_with_pii=flags["notes_pii"],
        negative_amounts=orders["negative_amount"],
        orphan_orders=orders["orphan"],
        missing_customer_ids=orders["missing_customer_id"],
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write one day's sample extracts and print what they contain."""
    from atlas import settings

    parser = argparse.ArgumentParser(prog="python -m atlas.sample_data", description=main.__doc__)
    parser.add_argument("--landing", default=settings.landing_url(), help="landing root (folder or URL)")
    parser.add_argument("--ds", default=date.today().isoformat(), help="logical date, YYYY-MM-DD")
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    summary = generate(args.landing, args.ds, customers=args.customers, orders=args.orders, seed=args.seed)
    print(f"sample extracts for {args.ds} under {args.landing}")
    for name, value in summary.as_dict().items():
        print(f"  {name:<24}{value:>10,}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
