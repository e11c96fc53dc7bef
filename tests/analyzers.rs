//! The analyzers on real text: Korean with the installed dictionary,
//! Spanish and English, through the same code tantivy calls.

mod common;

use egovkb::analysis::{AnalyzerName, Analyzers, Mode, Term};

fn terms(a: &Analyzers, lang: AnalyzerName, text: &str, mode: Mode) -> Vec<String> {
    a.get(lang)
        .unwrap()
        .analyze(text, mode)
        .into_iter()
        .map(|t| t.text)
        .collect()
}

fn ko(text: &str) -> Vec<String> {
    terms(
        &common::analyzers(),
        AnalyzerName::Korean,
        text,
        Mode::Index,
    )
}

fn ko_query(text: &str) -> Vec<String> {
    terms(
        &common::analyzers(),
        AnalyzerName::Korean,
        text,
        Mode::Query,
    )
}

#[test]
fn korean_sentences_come_out_as_expected() {
    // Sentences written for this test; particles and endings are dropped,
    // nouns, names, numbers, foreign words and stems stay.
    let cases: [(&str, &[&str]); 6] = [
        (
            "파라과이에 전자정부를 소개했다",
            &["파라과이", "전자", "정부", "소개"],
        ),
        (
            "행정 공무원이 서울에서 교육을 받았다",
            &["행정", "공무", "원", "서울", "교육", "받"],
        ),
        (
            "KONEPS는 조달청이 운영한다",
            &["koneps", "조달", "청", "운영"],
        ),
        (
            "2018년 6월 26일 연수과정",
            &["2018", "6", "26", "연수", "과정"],
        ),
        ("사이버보안 교육", &["사이버", "보안", "교육"]),
        ("민원을 신청합니다", &["민원", "신청"]),
    ];
    for (text, expected) in cases {
        let got = ko_query(text);
        assert_eq!(got, expected, "{text}");
    }
    // Indexing adds dictionary compounds and nouns written together whole.
    assert!(ko("사이버보안 교육").contains(&"사이버보안".to_string()));
    assert!(ko("공무원이").contains(&"공무원".to_string()));
}

/// Indexing shares its analysis with enrichment, which matches on
/// query-mode terms: those are the index-mode terms less the wholes.
#[test]
fn query_terms_are_index_terms_without_the_wholes() {
    let a = common::analyzers();
    let korean = a.get(AnalyzerName::Korean).unwrap();
    for text in [
        "행정안전부는 주민등록번호 체계와 전자정부 표준프레임워크를 소개했다.",
        "나라장터(KONEPS)는 조달청의 국가종합전자조달시스템이다. 에어팟도 팔린다.",
        "국가기록원 기록관리 혁신 2019년 3월 20일",
    ] {
        let index = korean.analyze(text, Mode::Index);
        assert!(index.iter().any(|t| t.index_only), "{text}: no whole");
        let shared: Vec<Term> = index.into_iter().filter(|t| !t.index_only).collect();
        assert_eq!(shared, korean.analyze(text, Mode::Query), "{text}");
    }
}

#[test]
fn particles_do_not_change_the_term() {
    let a = ko("주민등록을");
    let b = ko("주민등록이");
    assert!(a.contains(&"주민등록".to_string()), "{a:?}");
    assert!(b.contains(&"주민등록".to_string()), "{b:?}");
    assert_eq!(a, b);
    assert_eq!(ko("파라과이에"), vec!["파라과이"]);
}

#[test]
fn compounds_match_whole_and_split() {
    let doc = ko("토지등록정보시스템");
    for q in ko_query("토지 등록") {
        assert!(doc.contains(&q), "{q} not in {doc:?}");
    }
    // 전자정부 finds 전자 정부, and the reverse.
    let joined = ko("전자정부");
    let spaced = ko("전자 정부");
    assert!(ko_query("전자 정부").iter().all(|q| joined.contains(q)));
    assert!(ko_query("전자정부").iter().all(|q| spaced.contains(q)));
}

