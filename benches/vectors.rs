//! Search by meaning over a real index's passage vectors: the HNSW graph
//! `egovkb index` builds (the passages it proposes compared exactly, the
//! documents returned given their best passage exactly) against comparing
//! every passage exactly. For questions of the open benchmark: the time of
//! one search (one core) each way, and how many of the exact 10 and 100
//! nearest documents the graph returns. Then the exact scan and the graph
//! alone at 20,000, 50,000 and 200,000 passages of synthetic values (clustered
//! around a few hundred centres, as embeddings are): build time, search
//! time, and recall of the 10 nearest. Prints Markdown.
//!
//! Run: `EGOVKB_BENCH_INDEX=DIR cargo bench --bench vectors`, DIR an index
//! directory built with the model (`egovkb index`), such as the load
//! bench's `target/bench-load-<docs>/index`. Needs the model. The graph is
//! built aside (as `egovkb index` builds it from 60,000 passages).

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use egovkb::index::IndexDir;
use egovkb::progress::Quiet;
use egovkb::semantic::graph::{self, Graph};
use egovkb::semantic::search::{SemanticHit, VectorIndex};
use egovkb::semantic::{Kind, Model, install, vectors};

#[path = "support/eval.rs"]
mod eval;

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let dir = PathBuf::from(
        std::env::var("EGOVKB_BENCH_INDEX").expect("EGOVKB_BENCH_INDEX: an index directory"),
    );
    let index_dir = IndexDir::new(&dir);
    let generation =
        index_dir.path_of(&index_dir.current().expect("an index generation in service"));
    let index = tantivy::Index::open_in_dir(&generation).expect("opening the index");
    let searcher = index.reader().expect("a reader").searcher();
    let (header, docs) = vectors::read(&generation.join(vectors::FILE_NAME))
        .expect("reading the vectors")
        .expect("a generation with vectors: index with the model installed");
    let rows: Vec<&[i8]> = docs
        .iter()
        .flat_map(|d| d.passages.iter().map(|(_, v)| v.values.as_slice()))
        .collect();
    let scratch = tempfile::tempdir().expect("temporary directory");
    let graph_file = scratch.path().join(graph::FILE_NAME);
    let t = Instant::now();
    graph::build(&graph_file, header.dim, &rows, &Quiet).expect("building the graph");
    let built = t.elapsed().as_secs_f64();
    let open = || {
        VectorIndex::open(&generation, &searcher)
            .expect("reading the vectors")
            .expect("vectors")
    };
    let exact = open().without_graph();
    let walked = open()
        .with_graph(&graph_file, &graph::rows_digest(rows.iter().copied()))
        .map_err(|e| e.1)
        .expect("reading the graph");
    assert!(walked.has_graph());
    let root = install::default_model_root();
    let file = install::installed_model_file(&root).expect("run `egovkb model install` first");
    let model = Model::load(&file).expect("loading the model");

    let mut queries = Vec::new();
    for set in ["xquad-en", "xquad-es", "korquad1-dev", "clir/en2es-hard"] {
        queries.extend(eval::texts(set, "queries.jsonl", "query", 100));
    }
    let all = |_| true;
    let vectors: Vec<_> = queries
        .iter()
        .map(|q| {
            exact
                .prepare(&model.embed(q, Kind::Query))
                .expect("dimension")
        })
        .collect();
    let mut t_exact = Vec::new();
    let mut wanted = Vec::new();
    for v in &vectors {
        let t = Instant::now();
        wanted.push(exact.nearest(v, &all, &all, 100).all);
        t_exact.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let set = |hits: &[SemanticHit], n: usize| {
        hits.iter().take(n).map(|h| h.addr).collect::<HashSet<_>>()
    };
    let n = queries.len();
    println!(
        "{} passages, {n} questions, the 100 nearest documents of each (one core); graph built in {built:.1} s on every core, {:.1} MB in memory\n",
        exact.len(),
        walked.graph_memory() as f64 / 1e6,
    );
    println!("| search | median ms | of the exact 10 | of the exact 100 |");
    println!("|---|---|---|---|");
    println!(
        "| every passage compared exactly | {:.2} | 100 % | 100 % |",
        median(&mut t_exact)
    );
    let (mut times, mut at10, mut at100) = (Vec::new(), 0, 0);
    for (v, want) in vectors.iter().zip(&wanted) {
        let t = Instant::now();
        let got = walked.nearest(v, &all, &all, 100).all;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        at10 += set(want, 10).intersection(&set(&got, 10)).count();
        at100 += set(want, 100).intersection(&set(&got, 100)).count();
    }
    println!(
        "| the graph | {:.2} | {:.1} % | {:.1} % |",
        median(&mut times),
        at10 as f64 * 100.0 / (n * 10) as f64,
        at100 as f64 * 100.0 / (n * 100) as f64,
    );
    synthetic();
}

