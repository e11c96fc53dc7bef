//! What generic extraction reads from saved pages, without a profile:
//! `cargo run --release --example extract_page -- PAGE.html …` prints each
//! page's title, date and body.

fn main() {
    for f in std::env::args().skip(1) {
        let read = std::fs::read(&f)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                egovkb::extract::extract(&bytes, egovkb::extract::Format::Html, None)
                    .map_err(|e| e.to_string())
            });
        match read {
            Ok(x) => println!(
                "== {f}\ntitle: {}\ndate: {}\n\n{}\n",
                x.title,
                x.published.map_or("none".to_string(), |d| d.to_string()),
                x.body
            ),
            Err(e) => eprintln!("{f}: {e}"),
        }
    }
}
