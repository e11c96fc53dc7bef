//! Search by meaning over a real index's passage vectors: the one-bit
//! codes' first pass (then [`OVERSAMPLE`] × k documents compared exactly)
//! against comparing every passage exactly. For questions of the open
//! benchmark: the time of one search (one core) each way, and how many of
//! the exact 10 and 100 nearest documents the codes' pass returns. Then
//! the exact scan alone at 10,000 to 300,000 passages (synthetic values:
//! its cost does not depend on them). Prints Markdown.
//!
//! Run: `EGOVKB_BENCH_INDEX=DIR cargo bench --bench vectors`, DIR an index
//! directory built with the model (`egovkb index`), such as the load
//! bench's `target/bench-load-<docs>/index`. Needs the model.

use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use egovkb::index::IndexDir;
use egovkb::semantic::search::{OVERSAMPLE, VectorIndex};
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
    let codes = open().with_exact_limit(0);
    let root = install::default_model_root();
    let file = install::installed_model_file(&root).expect("run `egovkb model install` first");
    let model = Model::load(&file).expect("loading the model");

    let mut queries = Vec::new();
    for set in ["xquad-en", "xquad-es", "korquad1-dev", "clir/en2es-hard"] {
        queries.extend(eval::texts(set, "queries.jsonl", "query", 100));
    }
    let all = |_| true;
    let (mut t_exact, mut t_codes) = (Vec::new(), Vec::new());
    let (mut at10, mut at100) = (0usize, 0usize);
    for q in &queries {
        let v = exact
            .prepare(&model.embed(q, Kind::Query))
            .expect("dimension");
        let t = Instant::now();
        let want = exact.nearest(&v, &all, &all, 100);
        t_exact.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let got = codes.nearest(&v, &all, &all, 100);
        t_codes.push(t.elapsed().as_secs_f64() * 1e3);
        let set = |hits: &[egovkb::semantic::search::SemanticHit], n: usize| {
            hits.iter().take(n).map(|h| h.addr).collect::<HashSet<_>>()
        };
        at10 += set(&want.all, 10).intersection(&set(&got.all, 10)).count();
        at100 += set(&want.all, 100)
            .intersection(&set(&got.all, 100))
            .count();
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let n = queries.len();
    println!(
        "{} passages, {n} questions, the 100 nearest documents of each (one core)\n",
        exact.len()
    );
    println!("| search | median ms | of the exact 10 | of the exact 100 |");
    println!("|---|---|---|---|");
    println!(
        "| every passage compared exactly | {:.2} | 100 % | 100 % |",
        median(&mut t_exact)
    );
    println!(
        "| codes, then {} documents exactly | {:.2} | {:.1} % | {:.1} % |",
        OVERSAMPLE * 100,
        median(&mut t_codes),
        at10 as f64 * 100.0 / (n * 10) as f64,
        at100 as f64 * 100.0 / (n * 100) as f64,
    );

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
