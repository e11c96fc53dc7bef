#!/usr/bin/env python3
"""Build Spanish <-> English question -> paragraph development sets from SQuAD v1.1 dev.

clir/es2en and clir/en2es-hard (../shared/eval) ask XQuAD questions of XQuAD paragraphs. The
paragraphs of the same SQuAD dev articles that XQuAD did not take have questions too: in
English in SQuAD v1.1 dev, in Spanish in SQuAD-es v1.1 dev "small" (a translation that keeps
SQuAD's question ids). This script pairs them across the two languages:

  squad-es2en-dev/  Spanish questions; passages: the English paragraphs; relevant = the
                    English paragraph that holds the question's id
  squad-en2es-dev/  English questions; passages: the Spanish paragraphs; relevant = the
                    Spanish paragraph of the question's id

Only articles 0-23 (XQuAD's open half; articles 24-47 are kept for an independent check) and
only questions of paragraphs that are not XQuAD's (their ids are not in any ../shared/eval
queries file), so no benchmark question is in it. Every paragraph of those articles in the
passages' language is a passage (XQuAD's included, as distractors).

Sources: SQuAD v1.1 dev (CC BY-SA 4.0), `dataset/dev-v1.1.json` of the GitHub repository
SaiPriya-R/SQuAD-explorer at 783341f2c8a813f3d24b0088d06c85fcba0cf0c7 (a copy of
rajpurkar/SQuAD-explorer); SQuAD-es (CC BY 4.0) as ../shared/eval/xquad-es-hard/source holds it.

Usage: squad_clir_dev.py SHARED_EVAL_DIR SQUAD_EXPLORER_GIT_DIR OUT_DIR
"""
import json
import os
import subprocess
import sys

ARTICLES = 24
COMMIT = "783341f2c8a813f3d24b0088d06c85fcba0cf0c7"


def benchmark_qids(shared):
    """Every qid of every ../shared/eval set (XQuAD's are SQuAD ids)."""
    out = set()
    for root, _, files in os.walk(shared):
        if "queries.jsonl" in files:
            with open(os.path.join(root, "queries.jsonl"), encoding="utf-8") as f:
                for line in f:
                    if line.strip():
                        qid = json.loads(line)["qid"]
                        out.add(qid)
                        out.add(qid.rsplit("-", 1)[-1])
    return out


def english(git_dir):
    blob = subprocess.run(["git", "--git-dir", git_dir, "show", f"{COMMIT}:dataset/dev-v1.1.json"],
                          check=True, capture_output=True).stdout
    return json.loads(blob)["data"]


def paragraphs(data, lang):
    """[(pid, text, [(qid, question)])] of articles 0..ARTICLES-1."""
    out = []
    for ai, article in enumerate(data[:ARTICLES]):
        for pi, para in enumerate(article["paragraphs"]):
            pid = f"squad-{lang}-{ai:04d}-{pi:03d}"
            out.append((pid, para["context"], [(q["id"], q["question"]) for q in para["qas"]]))
    return out


def write(out_dir, name, passages, lang_p, queries, lang_q):
    folder = os.path.join(out_dir, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "passages.jsonl"), "w", encoding="utf-8") as f:
        for pid, text, _ in passages:
            f.write(json.dumps({"id": pid, "lang": lang_p, "title": "", "text": text},
                               ensure_ascii=False) + "\n")
    with open(os.path.join(folder, "queries.jsonl"), "w", encoding="utf-8") as f:
        for qid, text, pid in queries:
            f.write(json.dumps({"qid": f"{name}-{qid}", "lang": lang_q, "query": text,
                                "relevant": [pid]}, ensure_ascii=False) + "\n")
    print(f"{name}: {len(passages)} passages, {len(queries)} queries")


def main():
    shared, git_dir, out_dir = sys.argv[1:4]
    skip = benchmark_qids(shared)
    with open(os.path.join(shared, "xquad-es-hard", "source", "dev-v1.1-es_small.json"),
              encoding="utf-8") as f:
        es = paragraphs(json.load(f)["data"], "es")
    en = paragraphs(english(git_dir), "en")
    es_home = {qid: pid for pid, _, qas in es for qid, _ in qas}
    en_home = {qid: pid for pid, _, qas in en for qid, _ in qas}
    es2en = [(qid, q, en_home[qid]) for _, _, qas in es for qid, q in qas
             if qid in en_home and qid not in skip]
    en2es = [(qid, q, es_home[qid]) for _, _, qas in en for qid, q in qas
             if qid in es_home and qid not in skip]
    write(out_dir, "squad-es2en-dev", en, "en", es2en, "es")
    write(out_dir, "squad-en2es-dev", es, "es", en2es, "en")


if __name__ == "__main__":
    main()
