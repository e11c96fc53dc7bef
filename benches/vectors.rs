//! Search by meaning over a real index's passage vectors: the inverted
//! lists (the passages of the lists nearest the query compared, the
//! documents returned given their best passage exactly) against comparing
//! every passage exactly. For questions of the open benchmark: the time of
//! one search (one core) each way, and how many of the exact 10 and 100
//! nearest documents the lists return, probing 3 to 12 lists of every 64.
//! Then the exact scan alone at 10,000 to 300,000 passages (synthetic
//! values: its cost does not depend on them). Prints Markdown.
//!
//! Run: `EGOVKB_BENCH_INDEX=DIR cargo bench --bench vectors`, DIR an index
//! directory built with the model (`egovkb index`), such as the load
//! bench's `target/bench-load-<docs>/index`. Needs the model.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use egovkb::index::IndexDir;
use egovkb::semantic::search::{SemanticHit, VectorIndex};
use egovkb::semantic::{Kind, Model, install, vectors};

#[path = "support/eval.rs"]
mod eval;

fn main() {
    let dir = PathBuf::from(
        std::env::var("EGOVKB_BENCH_INDEX").expect("EGOVKB_BENCH_INDEX: an index directory"),
    );
    let index_dir = IndexDir::new(&dir);
    let generation =
        index_dir.path_of(&index_dir.current().expect("an index generation in service"));
    let index = tantivy::Index::open_in_dir(&generation).expect("opening the index");
    let searcher = index.reader().expect("a reader").searcher();
    let open = || {
        VectorIndex::open(&generation, &searcher)
            .expect("reading the vectors")
            .expect("a generation with vectors: index with the model installed")
    };
    let exact = open().with_exact_limit(usize::MAX);
    let t = Instant::now();
    let mut lists = open().with_exact_limit(0);
    let built = t.elapsed().as_secs_f64();
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
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let set = |hits: &[SemanticHit], n: usize| {
        hits.iter().take(n).map(|h| h.addr).collect::<HashSet<_>>()
    };
    let n = queries.len();
    let sizes = lists.list_sizes();
    println!(
        "{} passages, {n} questions, the 100 nearest documents of each (one core); {} lists (passages in the largest: {}, in the median: {}) built in {built:.1} s on every core\n",
        exact.len(),
        sizes.len(),
        sizes.first().unwrap_or(&0),
        sizes.get(sizes.len() / 2).unwrap_or(&0),
    );
    println!("| search | median ms | of the exact 10 | of the exact 100 |");
    println!("|---|---|---|---|");
    println!(
        "| every passage compared exactly | {:.2} | 100 % | 100 % |",
        median(&mut t_exact)
    );
    for probed in [3, 6, 12] {
        lists = lists.with_probed(probed);
        let (mut times, mut at10, mut at100) = (Vec::new(), 0, 0);
        for (v, want) in vectors.iter().zip(&wanted) {
            let t = Instant::now();
            let got = lists.nearest(v, &all, &all, 100).all;
            times.push(t.elapsed().as_secs_f64() * 1e3);
            at10 += set(want, 10).intersection(&set(&got, 10)).count();
            at100 += set(want, 100).intersection(&set(&got, 100)).count();
        }
        println!(
            "| lists, {probed} of every 64 probed | {:.2} | {:.1} % | {:.1} % |",
            median(&mut times),
            at10 as f64 * 100.0 / (n * 10) as f64,
            at100 as f64 * 100.0 / (n * 100) as f64,
        );
    }

    println!("\n| passages | exact scan of one query, one core |\n|---|---|");
    let q = vectors::Quantised::new(&model.embed("registro civil", Kind::Query));
    for n in [10_000usize, 100_000, 300_000] {
        let rows: Vec<i8> = (0..n * 384)
            .map(|i| ((i * 7919) % 255) as u8 as i8)
            .collect();
        let t = Instant::now();
        let mut best = f32::MIN;
        for r in rows.chunks_exact(384) {
            best = best.max(vectors::similarity(r, 0.01, &q.values, q.scale));
        }
        std::hint::black_box(best);
        println!("| {n} | {:.2} ms |", t.elapsed().as_secs_f64() * 1e3);
    }
}
