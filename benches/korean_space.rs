//! How lindera should treat spaces, decided by retrieval quality: index the
//! KorQuAD 1.0 dev passages (`../shared/eval/korquad1-dev`) with the Korean
//! analyzer, run every question as a BM25 OR query, and print MRR@10 and
//! Recall@10 with mecab-ko's left-space penalty on and off.
//!
//! Run: `cargo bench --bench korean_space`

use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

use egovkb::analysis::korean::{KoreanAnalyzer, KoreanOptions};
use egovkb::analysis::{Analyzer, Mode, TantivyAdapter, dict};
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions};
use tantivy::{Index, TantivyDocument, Term};

fn read_jsonl(path: PathBuf) -> Vec<serde_json::Value> {
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    std::io::BufReader::new(f)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect()
}

fn main() {
    let data = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/korquad1-dev");
    let passages = read_jsonl(data.join("passages.jsonl"));
    let queries = read_jsonl(data.join("queries.jsonl"));
    let root = dict::default_dict_root();
    dict::install(
        &dict::InstallOptions {
            root: root.clone(),
            ..Default::default()
        },
        &egovkb::progress::Quiet,
    )
    .expect("dictionary");
    println!("| space penalty | MRR@10 | Recall@10 | queries |");
    println!("|---|---|---|---|");
    for space_penalty in [true, false] {
        let analyzer: Arc<dyn Analyzer> = Arc::new(
            KoreanAnalyzer::load_with(
                &root,
                KoreanOptions {
                    space_penalty,
                    ..KoreanOptions::default()
                },
            )
            .unwrap(),
        );
        let mut sb = Schema::builder();
        let id = sb.add_text_field("id", STRING | STORED);
        let text = sb.add_text_field(
            "text",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("ko")
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions),
            ),
        );
        let index = Index::create_in_ram(sb.build());
        index
            .tokenizers()
            .register("ko", TantivyAdapter::new(analyzer.clone(), Mode::Index));
        let mut w = index.writer(200_000_000).unwrap();
        for p in &passages {
            let mut d = TantivyDocument::default();
            d.add_text(id, p["id"].as_str().unwrap_or(""));
            d.add_text(
                text,
                format!(
                    "{}\n{}",
                    p["title"].as_str().unwrap_or(""),
                    p["text"].as_str().unwrap_or("")
                ),
            );
            w.add_document(d).unwrap();
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let (mut mrr, mut recall) = (0.0, 0.0);
        for q in &queries {
            let clauses: Vec<(Occur, Box<dyn Query>)> = analyzer
                .analyze(q["query"].as_str().unwrap_or(""), Mode::Query)
                .into_iter()
                .map(|t| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(text, &t.text),
                        IndexRecordOption::WithFreqs,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            let top = searcher
                .search(
                    &BooleanQuery::new(clauses),
                    &TopDocs::with_limit(10).order_by_score(),
                )
                .unwrap();
            let relevant: Vec<&str> = q["relevant"]
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            for (rank, (_, addr)) in top.iter().enumerate() {
                let doc: TantivyDocument = searcher.doc(*addr).unwrap();
                let doc_id = doc
                    .get_first(id)
                    .and_then(|v| tantivy::schema::Value::as_str(&v))
                    .unwrap_or("");
                if relevant.contains(&doc_id) {
                    mrr += 1.0 / (rank as f64 + 1.0);
                    recall += 1.0;
                    break;
                }
            }
        }
        let n = queries.len() as f64;
        println!(
            "| {} | {:.3} | {:.3} | {} |",
            if space_penalty { "on" } else { "off" },
            mrr / n,
            recall / n,
            queries.len()
        );
    }
}