#[test]
fn loanwords_and_proper_nouns_survive() {
    // ko-dic splits this unknown loanword into fragments; the whole is kept.
    assert!(ko("에어팟을 샀다").contains(&"에어팟".to_string()));
    assert!(ko("반기문이 유엔 사무총장이 되었다").contains(&"반기문".to_string()));
    assert!(ko("정부24에서").contains(&"정부24".to_string()));
}

#[test]
fn positions_are_consecutive_across_dropped_particles() {
    let a = common::analyzers();
    let t: Vec<Term> = a
        .get(AnalyzerName::Korean)
        .unwrap()
        .analyze("주민등록을 발급", Mode::Query);
    assert_eq!(
        t.iter().map(|t| t.position).collect::<Vec<_>>(),
        vec![0, 1, 2]
    );
}

#[test]
fn spanish_folds_accents_keeps_enye_and_stems() {
    let a = common::analyzers();
    let es = |s: &str| terms(&a, AnalyzerName::Spanish, s, Mode::Index);
    assert_eq!(es("Gobierno Electrónico"), es("gobierno electronico"));
    assert_eq!(es("registros"), es("registro"));
    assert_eq!(es("cápsulas"), es("capsulas"));
    assert_ne!(es("niño"), es("nino"));
    assert_eq!(es("NIÑO"), es("niño"));
    assert!(es("de la y los").is_empty(), "stop words");
    assert_eq!(es("la contratación pública"), es("contratacion publica"));
    assert_eq!(es("contrataciones"), es("contratación"));
    assert_eq!(es("tecnologías"), es("tecnologia"));
}

#[test]
fn english_stems_and_drops_stop_words() {
    let a = common::analyzers();
    let en = |s: &str| terms(&a, AnalyzerName::English, s, Mode::Index);
    assert_eq!(en("records"), en("record"));
    assert_eq!(en("The Records of the Ministry"), en("record ministry"));
    assert_eq!(en("Café"), en("cafe"));
}

