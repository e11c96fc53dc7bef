#!/usr/bin/env bash
# Two builds of egovkb under the same load, alternated, to tell a change's
# effect on throughput from the machine's noise:
#
#   eval/ab_load.sh BEFORE_BINARY AFTER_BINARY [ROUNDS] [WORK]
#
# Each round serves WORK (default target/bench-load-10000, made by
# `EGOVKB_BENCH_DOCS=10000 cargo bench --bench load`) with each binary in
# turn on 127.0.0.1:18500 and runs Debian's `wrk` (2 threads, 64
# connections, 3 s of warm-up then 10 s) over the load bench's 36 searches,
# with `mode=lexical`, then `mode=hybrid`. Prints requests/s, p99 and
# non-2xx answers per run.
set -euo pipefail
before=$1 after=$2 rounds=${3:-3} work=${4:-target/bench-load-10000}
scripts=$(mktemp -d)
trap 'rm -rf "$scripts"' EXIT
python3 - "$scripts" <<'PY'
import sys, urllib.parse
# The load bench's queries (benches/support/corpus.rs).
QUERIES = ["resident registration", "e-procurement Paraguay", "cyber security",
           "registro civil", "compras públicas", "firma electrónica",
           "주민등록 제도", "전자조달 시스템", "사이버보안 체계", "open data",
           "datos abiertos", "기록관리 국가기록원"]
for mode in ["lexical", "hybrid"]:
    paths = []
    for i, q in enumerate(QUERIES):
        q, m = urllib.parse.quote(q), f"&mode={mode}"
        paths.append(f"/api/search?q={q}{m}")
        paths.append(f"/api/search?q={q}&offset=10{m}")
        paths.append(f"/api/search?q={q}&lang=en&lang=es&year=2017..2022{m}" if i % 2 == 0
                     else f"/api/search?q={q}&type=notice&country=PY{m}")
    body = "\n".join(f'  "{p}",' for p in paths)
    with open(f"{sys.argv[1]}/{mode}.lua", "w", encoding="utf-8") as f:
        f.write("local paths = {\n" + body + "\n}\nlocal i = 0\n"
                "request = function()\n  i = i + 1\n"
                "  return wrk.format(\"GET\", paths[(i % #paths) + 1])\nend\n")
PY
url=http://127.0.0.1:18500
for round in $(seq 1 "$rounds"); do
  for side in before after; do
    bin=$before; [ "$side" = after ] && bin=$after
    "$bin" --corpus "$work/corpus" --index "$work/index" serve --addr 127.0.0.1:18500 >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 1 200); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.5; done
    for mode in lexical hybrid; do
      wrk -t2 -c64 -d3s -s "$scripts/$mode.lua" "$url" >/dev/null
      out=$(wrk -t2 -c64 -d10s --latency -s "$scripts/$mode.lua" "$url")
      rps=$(awk '/Requests\/sec/{print $2}' <<<"$out")
      p99=$(awk '$1=="99%"{print $2}' <<<"$out")
      non2xx=$(awk '/Non-2xx/{print $NF}' <<<"$out")
      echo "round $round $side $mode: $rps requests/s, p99 $p99, non-2xx ${non2xx:-0}"
    done
    kill "$pid"; wait "$pid" 2>/dev/null || true
  done
done
