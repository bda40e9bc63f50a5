"""Strings that analysts need from deleted items and that hold no PII: dates, prices,
identifiers, versions, addresses of machines, URLs and words. Each generator takes a
seeded random generator and returns one string."""

import ipaddress
import uuid

ZONES = ["Z", "+00:00", "+01:00", "-05:00", "+05:30", "-03:30", "+0530", "-0800", "+14:00", ""]
FRACTIONS = ["", ".1", ".123", ".123456", ".123456789", ",5"]
CURRENCIES = ["EUR", "USD", "GBP", "CHF", "JPY", "SEK", "AUD"]
SYMBOLS = ["$", "€", "£", "¥"]
EUROPEAN_THOUSANDS = [".", "\u00a0", "\u202f"]


def _date(rng):
    return rng.randint(1970, 2099), rng.randint(1, 12), rng.randint(1, 28)


def iso_date(rng):
    y, m, d = _date(rng)
    if rng.random() < 0.1:
        # Week dates: `2026-W47` and `2026-W47-4`.
        week = f"{y:04d}-W{rng.randint(1, 52):02d}"
        return week if rng.random() < 0.5 else f"{week}-{rng.randint(1, 7)}"
    return f"{y:04d}-{m:02d}-{d:02d}"


def iso_datetime(rng):
    y, m, d = _date(rng)
    hh, mm, ss = rng.randint(0, 23), rng.randint(0, 59), rng.randint(0, 59)
    zone = rng.choice(ZONES)
    fraction = rng.choice(FRACTIONS)
    if rng.random() < 0.25:
        # Basic format: `20261119T101530Z`, `20261119T1015+0530`.
        zone = zone.replace(":", "")
        if rng.random() < 0.3:
            return f"{y:04d}{m:02d}{d:02d}T{hh:02d}{mm:02d}{zone}"
        return f"{y:04d}{m:02d}{d:02d}T{hh:02d}{mm:02d}{ss:02d}{fraction}{zone}"
    sep = "T" if rng.random() < 0.85 else " "
    if rng.random() < 0.15:
        return f"{y:04d}-{m:02d}-{d:02d}{sep}{hh:02d}:{mm:02d}{zone}"
    return f"{y:04d}-{m:02d}-{d:02d}{sep}{hh:02d}:{mm:02d}:{ss:02d}{fraction}{zone}"


def _amount(rng):
    """Mostly everyday amounts, a few in the millions."""
    r = rng.random()
    if r < 0.4:
        return rng.randint(0, 99) + rng.randint(0, 99) / 100
    if r < 0.9:
        return rng.randint(100, 99_999) + rng.randint(0, 99) / 100
    return rng.randint(1_000_000, 99_999_999) + rng.randint(0, 99) / 100


def _grouped(amount, thousands, decimal):
    whole, cents = f"{amount:,.2f}".split(".")
    return whole.replace(",", thousands) + decimal + cents


def price(rng):
    amount = _amount(rng)
    style = rng.randrange(8)
    if style == 0:
        return f"{rng.choice(CURRENCIES)} {_grouped(amount, ',', '.')}"
    if style == 1:
        return f"{rng.choice(SYMBOLS)}{_grouped(amount, ',', '.')}"
    if style == 2:
        return f"{amount:.2f}"
    if style == 3:
        # German and French styles: `1.234,50 €`, `1 234,50 €` (no-break or narrow no-break).
        return _grouped(amount, rng.choice(EUROPEAN_THOUSANDS), ",") + " €"
    if style == 4:
        return f"{_grouped(amount, ',', '.')} {rng.choice(CURRENCIES)}"
    if style == 5:
        return f"-{amount:.2f}"
    if style == 6:
        return f"CHF {_grouped(amount, chr(39), '.')}"
    return f"{rng.choice(CURRENCIES)} {int(amount)}"


def uuid_text(rng):
    u = uuid.UUID(int=rng.getrandbits(128), version=4)
    style = rng.randrange(6)
    if style == 0:
        return str(u).upper()
    if style == 1:
        return f"{{{u}}}"
    if style == 2:
        return f"urn:uuid:{u}"
    return str(u)


def order_number(rng):
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    style = rng.randrange(7)
    if style == 0:
        return f"ORD-{rng.randint(1000, 9999)}-{rng.choice(letters)}{rng.choice(letters)}"
    if style == 1:
        return f"A-{rng.randint(10000, 99999)}"
    if style == 2:
        return f"#{rng.randint(100000, 999999)}"
    if style == 3:
        # Long digit runs: a year and a counter, or a plain number.
        return f"PO-{rng.randint(2015, 2030)}-{rng.randint(0, 999999):06d}"
    if style == 4:
        return f"INV/{rng.randint(2015, 2030)}/{rng.randint(0, 99999):05d}"
    if style == 5:
        return f"SO{rng.randint(10**8, 10**9 - 1)}"
    code = "".join(rng.choice(letters + "23456789") for _ in range(8))
    return f"TKT-{code[:4]}-{code[4:]}"


def version(rng):
    a, b, c = rng.randint(0, 20), rng.randint(0, 30), rng.randint(0, 200)
    style = rng.randrange(6)
    if style == 0:
        return f"{a}.{b}.{c}"
    if style == 1:
        return f"v{a}.{b}.{c}-rc.{rng.randint(1, 5)}"
    if style == 2:
        # Windows builds: `10.0.19045.3803`.
        return f"10.0.{rng.randint(10000, 26100)}.{rng.randint(1, 5000)}"
    if style == 3:
        return f"{a}.{b}.{c}+build.{rng.randint(1, 9999)}"
    if style == 4:
        return f"{rng.randint(3, 6)}.{rng.randint(0, 19)}.0-{rng.randint(1, 200)}-generic"
    return f"{a}.{b}"


def ipv4(rng):
    return str(ipaddress.IPv4Address(rng.getrandbits(32)))


def ipv6(rng):
    style = rng.randrange(4)
    if style == 0:
        return ipaddress.IPv6Address(rng.getrandbits(128)).exploded
    if style == 1:
        return f"2001:db8::{rng.randint(1, 0xFFFF):x}"
    if style == 2:
        return f"::ffff:{ipaddress.IPv4Address(rng.getrandbits(32))}"
    return str(ipaddress.IPv6Address((0x20010DB8 << 96) | rng.getrandbits(64)))


# Kind -> (generator, how many).
GENERATED = {
    "iso-date": (iso_date, 400),
    "iso-datetime": (iso_datetime, 600),
    "price": (price, 500),
    "uuid": (uuid_text, 300),
    "order-number": (order_number, 300),
    "version": (version, 300),
    "ipv4": (ipv4, 300),
    "ipv6": (ipv6, 300),
}


def generate(rng, fakers):
    """Every benign entry: the generated kinds, then Faker's URLs and words of every
    locale (`fakers`: locale -> seeded Faker)."""
    rows = []
    for kind, (gen, count) in GENERATED.items():
        rows.extend({"kind": kind, "text": gen(rng)} for _ in range(count))
    for fake in fakers.values():
        for method in (fake.url, fake.uri, fake.uri):
            text = method()
            if "@" not in text:
                rows.append({"kind": "url", "text": text})
        rows.extend({"kind": "word", "text": fake.word()} for _ in range(4))
    return rows