#[test]
fn bad_input_never_panics_and_offsets_stay_valid() {
    let a = common::analyzers();
    let one_mb_of_one_syllable = "가".repeat(1024 * 1024 / 3);
    let invalid = String::from_utf8_lossy(b"abc\xff\xfe\xc3(def").into_owned();
    let lone_surrogate = String::from_utf16_lossy(&[0xD800, 0x0041, 0xDC00]);
    let inputs = [
        String::new(),
        " \n\t ".to_string(),
        one_mb_of_one_syllable,
        "한국어 English español 日本語 русский العربية 😀🇰🇷 𠀀𠀁 \u{0}\u{7}".to_string(),
        invalid,
        lone_surrogate,
        "😀".repeat(10_000),
        "a".repeat(100_000),
        "\u{1100}\u{1161}\u{11A8} decomposed jamo".to_string(),
    ];
    for name in AnalyzerName::ALL {
        let an = a.get(name).unwrap();
        for text in &inputs {
            for mode in [Mode::Index, Mode::Query] {
                for t in an.analyze(text, mode) {
                    assert!(t.start <= t.end && t.end <= text.len());
                    assert!(text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
                    assert!(!t.text.is_empty() && t.text.len() <= egovkb::analysis::MAX_TERM_BYTES);
                }
            }
        }
    }
}

#[test]
fn the_tantivy_adapter_indexes_and_finds_korean() {
    use tantivy::collector::Count;
    use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TextFieldIndexing, TextOptions};
    use tantivy::{Index, TantivyDocument, Term as TTerm};

    let mut schema = Schema::builder();
    let ko_field = schema.add_text_field(
        "body_ko",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer("ko")
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let index = Index::create_in_dir(dir.path(), schema.build()).unwrap();
    let analyzers = common::analyzers();
    analyzers.register(&index).unwrap();
    let mut writer = index.writer(50_000_000).unwrap();
    for text in [
        "토지등록정보시스템 구축",
        "전자 정부 서비스",
        "주민등록이 완료되었다",
        "무관한 문서",
    ] {
        let mut d = TantivyDocument::default();
        d.add_text(ko_field, text);
        writer.add_document(d).unwrap();
    }
    writer.commit().unwrap();
    let searcher = index.reader().unwrap().searcher();
    let mut query_tokenizer = index.tokenizers().get("ko_query").unwrap();
    let mut count = |q: &str| {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut stream = query_tokenizer.token_stream(q);
        while let Some(tok) = stream.next() {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    TTerm::from_field_text(ko_field, &tok.text),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        searcher
            .search(&BooleanQuery::new(clauses), &Count)
            .unwrap()
    };
    assert_eq!(count("토지 등록"), 1);
    assert_eq!(count("전자정부"), 1);
    assert_eq!(count("주민등록을"), 1);
    // Compound whole term is indexed too.
    let whole = TermQuery::new(
        TTerm::from_field_text(ko_field, "토지등록정보시스템"),
        IndexRecordOption::Basic,
    );
    assert_eq!(searcher.search(&whole, &Count).unwrap(), 1);
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn any_text_gives_valid_terms(text in "\\PC{0,200}") {
            let a = common::analyzers();
            for name in AnalyzerName::ALL {
                for t in a.get(name).unwrap().analyze(&text, Mode::Index) {
                    prop_assert!(t.end <= text.len() && text.is_char_boundary(t.start) && text.is_char_boundary(t.end));
                }
            }
        }

        #[test]
        fn hangul_soup_gives_valid_terms(text in "[가-힣 .,을를이가]{0,300}") {
            let a = common::analyzers();
            let terms = a.get(AnalyzerName::Korean).unwrap().analyze(&text, Mode::Index);
            for w in terms.windows(2) {
                prop_assert!(w[0].position <= w[1].position);
            }
        }
    }
}

/// A country or topic name that tags documents is the name: never a
/// shorter, common word the dictionary turned it into (그레나다 once became
/// 그러, as in 그러나 "however"; 팔라우 became 팔, "arm"; 쿡 제도 became 제도,
/// "system"; 신기술 became 기술, "technology").
#[test]
fn korean_country_and_topic_names_match_as_themselves() {
    let engine = egovkb::engine::Engine::load(&common::dict_root(), None).unwrap();
    let countries = &engine.enricher.countries;
    let topics = &engine.enricher.topics;
    for (vocabulary, entry) in countries
        .entries()
        .iter()
        .map(|e| (countries, e))
        .chain(topics.entries().iter().map(|e| (topics, e)))
    {
        let names: Vec<String> = entry
            .names
            .iter()
            .filter(|(a, _)| *a == AnalyzerName::Korean)
            .map(|(_, n)| n.replace([' ', '(', ')'], "").to_lowercase())
            .collect();
        for (analyzer, phrase) in vocabulary.phrases(&entry.key) {
            if *analyzer != AnalyzerName::Korean {
                continue;
            }
            let joined = phrase.concat();
            assert!(
                phrase.len() > 1 || names.contains(&joined),
                "{}: a Korean name matches as `{joined}`",
                entry.key
            );
        }
    }
    // Text that only says "however" or "arm" names no country.
    let found = countries.find(&engine.analyzers, "그러나 팔을 다친 제도 개선");
    assert!(found.is_empty(), "{found:?}");
    let found: Vec<&str> = countries
        .find(&engine.analyzers, "그레나다와 팔라우, 안도라의 대표단")
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(found, ["GD", "PW", "AD"]);
}

/// An ambiguous name stays ambiguous in every form that analyses like it:
/// "Americans" stems to what "American" does, and "Latin American" or
/// "Inter-American" name no country.
#[test]
fn forms_of_an_ambiguous_name_do_not_tag_documents() {
    let engine = egovkb::engine::Engine::load(&common::dict_root(), None).unwrap();
    let countries = &engine.enricher.countries;
    for text in [
        "Latin American officials met the Inter-American Development Bank.",
        "Americans and Latin Americans attended.",
    ] {
        let found = countries.find(&engine.analyzers, text);
        assert!(found.is_empty(), "{text}: {found:?}");
    }
    let found: Vec<&str> = countries
        .find(&engine.analyzers, "The United States joined.")
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(found, ["US"]);
    // Queries still understand it.
    assert!(
        countries
            .find_in_query(&egovkb::enrich::matcher::analyse(
                &engine.analyzers,
                "American e-government",
            ))
            .iter()
            .any(|(k, _)| *k == "US")
    );
}
