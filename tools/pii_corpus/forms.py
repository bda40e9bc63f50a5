"""The forms a PII value can take in a deleted item's text (contract section 3, "Every form of
the text"), each as a function of the value, its kind ("phone" or "email") and a seeded
random generator. A form changes how the value is written, never what it stands for."""

import base64

# Between digit groups of a phone number as generated.
ASCII_SEPARATORS = " .-"

NAMED_REFS = {
    "@": "&commat;",
    ".": "&period;",
    "+": "&plus;",
    " ": "&nbsp;",
    "-": "&ndash;",
    "(": "&lpar;",
    ")": "&rpar;",
    "_": "&lowbar;",
}


def _hex(rng, n, width):
    text = f"{n:0{width}x}"
    return text.upper() if rng.random() < 0.5 else text


def _is_plain(c):
    return c.isascii() and c.isalnum()


def grouped(value):
    """A phone number written without separators (`+33612345678`), split into digit groups
    with spaces (`+33 612 345 678`); a value that has separators is returned as it is."""
    if any(c in ASCII_SEPARATORS for c in value):
        return value
    lead = "+" if value.startswith("+") else ""
    digits = value[len(lead):]
    groups = [digits[:2]]
    rest = digits[2:]
    while rest:
        take = len(rest) if len(rest) <= 4 else 3
        groups.append(rest[:take])
        rest = rest[take:]
    return lead + " ".join(g for g in groups if g)


def pct_at(value, kind, rng):
    return value.replace("@", "%40")


def pct_all(value, kind, rng):
    out = []
    for c in value:
        if _is_plain(c):
            out.append(c)
        else:
            out.extend("%" + _hex(rng, b, 2) for b in c.encode("utf-8"))
    return "".join(out)


def _char_refs(value, kind, rng, ref):
    out = []
    for i, c in enumerate(value):
        # Phones: digit references too (`&#53;` is `5`), one digit in three.
        if not _is_plain(c) or (kind == "phone" and c.isdigit() and i % 3 == 1):
            out.append(ref(c))
        else:
            out.append(c)
    return "".join(out)


def html_dec(value, kind, rng):
    return _char_refs(value, kind, rng, lambda c: f"&#{ord(c)};")


def html_hex(value, kind, rng):
    return _char_refs(value, kind, rng, lambda c: f"&#x{_hex(rng, ord(c), 1)};")


def html_named(value, kind, rng):
    if kind == "phone":
        return "".join(NAMED_REFS.get(c, c) for c in grouped(value))
    # In an address, `-` stays: `&ndash;` would stand for another character.
    dots = rng.random() < 0.5
    out = []
    for c in value:
        if c == "." and not dots:
            out.append(c)
        elif c in NAMED_REFS and c != "-":
            out.append(NAMED_REFS[c])
        else:
            out.append(c)
    return "".join(out)


def fullwidth(value, kind, rng):
    """NFKC compatibility forms: full-width ASCII (`０`-`９`, `＠`, `＋`) and the ideographic
    space."""
    out = []
    for c in value:
        if "!" <= c <= "~":
            out.append(chr(ord(c) + 0xFEE0))
        elif c == " ":
            out.append("\u3000")
        else:
            out.append(c)
    return "".join(out)


def separator(char):
    """Another space, dash or a tab between a phone number's digit groups."""

    def form(value, kind, rng):
        return "".join(char if c in ASCII_SEPARATORS else c for c in grouped(value))

    return form


def json_escape(value, kind, rng):
    """The JSON escape as text (`ana\\u0040example.org`, `\\u0035` for `5`): what a string
    holds when JSON text was stored in it without being decoded."""
    out = []
    for c in value:
        if (kind == "phone" and (c.isdigit() or c == "+")) or (kind == "email" and not _is_plain(c)):
            out.append("\\u" + _hex(rng, ord(c), 4))
        else:
            out.append(c)
    return "".join(out)


def quoted_local(value, kind, rng):
    local, _, domain = value.rpartition("@")
    spaced = local.replace(".", " ").replace("_", " ")
    if spaced == local:
        cut = max(1, len(local) // 2)
        spaced = local[:cut] + " " + local[cut:]
    return f'"{spaced}"@{domain}'


def literal_v4(value, kind, rng):
    local = value.rpartition("@")[0]
    net = rng.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{local}@[{net}.{rng.randint(1, 254)}]"


def literal_v6(value, kind, rng):
    local = value.rpartition("@")[0]
    host = rng.choice(["::", ":0:0:1::", ":ab:cd::"]) + f"{rng.randint(1, 0xFFFF):x}"
    return f"{local}@[IPv6:2001:db8{host}]"


# The text forms by kind, in the order their names are drawn.
PHONE_FORMS = {
    "pct-all": pct_all,
    "html-dec": html_dec,
    "html-hex": html_hex,
    "html-named": html_named,
    "fullwidth": fullwidth,
    "sep-nbsp": separator("\u00a0"),
    "sep-nnbsp": separator("\u202f"),
    "sep-thin-space": separator("\u2009"),
    "sep-en-dash": separator("\u2013"),
    "sep-minus": separator("\u2212"),
    "sep-nb-hyphen": separator("\u2011"),
    "sep-tab": separator("\t"),
    "json-escape": json_escape,
}
EMAIL_FORMS = {
    "pct-at": pct_at,
    "pct-all": pct_all,
    "html-dec": html_dec,
    "html-hex": html_hex,
    "html-named": html_named,
    "fullwidth": fullwidth,
    "json-escape": json_escape,
    "quoted-local": quoted_local,
    "literal-ipv4": literal_v4,
    "literal-ipv6": literal_v6,
}

# A DynamoDB `B` value reaches the detector as its base64 text: the whole text as bytes.
ENCODINGS = {
    "b64-utf8": "utf-8",
    "b64-utf16le": "utf-16-le",
    "b64-utf16be": "utf-16-be",
}


def encode(text, encoding):
    if encoding == "text":
        return text
    return base64.b64encode(text.encode(ENCODINGS[encoding])).decode("ascii")
