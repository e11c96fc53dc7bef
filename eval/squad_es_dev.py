#!/usr/bin/env python3
"""Build a development set for tuning ranking without touching the benchmark's answers.

xquad-es-hard (../shared/eval) is the 1,184 XQuAD-es questions over their 240 paragraphs
plus 1,766 distractor paragraphs from SQuAD-es v1.1 dev "small". Those distractors come with
questions of their own in the SQuAD-es source file, which the benchmark never uses. This
script writes them as a dataset in eval.py's format:

  * passages.jsonl: exactly xquad-es-hard's 2,006 passages (the same collection);
  * queries.jsonl: every SQuAD-es question of a distractor paragraph, relevant to that
    paragraph alone (ids "squad-es-dev-<article#>-<paragraph#>", as the benchmark's
    build script numbers them).

No question, answer or judgment of any benchmark set is in it: a question is kept only when
its paragraph is one of the distractors, i.e. neither an XQuAD paragraph nor a translation
of one. The questions are machine translated (as the distractors are), so absolute scores
are not comparable with xquad-es-hard's; only differences between ranking variants are.

Usage: squad_es_dev.py SHARED_EVAL_DIR OUT_DIR   (OUT_DIR/squad-es-dev/ is written)
"""
import json
import os
import sys


def main():
    shared, out = sys.argv[1:3]
    hard = os.path.join(shared, "xquad-es-hard")
    with open(os.path.join(hard, "passages.jsonl"), encoding="utf-8") as f:
        passages = [json.loads(line) for line in f if line.strip()]
    distractors = {p["id"] for p in passages if p["id"].startswith("squad-es-dev-")}
    with open(os.path.join(hard, "queries.jsonl"), encoding="utf-8") as f:
        benchmark_qids = {json.loads(line)["qid"] for line in f if line.strip()}
    with open(os.path.join(hard, "source", "dev-v1.1-es_small.json"), encoding="utf-8") as f:
        data = json.load(f)["data"]
    queries = []
    for ai, article in enumerate(data):
        for pi, para in enumerate(article["paragraphs"]):
            pid = f"squad-es-dev-{ai:04d}-{pi:03d}"
            if pid not in distractors:
                continue
            for qa in para["qas"]:
                if qa["id"] in benchmark_qids:
                    raise SystemExit(f"question {qa['id']} is a benchmark question")
                question = qa["question"].strip()
                if not question:
                    continue
                queries.append({"qid": f"dev-{qa['id']}", "lang": "es", "query": question,
                                "relevant": [pid],
                                "answers": sorted({a["text"] for a in qa["answers"]})})
    dest = os.path.join(out, "squad-es-dev")
    os.makedirs(dest, exist_ok=True)
    with open(os.path.join(dest, "passages.jsonl"), "w", encoding="utf-8") as f:
        for p in passages:
            f.write(json.dumps(p, ensure_ascii=False) + "\n")
    with open(os.path.join(dest, "queries.jsonl"), "w", encoding="utf-8") as f:
        for q in queries:
            f.write(json.dumps(q, ensure_ascii=False) + "\n")
    print(json.dumps({"passages": len(passages), "queries": len(queries),
                      "paragraphs_with_questions": len({q["relevant"][0] for q in queries})}))


if __name__ == "__main__":
    main()
