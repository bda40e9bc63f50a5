#!/usr/bin/env python3
"""Writes the corpus of the PII detector (crates/archive/tests/corpus/): phone numbers and
e-mail addresses in free text, in the forms of contract section 3 (pii.jsonl), and
strings without PII that analysts need from deleted items (benign.jsonl).

Phone numbers are the example numbers of `phonenumbers` (every region and non-geographic
entity, every number type that has one, as E164, INTERNATIONAL and NATIONAL) and Faker's
`phone_number()` of every locale; e-mail addresses are Faker's `email()`, `free_email()`
and `company_email()` of every locale. Seeds are fixed: the same package versions
(requirements.txt) write the same bytes.

    python make_corpus.py [--out DIR]
"""

import argparse
import json
import pathlib
import random
import warnings
import zlib

import faker.config
import phonenumbers
from faker import Faker
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType

import benign
import forms

SEED = 20261119
# The share of entries written in another form than the plain one.
FORM_SHARE = 0.4
PHONES_PER_LOCALE = 6
EMAILS_PER_METHOD = 5
DEFAULT_OUT = pathlib.Path(__file__).resolve().parents[2] / "crates/archive/tests/corpus"

FORMATS = {"E164": PhoneNumberFormat.E164, "INTERNATIONAL": PhoneNumberFormat.INTERNATIONAL,
           "NATIONAL": PhoneNumberFormat.NATIONAL}
TYPES = {name: value for name, value in vars(PhoneNumberType).items()
         if name.isupper() and name != "UNKNOWN"}
# Per type, the field of a non-geographic entity's metadata that describes it.
NON_GEO_DESC = {"FIXED_LINE": "fixed_line", "MOBILE": "mobile", "TOLL_FREE": "toll_free",
                "PREMIUM_RATE": "premium_rate", "SHARED_COST": "shared_cost", "VOIP": "voip",
                "PERSONAL_NUMBER": "personal_number", "PAGER": "pager", "UAN": "uan",
                "VOICEMAIL": "voicemail"}

# The value with words, dates and other numbers beside it.
PHONE_TEMPLATES = [
    "{v}",
    "call me on {v} after 6",
    "ref 2026-11-19: {v}.",
    "contact:{v}",
    "tel. {v} / Termin 2026-12-01T09:30:00+01:00",
    "order ORD-7781-XK, 2 tickets, reach {v}",
    "<td>{v}</td>",
    "note from fan 58213: {v} (mobile)",
    "seat 12 row 4 -- {v}",
    '{"contact": "{v}", "n": 3}',
]
EMAIL_TEMPLATES = [
    "{v}",
    "mail me at {v} please",
    "ref 2026-11-19: {v}.",
    "contact:{v}",
    '<a href="mailto:{v}">write</a>',
    "From: Ana <{v}>",
    "order ORD-7781-XK, 2 tickets, confirm to {v}",
    "cc {v}; bcc none",
    '{"email": "{v}", "opt_in": true}',
]


def phonenumbers_examples():
    """(source without the format, number) for every region and non-geographic entity and
    every type that has an example; a type whose example is one already given is left out."""
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        seen = set()
        for name, t in TYPES.items():
            n = phonenumbers.example_number_for_type(region, t)
            if n is not None and n.national_number not in seen:
                seen.add(n.national_number)
                yield f"phonenumbers:{region}:{name}", n
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        metadata = PhoneMetadata.metadata_for_nongeo_region(cc)
        seen = set()
        for name, field in NON_GEO_DESC.items():
            desc = getattr(metadata, field, None) if metadata else None
            example = desc.example_number if desc else None
            if example and example not in seen:
                seen.add(example)
                yield f"phonenumbers:001+{cc}:{name}", phonenumbers.parse(f"+{cc}{example}")


def fakers():
    """A seeded Faker per locale, the seed derived from the locale's name."""
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for locale in sorted(faker.config.AVAILABLE_LOCALES):
            fake = Faker(locale)
            fake.seed_instance(zlib.crc32(locale.encode()))
            out[locale] = fake
    return out


def faker_phone(fake):
    """`phone_number()`, or `mobile_number()` where the locale has no `phone_number`."""
    for name in ("phone_number", "mobile_number"):
        try:
            method = getattr(fake, name)
        except AttributeError:
            continue
        return method
    return None


def values(fakes):
    """(kind, source, value) of every PII value, in a fixed order."""
    for source, number in phonenumbers_examples():
        for fmt_name, fmt in FORMATS.items():
            yield "phone", f"{source}:{fmt_name}", phonenumbers.format_number(number, fmt)
    for locale, fake in fakes.items():
        method = faker_phone(fake)
        if method is not None:
            for _ in range(PHONES_PER_LOCALE):
                yield "phone", f"faker:{locale}", method()
        for name in ("email", "free_email", "company_email"):
            for _ in range(EMAILS_PER_METHOD):
                yield "email", f"faker:{locale}:{name}", getattr(fake, name)()


def entry(rng, kind, source, value):
    text_forms = forms.PHONE_FORMS if kind == "phone" else forms.EMAIL_FORMS
    templates = PHONE_TEMPLATES if kind == "phone" else EMAIL_TEMPLATES
    form, encoding, written = "plain", "text", value
    if rng.random() < FORM_SHARE:
        choice = rng.choice(list(text_forms) + list(forms.ENCODINGS))
        if choice in forms.ENCODINGS:
            encoding = choice
        else:
            form = choice
            written = text_forms[choice](value, kind, rng)
    text = rng.choice(templates).replace("{v}", written)
    row = {"kind": kind, "source": source, "value": value}
    if kind == "phone":
        row["digits"] = sum(c.isdigit() for c in value)
    row.update(form=form, encoding=encoding, text=forms.encode(text, encoding))
    return row


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{path}: {len(rows)} lines, {path.stat().st_size} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="the corpus folder")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    rng = random.Random(SEED)
    fakes = fakers()
    pii = [entry(rng, *v) for v in values(fakes)]
    write_jsonl(args.out / "pii.jsonl", pii)

    # The benign side has its own seeds: a change to the PII side leaves it as it is.
    for locale, fake in fakes.items():
        fake.seed_instance(zlib.crc32(b"benign:" + locale.encode()))
    write_jsonl(args.out / "benign.jsonl", benign.generate(random.Random(SEED + 1), fakes))


if __name__ == "__main__":
    main()
