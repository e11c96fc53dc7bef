#!/usr/bin/env python3
"""The baseline for `cargo bench --bench pages`: trafilatura's extraction
(title, date, main text) of each saved page of tests/data/pages, as JSONL.

    python3 eval/pages_baseline.py tests/data/pages/expected.jsonl OUT.jsonl

Needs trafilatura (the bench installs the pinned version into
target/pages-baseline/ and puts it on PYTHONPATH). The pages are given as
bytes, as they were saved: trafilatura finds their encoding itself.
"""

import json
import os
import sys
import time

import trafilatura


def main():
    expected, out = sys.argv[1], sys.argv[2]
    root = os.path.dirname(expected)
    started = time.perf_counter()
    with open(expected, encoding="utf-8") as f, open(out, "w", encoding="utf-8") as o:
        for line in f:
            if not line.strip():
                continue
            page = json.loads(line)
            with open(os.path.join(root, page["file"]), "rb") as p:
                raw = p.read()
            doc = trafilatura.bare_extraction(raw, with_metadata=True)
            if doc is not None and not isinstance(doc, dict):
                doc = doc.as_dict()
            doc = doc or {}
            o.write(json.dumps({
                "title": doc.get("title") or "",
                "date": doc.get("date"),
                "body": doc.get("text") or "",
            }, ensure_ascii=False) + "\n")
    print(f"{time.perf_counter() - started:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
