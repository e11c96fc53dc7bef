#!/usr/bin/env bash
# Retrieval quality over SolrCloud: ../shared/eval/eval.py drives
# `egovkb serve --solr` after `egovkb solr upload` and `solr sync` of the
# dataset's passages into a collection of its own (2 shards). Needs a
# release build and a running cluster, such as the test cluster:
#   (cd tests/solrcloud && mvn -q -B package &&
#    java -cp 'target/classes:target/lib/*' egovkb.Cluster 3)
# Usage: eval/solr.sh DATASET SOLR_URL   (DATA_ROOT=DIR for a set elsewhere;
# EGOVKB_NO_MODEL=0 with the model installed: passages synced with their
# vectors, and the default hybrid search)
set -euo pipefail
DS=$1
SOLR=$2
PORT=${PORT:-18181}
HERE=$(cd "$(dirname "$0")/.." && pwd)
EVAL=${EVAL:-$HERE/../shared/eval}
COLL=$(echo "$DS" | tr '/,' '--')
B=$HERE/target/release/egovkb
export EGOVKB_NO_MODEL=${EGOVKB_NO_MODEL:-1}
python3 "$EVAL/eval.py" ${DATA_ROOT:+--data-root "$DATA_ROOT"} --dataset "$DS" --engine http \
  --index-cmd "python3 $EVAL/to_documents.py {passages} {workdir}/docs.jsonl && $B --corpus {index_dir}/c import {workdir}/docs.jsonl >/dev/null && $B --corpus {index_dir}/c solr upload $SOLR --collection $COLL --shards 2 --replicas 1 >/dev/null && $B --corpus {index_dir}/c solr sync $SOLR --collection $COLL" \
  --server-cmd "$B --corpus {index_dir}/c serve --addr 127.0.0.1:$PORT --solr $SOLR --collection $COLL" \
  --ready-url "http://127.0.0.1:$PORT/healthz" \
  --url "http://127.0.0.1:$PORT/api/search?q={query}&limit={k}"
