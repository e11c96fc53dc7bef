//! Generic extraction of saved board pages without a profile: the pages of
//! `tests/data/pages/` (Korean ministries in table and list layouts, in
//! EUC-KR and UTF-8; MOIS English; Latin American ministries and
//! agencies; WordPress and Drupal news; mobile copies; posted and updated
//! dates), each with the title, date and body a reader would copy. The
//! floors are the issue's: titles and dates 97 %, body token F1 0.95.
//! `cargo bench --bench pages` prints the same numbers beside a baseline.

#[path = "../benches/support/pages.rs"]
mod pages;

#[test]
fn board_pages_read_right_without_a_profile() {
    let expected = pages::load("pages");
    assert!(expected.len() >= 40, "{} pages", expected.len());
    let mut score = pages::Score::default();
    for want in &expected {
        score.add(want, &pages::egovkb(want));
    }
    let report = format!(
        "titles {:.1} %, dates {:.1} %, body F1 {:.3}\n{}",
        100.0 * score.title_share(),
        100.0 * score.date_share(),
        score.mean_f1(),
        score.misses.join("\n")
    );
    assert!(score.title_share() >= 0.97, "{report}");
    assert!(score.date_share() >= 0.97, "{report}");
    assert!(score.mean_f1() >= 0.95, "{report}");
}

#[test]
fn scoring_can_tell_a_wrong_extraction() {
    let want = pages::Expected {
        set: "pages".into(),
        file: "x.html".into(),
        lang: "en".into(),
        title: "Korea and Peru sign an agreement".into(),
        date: Some("2019-03-20".into()),
        body: "The two governments agreed to cooperate on digital identity.".into(),
    };
    let mut s = pages::Score::default();
    s.add(
        &want,
        &pages::Got {
            title: "News & Notices".into(),
            date: None,
            body: "Home > News. The two governments agreed. Read : 2113".into(),
        },
    );
    assert_eq!((s.titles, s.dates), (0, 0));
    assert!(s.mean_f1() < 0.7, "{}", s.mean_f1());
    assert!((pages::f1("a b c", "a b c") - 1.0).abs() < 1e-9);
}
