#!/usr/bin/env python3
"""Record the responses of a running `egovkb serve` to a fixed set of
searches, or compare two recordings: a refactoring must not change them.

    python3 eval/responses.py record http://127.0.0.1:8080 before.jsonl
    python3 eval/responses.py record http://127.0.0.1:8080 after.jsonl
    python3 eval/responses.py compare before.jsonl after.jsonl

The searches are the load benchmark's queries (plain, second page, with
filters of every facet, by date, labels in each interface language) and, with --eval DIR (the open benchmark, ../shared/eval),
the first questions of each of its sets; each in the modes given with
--modes (default: the server's default only). Each response is kept
whole but for `took_ms`, the one field that differs by run.
"""

import argparse
import json
import sys
import urllib.error
import urllib.parse
import urllib.request

# The load benchmark's queries (benches/support/corpus.rs).
LOAD_QUERIES = [
    "resident registration",
    "e-procurement Paraguay",
    "cyber security",
    "registro civil",
    "compras públicas",
    "firma electrónica",
    "주민등록 제도",
    "전자조달 시스템",
    "사이버보안 체계",
    "open data",
    "datos abiertos",
    "기록관리 국가기록원",
]

SETS = ["korquad1-dev", "xquad-en", "xquad-es-hard", "mixed-ko-es-en",
        "clir/es2en", "clir/en2es-hard"]


def searches(eval_dir, per_set, modes):
    """Every search as a list of (name, value) parameters."""
    base = []
    for i, q in enumerate(LOAD_QUERIES):
        base.append([("q", q)])
        base.append([("q", q), ("offset", "10")])
        if i % 2 == 0:
            base.append([("q", q), ("lang", "en"), ("lang", "es"),
                         ("year", "2017..2022")])
        else:
            base.append([("q", q), ("type", "notice"), ("country", "PY")])
        base.append([("q", q), ("sort", "date")])
        base.append([("q", q), ("topic", "e-procurement"),
                     ("ui_lang", ["es", "ko"][i % 2])])
    base.append([])
    base.append([("year", "2019"), ("ui_lang", "ko")])
    base.append([("event", "2018-06-advanced-egov-course")])
    base.append([("q", '"registro civil" -Paraguay')])
    if eval_dir:
        for s in SETS:
            with open(f"{eval_dir}/{s}/queries.jsonl", encoding="utf-8") as f:
                for line in list(f)[:per_set]:
                    base.append([("q", json.loads(line)["query"])])
    out = []
    for params in base:
        for mode in modes:
            out.append(params + ([("mode", mode)] if mode else []))
    return out


def record(url, path, eval_dir, per_set, modes):
    with open(path, "w", encoding="utf-8") as out:
        for params in searches(eval_dir, per_set, modes):
            query = urllib.parse.urlencode(params)
            try:
                with urllib.request.urlopen(f"{url}/api/search?{query}") as r:
                    body = json.load(r)
            except urllib.error.HTTPError as e:
                body = {"status": e.code, "error": e.read().decode()}
            body.pop("took_ms", None)
            out.write(json.dumps({"search": query, "response": body},
                                 ensure_ascii=False, sort_keys=True) + "\n")


def compare(a, b):
    with open(a, encoding="utf-8") as fa, open(b, encoding="utf-8") as fb:
        left, right = fa.readlines(), fb.readlines()
    if len(left) != len(right):
        print(f"{a}: {len(left)} searches, {b}: {len(right)}")
        return 1
    differ = [json.loads(x)["search"] for x, y in zip(left, right) if x != y]
    for s in differ[:20]:
        print(f"differs: {urllib.parse.unquote_plus(s)}")
    print(f"{len(left) - len(differ)} of {len(left)} responses identical")
    return 1 if differ else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("record")
    r.add_argument("url")
    r.add_argument("out")
    r.add_argument("--eval", help="the open benchmark's directory")
    r.add_argument("--per-set", type=int, default=50)
    r.add_argument("--modes", default="",
                   help="comma-separated: hybrid,lexical,semantic")
    c = sub.add_parser("compare")
    c.add_argument("a")
    c.add_argument("b")
    args = p.parse_args()
    if args.command == "record":
        modes = [m for m in args.modes.split(",") if m] or [None]
        record(args.url.rstrip("/"), args.out, args.eval, args.per_set, modes)
        return 0
    return compare(args.a, args.b)


if __name__ == "__main__":
    sys.exit(main())