/// A small deterministic generator of values in -0.5..0.5.
fn noise(seed: &mut u64) -> f32 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    ((*seed >> 33) as f32 / (1u64 << 31) as f32) - 0.5
}

fn unit(v: Vec<f32>) -> Vec<f32> {
    let n = v
        .iter()
        .map(|x| x * x)
        .sum::<f32>()
        .sqrt()
        .max(f32::MIN_POSITIVE);
    v.into_iter().map(|x| x / n).collect()
}

/// The exact scan and the graph on synthetic passages.
fn synthetic() {
    println!(
        "\n| passages | exact scan, one core | graph built (every core) | graph search, one core | of the exact 10 |\n|---|---|---|---|---|"
    );
    let mut seed = 5;
    let centres: Vec<Vec<f32>> = (0..300)
        .map(|_| (0..384).map(|_| noise(&mut seed)).collect())
        .collect();
    let near = |c: &[f32], spread: f32, seed: &mut u64| {
        vectors::Quantised::new(&unit(c.iter().map(|x| x + spread * noise(seed)).collect()))
    };
    for n in [20_000usize, 50_000, 200_000] {
        let rows: Vec<vectors::Quantised> = (0..n)
            .map(|i| near(&centres[i % centres.len()], 1.5, &mut seed))
            .collect();
        let queries: Vec<vectors::Quantised> = (0..50)
            .map(|i| near(&centres[(i * 7) % centres.len()], 1.5, &mut seed))
            .collect();
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join(graph::FILE_NAME);
        let values: Vec<&[i8]> = rows.iter().map(|r| r.values.as_slice()).collect();
        let t = Instant::now();
        graph::build(&path, 384, &values, &Quiet).expect("building the graph");
        let built = t.elapsed().as_secs_f64();
        let digest = graph::rows_digest(values.iter().copied());
        let g = Graph::open(&path, 384, n, &digest)
            .expect("reading")
            .expect("a graph");
        let (mut t_exact, mut t_graph, mut found) = (Vec::new(), Vec::new(), 0);
        for q in &queries {
            let t = Instant::now();
            let mut scored: Vec<(f32, u64)> = rows
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    (
                        vectors::similarity(&r.values, r.scale, &q.values, q.scale),
                        i as u64,
                    )
                })
                .collect();
            scored.select_nth_unstable_by(10, |a, b| b.0.total_cmp(&a.0));
            t_exact.push(t.elapsed().as_secs_f64() * 1e3);
            let want: HashSet<u64> = scored[..10].iter().map(|s| s.1).collect();
            let t = Instant::now();
            let keys = g.search(&q.values, 300).expect("a search");
            let mut best: Vec<(f32, u64)> = keys
                .iter()
                .map(|&k| {
                    let r = &rows[k as usize];
                    (
                        vectors::similarity(&r.values, r.scale, &q.values, q.scale),
                        k,
                    )
                })
                .collect();
            best.sort_by(|a, b| b.0.total_cmp(&a.0));
            t_graph.push(t.elapsed().as_secs_f64() * 1e3);
            found += best.iter().take(10).filter(|b| want.contains(&b.1)).count();
        }
        println!(
            "| {n} | {:.2} ms | {built:.1} s | {:.2} ms | {:.1} % |",
            median(&mut t_exact),
            median(&mut t_graph),
            found as f64 * 100.0 / (queries.len() * 10) as f64
        );
    }
}
