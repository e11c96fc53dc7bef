#!/usr/bin/env python3
"""Build Korean cross-language development sets (and an off-topic news corpus) from FLORES-200.

Source: FLORES-200 dev + devtest (NLLB Team et al. 2022; the same text as FLORES+ 1.0), as kept
in the GitHub repository Helsinki-NLP/OPUS-MT-testsets at commit
5677844c738832a280dc1d59a056a970564bdce3 (2023-05-04, the last commit that still holds the
`dev` split), folder testsets/flores200_dataset/: dev/{kor,spa,eng}.dev,
devtest/{kor,spa,eng}.devtest, metadata_dev.tsv, metadata_devtest.tsv.
Licence: CC BY-SA 4.0 (FLORES-200; the repository's README and LICENSE-CC-BY-SA say so).
Only those FLORES files are read; nothing else of that repository. (That commit predates the
repository's NTREX folder, added 2023-06-13; the newest snapshot has it, and this script never
opens it.)

FLORES-200 is 2,009 sentences from 562 English Wikinews / Wikivoyage / Wikibooks articles
(3 to 5 consecutive sentences of each, a few 2, 6 or 10), professionally translated into
Korean and Spanish, line by line. A "document" is a run of consecutive lines with one URL in
the metadata. A passage is one whole document (documents over 6 sentences are cut into chunks
of at most 5), with an empty title (the only titles are English URL slugs, which would leak
English into the Korean and Spanish passages).

Documents are ordered by sha256(URL). The first 18 % (and any document of one sentence) only
give distractor passages; the rest are query documents, of which every third (positions
2, 5, 8, ... of that order) is held out and the others are for development. A query is one
sentence; its relevant passages are the passages that hold its translation.

Written under OUT_ROOT:
  ko-clir-ko2x/        Korean sentence queries (2 per development document); passages: every document
                       in English and in Spanish; relevant = [the English passage, the
                       Spanish passage] that translate the query
  ko-clir-ko2x-held/   the same passages; queries of the held-out documents only
  ko-clir-x2ko/        English and Spanish sentence queries (per dev document one English and
                       one Spanish, two other sentences than ko2x's where the document has
                       4 or more); passages: every document in Korean; relevant = [its Korean
                       passage]
  ko-clir-x2ko-held/   the same passages; queries of the held-out documents only
  offtopic-news/       passages.jsonl only: every document in Korean, Spanish and English
                       except those that mention government procedures (visas, passports,
                       taxes, permits, licences, ministries, government, registration, ...),
                       a corpus where e-government questions should find nothing
Each folder gets passages.jsonl / queries.jsonl in ../shared/eval's format and a README.md.
Never load a ko2x folder and an x2ko folder (or offtopic-news) into one index: they are
translations of each other. In passage ids and qids, "dev" / "devtest" and the number are
FLORES's own split and document number, unrelated to the development / held-out split here.

Usage (stdlib only; SOURCE is a git directory of that repository, bare or not, or an extracted
flores200_dataset folder with dev/, devtest/ and the metadata files, as in the upstream
tarball, where the files may also be named kor_Hang.dev etc.):

  python3 eval/korean_clir_dev.py /work/.mirror/Helsinki-NLP+OPUS-MT-testsets/repo target/eval-dev

  options: --commit HASH (git SOURCE only; default the commit above)
"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys

DEFAULT_COMMIT = "5677844c738832a280dc1d59a056a970564bdce3"
GIT_FOLDER = "testsets/flores200_dataset"
SPLITS = (("dev", 997), ("devtest", 1012))
LANGS = {"ko": ("kor", "kor_Hang"), "es": ("spa", "spa_Latn"), "en": ("eng", "eng_Latn")}
DISTRACTOR_SHARE = 0.18
MAX_WHOLE = 6   # a document of more sentences is cut into chunks
CHUNK = 5
MIN_QUERY_CHARS = 30   # English length under which a sentence is picked only when nothing else is left
GOV = re.compile(
    r"\b(visas?|passports?|tax\w*|permits?|licen[cs]\w*|ministr\w*|government\w*|"
    r"registration|register\w*|authorit\w*|bureaucra\w*|paperwork|certificates?|"
    r"census|customs|immigration|embass\w*|consulat\w*|regulations?|e-government|"
    r"public services?|social security|pensions?|legali[sz]ed)\b", re.I)


class Source:
    """Reads the FLORES files from a git directory (at a commit) or from a plain folder."""

    def __init__(self, path, commit):
        self.path, self.commit = path, commit
        self.git = None
        if os.path.isdir(os.path.join(path, ".git")):
            self.git = os.path.join(path, ".git")
        elif os.path.isfile(os.path.join(path, "HEAD")) and os.path.isdir(os.path.join(path, "objects")):
            self.git = path
        self.folder = None
        if self.git is None:
            for cand in (path, os.path.join(path, "flores200_dataset"), os.path.join(path, GIT_FOLDER)):
                if os.path.isfile(os.path.join(cand, "metadata_dev.tsv")):
                    self.folder = cand
                    break
            if self.folder is None:
                sys.exit(f"{path}: neither a git directory nor a folder with metadata_dev.tsv")
        self.sha256 = {}

    def read(self, rel_candidates):
        for rel in rel_candidates:
            if self.git:
                r = subprocess.run(["git", "--git-dir", self.git, "show", f"{self.commit}:{GIT_FOLDER}/{rel}"],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
                if r.returncode != 0:
                    continue
                data = r.stdout
                shown = f"{GIT_FOLDER}/{rel}@{self.commit[:12]}"
            else:
                p = os.path.join(self.folder, rel)
                if not os.path.isfile(p):
                    continue
                with open(p, "rb") as f:
                    data = f.read()
                shown = rel
            self.sha256[shown] = hashlib.sha256(data).hexdigest()
            return data.decode("utf-8").split("\n")
        sys.exit(f"none of {rel_candidates} found in {self.path}")


def load(src):
    """Documents: dicts with split, url, domain, topic and per-language sentence lists."""
    docs = []
    for split, expected in SPLITS:
        meta = [l for l in src.read([f"metadata_{split}.tsv"]) if l.strip()]
        header, meta = meta[0].split("\t"), [l.split("\t") for l in meta[1:]]
        assert header[:3] == ["URL", "domain", "topic"], header
        text = {}
        for lang, names in LANGS.items():
            lines = src.read([f"{split}/{n}.{split}" for n in names])
            if lines and lines[-1] == "":
                lines.pop()
            text[lang] = [l.strip() for l in lines]
        for lang in LANGS:
            if len(text[lang]) != expected or len(meta) != expected:
                sys.exit(f"{split}: expected {expected} lines, got {len(text[lang])} ({lang}) "
                         f"and {len(meta)} metadata rows")
        start = 0
        for i in range(1, expected + 1):
            if i == expected or meta[i][0] != meta[start][0]:
                docs.append({"split": split, "num": sum(d["split"] == split for d in docs),
                             "url": meta[start][0], "domain": meta[start][1], "topic": meta[start][2],
                             "sent": {lang: text[lang][start:i] for lang in LANGS}})
                start = i
    urls = [d["url"] for d in docs]
    assert len(set(urls)) == len(urls), "a URL in two places"
    return docs


def chunks(n):
    """Sentence index ranges of a document's passages."""
    if n <= MAX_WHOLE:
        return [(0, n)]
    k = -(-n // CHUNK)
    size = -(-n // k)
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def pid(d, lang, c, nchunks, prefix="flores200"):
    base = f"{prefix}-{d['split']}-{d['num']:03d}"
    if nchunks > 1:
        base += f"-p{c}"
    return f"{base}-{lang}"


def passages_of(d, lang, prefix="flores200"):
    out = []
    rng = chunks(len(d["sent"][lang]))
    for c, (a, b) in enumerate(rng):
        out.append({"id": pid(d, lang, c, len(rng), prefix), "lang": lang, "title": "",
                    "text": " ".join(d["sent"][lang][a:b])})
    return out


def passage_for(d, lang, s):
    rng = chunks(len(d["sent"][lang]))
    for c, (a, b) in enumerate(rng):
        if a <= s < b:
            return pid(d, lang, c, len(rng))
    raise ValueError(s)


def h(s):
    return hashlib.sha256(s.encode("utf-8")).hexdigest()


def sentence_order(d):
    """A fixed pseudo-random order of a document's sentences, too-short ones last."""
    n = len(d["sent"]["en"])
    idx = sorted(range(n), key=lambda i: h(f"{d['url']}#{i}"))
    return sorted(idx, key=lambda i: len(d["sent"]["en"][i]) < MIN_QUERY_CHARS)


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def readme(path, name, what, passages, queries, src, command, extra=""):
    langs = {}
    for p in passages:
        langs[p["lang"]] = langs.get(p["lang"], 0) + 1
    qlangs = {}
    for q in queries:
        qlangs[q["lang"]] = qlangs.get(q["lang"], 0) + 1
    judged = {r for q in queries for r in q["relevant"]}
    lines = [f"# {name}", "", what, "",
             f"* passages: {len(passages)} ({', '.join(f'{k} {v}' for k, v in sorted(langs.items()))})"
             + (f", {len(passages) - len(judged)} relevant to no query here" if queries else ""),
             ]
    if queries:
        lines.append(f"* queries: {len(queries)} ({', '.join(f'{k} {v}' for k, v in sorted(qlangs.items()))})")
    lines += ["",
              "Source: FLORES-200 dev + devtest (NLLB Team et al., 2022), CC BY-SA 4.0, as kept in the GitHub",
              f"repository Helsinki-NLP/OPUS-MT-testsets ({GIT_FOLDER}/"
              + (f" at commit {src.commit})." if src.git else ")."),
              "Input files (sha256):", ""]
    lines += [f"* `{k}` {v}" for k, v in sorted(src.sha256.items())]
    lines += ["", "Built by `eval/korean_clir_dev.py` (egovkb repository):", "", "```sh", command, "```", ""]
    if extra:
        lines += [extra, ""]
    with open(os.path.join(path, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("source")
    ap.add_argument("out_root")
    ap.add_argument("--commit", default=DEFAULT_COMMIT)
    args = ap.parse_args()
    src = Source(args.source, args.commit)
    docs = load(src)
    command = "python3 eval/korean_clir_dev.py " + " ".join(
        [args.source, args.out_root] + (["--commit", args.commit] if args.commit != DEFAULT_COMMIT else []))

    order = sorted(docs, key=lambda d: h(d["url"]))
    n_distract = round(DISTRACTOR_SHARE * len(order))
    role = {}
    pos = 0
    for i, d in enumerate(order):
        if i < n_distract or len(d["sent"]["en"]) < 2:
            role[d["url"]] = "distractor"
        else:
            role[d["url"]] = "held" if pos % 3 == 2 else "dev"
            pos += 1

    # passages (the same pools for the dev and the held-out folders)
    pool_x = [p for d in docs for lang in ("en", "es") for p in passages_of(d, lang)]
    pool_ko = [p for d in docs for p in passages_of(d, "ko")]

    q = {("ko2x", "dev"): [], ("ko2x", "held"): [], ("x2ko", "dev"): [], ("x2ko", "held"): []}
    qpos = 0
    for d in order:
        part = role[d["url"]]
        if part == "distractor":
            continue
        sents = sentence_order(d)
        n = len(sents)
        base = f"flores200-{d['split']}-{d['num']:03d}"
        for s in sents[:2]:
            q[("ko2x", part)].append({
                "qid": f"ko2x-{base}-s{s}", "lang": "ko", "query": d["sent"]["ko"][s],
                "relevant": [passage_for(d, "en", s), passage_for(d, "es", s)],
                "answers": [d["sent"]["en"][s], d["sent"]["es"][s]]})
        picks = [sents[2 % n], sents[3 % n]]   # distinct for n >= 2; ko2x's own two when n == 2
        langs = ("en", "es") if qpos % 2 == 0 else ("es", "en")
        qpos += 1
        for s, lang in zip(picks, langs):
            q[("x2ko", part)].append({
                "qid": f"x2ko-{base}-s{s}-{lang}", "lang": lang, "query": d["sent"][lang][s],
                "relevant": [passage_for(d, "ko", s)], "answers": [d["sent"]["ko"][s]]})

    os.makedirs(args.out_root, exist_ok=True)
    n_doc = {r: sum(1 for v in role.values() if v == r) for r in ("dev", "held", "distractor")}
    split_note = (f"Documents: {len(docs)} ({n_doc['dev']} development, {n_doc['held']} held out, "
                  f"{n_doc['distractor']} distractors only), split by sha256 of the article URL; "
                  "a document's passages never serve queries on both sides of the split.")
    desc = {
        "ko2x": "Korean sentence queries; passages in English and Spanish; each query's relevant passages "
                "are the English and the Spanish passage that hold its translation.",
        "x2ko": "English and Spanish sentence queries (half each); Korean passages; each query's relevant "
                "passage is the Korean passage that holds its translation.",
    }
    summary = []
    for kind, pool in (("ko2x", pool_x), ("x2ko", pool_ko)):
        for part in ("dev", "held"):
            name = f"ko-clir-{kind}" + ("-held" if part == "held" else "")
            out = os.path.join(args.out_root, name)
            os.makedirs(out, exist_ok=True)
            write_jsonl(os.path.join(out, "passages.jsonl"), pool)
            qs = sorted(q[(kind, part)], key=lambda r: r["qid"])
            write_jsonl(os.path.join(out, "queries.jsonl"), qs)
            what = desc[kind] + (" Held-out part: tune nothing on it." if part == "held" else
                                 " Development part.") + " " + split_note
            readme(out, name, what, pool, qs, src, command,
                   "Passage ids are shared with the other folder of this kind; do not load a ko2x and an "
                   "x2ko folder into one index (they are translations of each other). In ids, \"dev\" / "
                   "\"devtest\" and the number are FLORES's own split and document number, unrelated to "
                   "the development / held-out split here. `answers` holds the query's translation(s) "
                   "found in the relevant passage(s).")
            summary.append((name, len(pool), len(qs)))

    off_docs = [d for d in docs if not GOV.search(" ".join(d["sent"]["en"]))]
    off = [p for d in off_docs for lang in ("ko", "es", "en") for p in passages_of(d, lang, "offtopic-flores200")]
    out = os.path.join(args.out_root, "offtopic-news")
    os.makedirs(out, exist_ok=True)
    write_jsonl(os.path.join(out, "passages.jsonl"), off)
    readme(out, "offtopic-news",
           f"A corpus of general news and articles (Wikinews, Wikivoyage, Wikibooks) in Korean, Spanish and "
           f"English, for questions it cannot answer (e.g. e-government questions): {len(off_docs)} of the "
           f"{len(docs)} FLORES-200 documents, each in the three languages, leaving out {len(docs) - len(off_docs)} "
           "whose English text mentions government procedures (visas, passports, taxes, permits, licences, "
           "ministries, government, registration, ...). No queries. The same documents as the ko-clir-* sets.",
           off, [], src, command)
    summary.append(("offtopic-news", len(off), 0))
    for name, np_, nq in summary:
        print(f"{name}: {np_} passages, {nq} queries")


if __name__ == "__main__":
    main()
