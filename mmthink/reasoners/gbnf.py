"""The step grammar for servers: a modality's Lark draft grammar as GBNF, and as a regex that checks output.

Servers constrain decoding with grammars in their own syntax: llama.cpp (and llama-cpp-python) take
GBNF in ``grammar``; vLLM's ``structured_outputs.grammar`` / ``guided_grammar`` and SGLang's ``ebnf``
go to xgrammar, whose EBNF reads the same text. The modalities write their draft grammars in Lark
(:attr:`~mmthink.core.turn.Guide.grammar`, the form llguidance reads in ``hf``), so this module
translates the small Lark subset they use: rules, quoted strings, ``/regex/`` terminals (character
classes, groups, alternatives and counted repeats), ``|``, ``( )``, ``[ ]``, ``? * + {m,n}``.
Anything else is refused with the construct named, never guessed.

:func:`draft_grammar` assembles what a server gets once the model has written ``<sketch``: the
next id fixed (``id="s2"``, so a model cannot reuse ``s1``), the tag's attribute rule where the
modality has one (``<tag>_attrs``), ``>``, then the body rule up to the closing tag. Names may be
narrowed to the words of the request (``names=``). :func:`to_regex` gives the same language as a
Python regex, so a reply can be checked against the grammar it was sent with.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from mmthink.errors import BackendError

# ----------------------------------------------------------------------- the Lark subset


@dataclass(frozen=True)
class Lit:
    text: str


@dataclass(frozen=True)
class Rx:
    pattern: str  # a regex in Python syntax (a Lark /.../ terminal, or a translated class)


@dataclass(frozen=True)
class Ref:
    name: str


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    options: tuple[Node, ...]


@dataclass(frozen=True)
class Rep:
    node: Node
    lo: int
    hi: int | None  # None: unbounded


Node = Lit | Rx | Ref | Seq | Alt | Rep

_LARK_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")(?P<flag>i)?|(?P<rx>/(?:[^/\\]|\\.)+/)(?P<rxflag>[imsulx]*)'
    r"|(?P<rep>\{\s*\d+\s*(?:,\s*\d*\s*)?\})|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>[|()\[\]?*+]))"
)


def parse_lark(text: str) -> dict[str, Node]:
    """Rules of a Lark grammar (the subset the draft grammars use), by name."""
    rules: dict[str, str] = {}
    last = None
    for raw in text.splitlines():
        line = re.sub(r"^\s*//.*$", "", raw).rstrip()
        if not line.strip():
            continue
        m = re.match(r"^\s*([?!]?)([A-Za-z_][A-Za-z0-9_]*)(?:\.\d+)?\s*:(.*)$", line)
        if m and not line.lstrip().startswith("|"):
            last = m.group(2)
            rules[last] = m.group(3)
        elif line.lstrip().startswith("|") and last is not None:
            rules[last] += " " + line.strip()
        elif line.lstrip().startswith("%"):
            raise BackendError(f"the draft grammar uses {line.strip().split()[0]}, which servers cannot be sent")
        else:
            raise BackendError(f"cannot read the draft grammar line {line.strip()!r}")
    return {name: _Expr(body, name).parse() for name, body in rules.items()}


class _Expr:
    def __init__(self, text: str, rule: str) -> None:
        self.rule = rule
        self.toks: list[tuple[str, str, str]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _LARK_TOKEN.match(text, pos)
            if m is None or m.end() == pos:
                raise BackendError(f"rule {rule!r}: cannot read {text[pos:][:30]!r}")
            kind = m.lastgroup if m.lastgroup not in ("flag", "rxflag") else ("str" if m.group("str") else "rx")
            if m.group("flag") or m.group("rxflag"):
                raise BackendError(f"rule {rule!r}: flags on {m.group(0).strip()!r} are not supported")
            tok = m.group(kind or "op")
            self.toks.append((kind or "op", tok, ""))
            pos = m.end()
        self.i = 0

    def _peek(self) -> tuple[str, str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        node = self._alt()
        if self._peek() is not None:
            raise BackendError(f"rule {self.rule!r}: unexpected {self._peek()[1]!r}")  # type: ignore[index]
        return node

    def _alt(self) -> Node:
        options = [self._seq()]
        while (t := self._peek()) is not None and t[1] == "|":
            self.i += 1
            options.append(self._seq())
        return options[0] if len(options) == 1 else Alt(tuple(options))

    def _seq(self) -> Node:
        items: list[Node] = []
        while (t := self._peek()) is not None and t[1] not in ("|", ")", "]"):
            items.append(self._item())
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def _item(self) -> Node:
        kind, tok, _ = self.toks[self.i]
        self.i += 1
        node: Node
        if kind == "str":
            node = Lit(ast.literal_eval(tok))
        elif kind == "rx":
            node = Rx(tok[1:-1])
        elif kind == "name":
            node = Ref(tok)
        elif tok in "([":
            node = self._alt()
            close = ")" if tok == "(" else "]"
            if self._peek() is None or self._peek()[1] != close:  # type: ignore[index]
                raise BackendError(f"rule {self.rule!r}: {tok!r} is not closed")
            self.i += 1
            if tok == "[":
                node = Rep(node, 0, 1)
        else:
            raise BackendError(f"rule {self.rule!r}: unexpected {tok!r}")
        while (t := self._peek()) is not None and (t[0] == "rep" or t[1] in "?*+"):
            self.i += 1
            if t[1] == "?":
                node = Rep(node, 0, 1)
            elif t[1] == "*":
                node = Rep(node, 0, None)
            elif t[1] == "+":
                node = Rep(node, 1, None)
            else:
                lo, _, hi = t[1].strip("{} ").partition(",")
                node = Rep(node, int(lo), int(lo) if not _ else (int(hi) if hi.strip() else None))
        return node


# ----------------------------------------------------------------------- regex terminals


def _regex_to_node(pattern: str) -> Node:
    """A regex terminal as grammar nodes (character classes stay classes); unsupported syntax is refused."""
    node, end = _rx_alt(pattern, 0)
    if end != len(pattern):
        raise BackendError(f"regex /{pattern}/: unexpected {pattern[end]!r} at {end}")
    return node


def _rx_alt(p: str, i: int) -> tuple[Node, int]:
    options = []
    node, i = _rx_seq(p, i)
    options.append(node)
    while i < len(p) and p[i] == "|":
        node, i = _rx_seq(p, i + 1)
        options.append(node)
    return (options[0] if len(options) == 1 else Alt(tuple(options))), i


_CLASS_ESCAPES = {"d": "[0-9]", "w": "[a-zA-Z0-9_]", "s": "[ \\t\\n]"}


def _rx_seq(p: str, i: int) -> tuple[Node, int]:
    items: list[Node] = []
    while i < len(p) and p[i] not in "|)":
        c = p[i]
        atom: Node
        if c == "(":
            i += 3 if p.startswith("(?:", i) else 1
            if p.startswith("(?", i - 1) and not p.startswith("(?:", i - 1):
                raise BackendError(f"regex /{p}/: groups other than (...) and (?:...) are not supported")
            atom, i = _rx_alt(p, i)
            if i >= len(p) or p[i] != ")":
                raise BackendError(f"regex /{p}/: a group is not closed")
            i += 1
        elif c == "[":
            j = i + 1 + (p[i + 1 : i + 2] == "^")
            j += p[j : j + 1] == "]"
            while j < len(p) and p[j] != "]":
                j += 2 if p[j] == "\\" else 1
            if j >= len(p):
                raise BackendError(f"regex /{p}/: a character class is not closed")
            atom, i = Rx(p[i : j + 1]), j + 1
        elif c == "\\":
            e = p[i + 1 : i + 2]
            if e in _CLASS_ESCAPES:
                atom = Rx(_CLASS_ESCAPES[e])
            elif e in "ntr":
                atom = Lit({"n": "\n", "t": "\t", "r": "\r"}[e])
            elif e and not e.isalnum():
                atom = Lit(e)
            else:
                raise BackendError(f"regex /{p}/: the escape \\{e} is not supported")
            i += 2
        elif c == ".":
            atom, i = Rx("[^\\n]"), i + 1
        elif c in "^$*+?{":
            raise BackendError(f"regex /{p}/: {c!r} at {i} is not supported here")
        else:
            atom, i = Lit(c), i + 1
        atom, i = _rx_quant(p, i, atom)
        items.append(atom)
    merged: list[Node] = []
    for it in items:  # adjacent literal characters become one literal
        if isinstance(it, Lit) and merged and isinstance(merged[-1], Lit):
            merged[-1] = Lit(merged[-1].text + it.text)
        else:
            merged.append(it)
    return (merged[0] if len(merged) == 1 else Seq(tuple(merged))), i


def _rx_quant(p: str, i: int, atom: Node) -> tuple[Node, int]:
    while i < len(p) and p[i] in "?*+{":
        if p[i] == "{":
            m = re.match(r"\{(\d+)(,(\d*))?\}", p[i:])
            if m is None:
                raise BackendError(f"regex /{p}/: cannot read the repeat at {i}")
            lo = int(m.group(1))
            hi = lo if m.group(2) is None else (int(m.group(3)) if m.group(3) else None)
            atom, i = Rep(atom, lo, hi), i + m.end()
        else:
            atom = {"?": Rep(atom, 0, 1), "*": Rep(atom, 0, None), "+": Rep(atom, 1, None)}[p[i]]
            i += 1
        if i < len(p) and p[i] == "?":
            raise BackendError(f"regex /{p}/: lazy repeats are not supported")
    return atom, i


# ----------------------------------------------------------------------- emitting


def _gbnf_name(name: str) -> str:
    return name.replace("_", "-")


def _gbnf_lit(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def _gbnf(node: Node, top: bool = False) -> str:
    if isinstance(node, Lit):
        return _gbnf_lit(node.text)
    if isinstance(node, Rx):
        if node.pattern.startswith("[") and node.pattern.endswith("]") and _is_class(node.pattern):
            return node.pattern
        return "(" + _gbnf(_regex_to_node(node.pattern), top=True) + ")"
    if isinstance(node, Ref):
        return _gbnf_name(node.name)
    if isinstance(node, Seq):
        text = " ".join(_gbnf(n) for n in node.items)
        return text if top else f"({text})"
    if isinstance(node, Alt):
        text = " | ".join(_gbnf(n, top=True) for n in node.options)
        return text if top else f"({text})"
    inner = _gbnf(node.node)
    if node.lo == 0 and node.hi == 1:
        return inner + "?"
    if node.lo == 0 and node.hi is None:
        return inner + "*"
    if node.lo == 1 and node.hi is None:
        return inner + "+"
    return inner + (f"{{{node.lo}}}" if node.hi == node.lo else f"{{{node.lo},{'' if node.hi is None else node.hi}}}")


def _is_class(pattern: str) -> bool:
    try:
        n, end = _rx_seq(pattern, 0)
    except BackendError:
        return False
    return end == len(pattern) and isinstance(n, Rx) and n.pattern == pattern


def to_gbnf(rules: dict[str, Node], start: str) -> str:
    """GBNF (llama.cpp; xgrammar's EBNF reads it too) with ``root`` as ``start``; unused rules are left out."""
    used = _reachable(rules, start)
    lines = [f"root ::= {_gbnf(Ref(start), top=True)}"]
    for name in used:
        lines.append(f"{_gbnf_name(name)} ::= {_gbnf(rules[name], top=True)}")
    return "\n".join(lines) + "\n"


def to_regex(rules: dict[str, Node], start: str) -> str:
    """The language of ``start`` as a Python regex (the grammar must not recurse), for ``re.fullmatch``."""

    def rx(node: Node, stack: tuple[str, ...]) -> str:
        if isinstance(node, Lit):
            return re.escape(node.text)
        if isinstance(node, Rx):
            return f"(?:{node.pattern})"
        if isinstance(node, Ref):
            if node.name in stack:
                raise BackendError(f"rule {node.name!r} recurses: no regex for it")
            if node.name not in rules:
                raise BackendError(f"the draft grammar names an undefined rule {node.name!r}")
            return f"(?:{rx(rules[node.name], (*stack, node.name))})"
        if isinstance(node, Seq):
            return "".join(rx(n, stack) for n in node.items)
        if isinstance(node, Alt):
            return "(?:" + "|".join(rx(n, stack) for n in node.options) + ")"
        hi = "" if node.hi is None else str(node.hi)
        return f"(?:{rx(node.node, stack)}){{{node.lo},{hi}}}"

    return rx(Ref(start), ())


def _reachable(rules: dict[str, Node], start: str) -> list[str]:
    seen: list[str] = []

    def walk(node: Node) -> None:
        if isinstance(node, Ref):
            if node.name not in rules:
                raise BackendError(f"the draft grammar names an undefined rule {node.name!r}")
            if node.name not in seen:
                seen.append(node.name)
                walk(rules[node.name])
        elif isinstance(node, Seq):
            for n in node.items:
                walk(n)
        elif isinstance(node, Alt):
            for n in node.options:
                walk(n)
        elif isinstance(node, Rep):
            walk(node.node)

    walk(Ref(start))
    return seen


# ----------------------------------------------------------------------- one draft


_STOP = frozenset(
    "a an the and or of in on at to with by for from into onto over under near next beside behind above below "
    "left right top bottom middle center centre front back is are be it its this that there here some any each "
    "one two three four five six seven eight nine ten eleven twelve dozen several many few photo picture image "
    "drawing painting scene show make draw me please of while second seconds minute minutes video film movie clip "
    "frame frames shot shots say read speak voice".split()
)


def request_names(request: str, vocabulary: set[str] = frozenset()) -> list[str]:  # type: ignore[assignment]
    """Words of the request that can name an element: not function words, numbers or attribute words;
    a plural also gives its singular (``cups`` -> ``cup``, ``boxes`` -> ``box``)."""
    out: list[str] = []
    for w in re.findall(r"[a-z][a-z-]*", request.lower()):
        if w in _STOP or w in vocabulary or len(w) < 2 or w.startswith("x"):
            continue
        forms = [w]
        if w.endswith("ies") and len(w) > 4:
            forms.append(w[:-3] + "y")
        elif w.endswith("es") and len(w) > 3 and w[-3] in "sxz" or w.endswith(("ches", "shes")):
            forms.append(w[:-2])
        elif w.endswith("s") and not w.endswith("ss") and len(w) > 3:
            forms.append(w[:-1])
        for f in forms:
            if f not in out and f not in vocabulary:
                out.append(f)
    return out


def _literals(node: Node) -> set[str]:
    if isinstance(node, Lit):
        return {node.text}
    if isinstance(node, (Seq, Alt)):
        return set().union(*(_literals(n) for n in (node.items if isinstance(node, Seq) else node.options)))
    if isinstance(node, Rep):
        return _literals(node.node)
    return set()


@dataclass(frozen=True)
class DraftGrammar:
    """What a server is sent after the model writes ``<tag``: GBNF, and a regex to check the reply."""

    tag: str
    draft_id: str
    gbnf: str
    regex: str
    names: tuple[str, ...] = ()
    """The request's words the ``name`` rule was narrowed to (empty: names are free)."""
    required: tuple[str, ...] = ()
    """Lines the body must start with (the critic's, for a revision after a repeat: see :func:`draft_grammar`)."""

    def holds(self, text: str) -> bool:
        """True when ``text`` (what followed ``<tag``, closing tag included) is in the grammar."""
        return re.fullmatch(self.regex, text) is not None


def draft_grammar(
    lark: str,
    tag: str,
    draft_id: str,
    request: str = "",
    names: str = "request",
    understood: list[str] | None = None,
    required: list[str] | tuple[str, ...] = (),
    objects: list[str] | tuple[str, ...] = (),
    exclude: set[str] | frozenset[str] = frozenset(),
) -> DraftGrammar:
    """The grammar for one draft after ``<tag``: `` id="<draft_id>"``, the tag's ``<tag>_attrs`` rule if the
    grammar has one, ``>``, then the tag's body rule. ``names="request"`` narrows a ``name`` rule to the
    objects the request's understanding found (``understood``), else to the request's words (free when it
    gives none); ``"free"`` leaves it as written. With ``"request"``, ``objects`` (the understood things,
    compounds such as "launch pad" whole) come first and ``exclude`` (words the understanding read as a
    place, a time, the weather or a modifier: "sea", "dark", "round") are not names: written as elements
    they would be drawn as labelled stand-ins. ``required``: lines the body starts with (those the grammar
    holds), the other lines free but not naming the same elements again."""
    rules = parse_lark(lark)
    if tag not in rules:
        raise BackendError(f"the modality's grammar has no rule for <{tag}>")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", draft_id):
        raise BackendError(f"draft id {draft_id!r} is not a plain id")
    chosen: list[str] = []
    if names == "request" and "name" in rules:
        vocab = {w for n in rules.values() for lit in _literals(n) for w in lit.split()}
        chosen = [n for n in dict.fromkeys(understood or []) if re.fullmatch(r"[a-z][a-z -]*", n)]
        if not chosen:
            things = [n for n in objects if re.fullmatch(r"[a-z][a-z -]*", n)]
            words = [w for w in request_names(request, vocab) if w not in exclude or w in things]
            chosen = list(dict.fromkeys([*things, *words]))
        if chosen:
            rules["name"] = Alt(tuple(Lit(w) for w in chosen)) if len(chosen) > 1 else Lit(chosen[0])
    kept = require_lines(rules, tag, list(required)) if required else []
    head: list[Node] = [Lit(f' id="{draft_id}"')]
    if f"{tag}_attrs" in rules:
        head.append(Ref(f"{tag}_attrs"))
    head += [Lit(">"), Ref(tag)]
    rules["draft_step"] = Seq(tuple(head))
    return DraftGrammar(
        tag, draft_id, to_gbnf(rules, "draft_step"), to_regex(rules, "draft_step"), tuple(chosen), tuple(kept)
    )


def require_lines(rules: dict[str, Node], tag: str, lines: list[str]) -> list[str]:
    """Start the tag's body with ``lines`` (each one the body's own line rule holds); returns those kept.

    The body rule must repeat a line rule (``sketch: "\n" line{1,8} "</sketch>"``). Where lines are
    elements (``name ...: ...``) with a closed set of names, the free lines after them take the other names
    only, so a required ``kite: yellow`` is not followed by the rejected ``kite: red`` as a second kite.
    """
    body = rules[tag]
    if not isinstance(body, Seq):
        return []
    at = next((i for i, it in enumerate(body.items) if isinstance(it, Rep) and isinstance(it.node, Ref)), None)
    if at is None:
        return []
    rep = body.items[at]
    assert isinstance(rep, Rep) and isinstance(rep.node, Ref)
    line_rx = to_regex(rules, rep.node.name)
    kept = [ln for ln in dict.fromkeys(lines) if re.fullmatch(line_rx, ln + "\n")][: rep.hi or None]
    if not kept:
        return []
    free: Node = rep.node
    element, name = rules.get("element"), rules.get("name")
    taken = {re.split(r" x\d|:", ln, maxsplit=1)[0].strip() for ln in kept}
    options = name.options if isinstance(name, Alt) else (name,) if isinstance(name, Lit) else ()
    rest = [o for o in options if isinstance(o, Lit) and o.text not in taken]
    if isinstance(element, Seq) and element.items[:1] == (Ref("name"),) and rest and len(rest) < len(options):
        rules["free_name"] = Alt(tuple(rest)) if len(rest) > 1 else rest[0]
        rules["free_element"] = Seq((Ref("free_name"), *element.items[1:]))
        rules["free_line"] = _swap(rules[rep.node.name], Ref("element"), Ref("free_element"))
        free = Ref("free_line")
    lo, hi = max(0, rep.lo - len(kept)), None if rep.hi is None else rep.hi - len(kept)
    tail: list[Node] = [Rep(free, lo, hi)] if hi is None or hi > 0 else []
    rules[tag] = Seq((*body.items[:at], *(Lit(ln + "\n") for ln in kept), *tail, *body.items[at + 1 :]))
    return kept


def _swap(node: Node, old: Node, new: Node) -> Node:
    if node == old:
        return new
    if isinstance(node, Seq):
        return Seq(tuple(_swap(n, old, new) for n in node.items))
    if isinstance(node, Alt):
        return Alt(tuple(_swap(n, old, new) for n in node.options))
    if isinstance(node, Rep):
        return Rep(_swap(node.node, old, new), node.lo, node.hi)
    return node


def next_id(tag: str, transcript: str, reference: str) -> str:
    """The id a new ``<tag>`` gets: the highest number used so far plus one, with the letter the
    transcript (or else the guide's tag reference) uses for that tag (``s`` for ``<sketch id="s1">``)."""
    pat = re.compile(rf'<{re.escape(tag)}\b[^<>]*?\bid="([A-Za-z]*)(\d+)"')
    used = pat.findall(transcript)
    letter = used[-1][0] if used else ((m := pat.search(reference)) and m.group(1)) or tag[0]
    n = max((int(num) for _, num in used), default=0) + 1
    return f"{letter}{n}"
