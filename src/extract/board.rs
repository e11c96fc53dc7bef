//! What government boards put around an item, recognised by its words:
//! labelled fields (`등록일 2019-03-20`, `Date : 2019.05.14`, `Fecha:`,
//! `Posted on`), the board's own name ("News & Notices", "보도자료",
//! "Noticias"), and the lines that are page furniture rather than content:
//! breadcrumbs, view counts, author and department lines, share and print
//! bars, skip links, previous and next links, attachment lists, copyright.

use chrono::NaiveDate;

/// Labels of the item's own date (posted, registered), lower case. An
/// update's date is not the item's.
pub const DATE_LABELS: &[&str] = &[
    "등록일자",
    "등록일",
    "작성일자",
    "작성일",
    "게시일자",
    "게시일",
    "보도일자",
    "보도일",
    "배포일자",
    "배포일",
    "날짜",
    "일자",
    "fecha de publicación",
    "fecha de publicacion",
    "fecha",
    "publicado el",
    "publicado",
    "publicada el",
    "posted on",
    "posted",
    "published on",
    "published",
    "publication date",
    "date",
];

/// Labels of the item's title, lower case.
pub const TITLE_LABELS: &[&str] = &[
    "제목", "제 목", "title", "asunto", "título", "titulo", "subject",
];

/// Labels of other metadata lines: never content.
const OTHER_LABELS: &[&str] = &[
    "작성자",
    "담당부서",
    "담당자",
    "담당",
    "부서",
    "연락처",
    "전화번호",
    "문의",
    "첨부파일",
    "첨부",
    "수정일",
    "출처",
    "author",
    "autor",
    "by",
    "por",
    "department",
    "dependencia",
    "category",
    "categoría",
    "categoria",
    "분류",
    "attachments",
    "archivos adjuntos",
    "adjuntos",
    "last updated",
    "updated",
    "actualizado el",
    "actualizado",
    "última actualización",
    "ultima actualizacion",
    "modified",
    "share",
    "compartir",
    "tags",
    "etiquetas",
    "source",
    "fuente",
];

/// Names boards give themselves, lower case: a heading with one of them
/// is the board's, never the item's.
const BOARD_NAMES: &[&str] = &[
    "news & notices",
    "news and notices",
    "news",
    "notices",
    "notice",
    "press releases",
    "press release",
    "press",
    "announcements",
    "events",
    "보도자료",
    "공지사항",
    "알림마당",
    "알림",
    "새소식",
    "소식",
    "보도·해명",
    "보도/해명",
    "뉴스",
    "정책뉴스",
    "공지",
    "noticias",
    "novedades",
    "comunicados",
    "comunicados de prensa",
    "notas de prensa",
    "nota de prensa",
    "prensa",
    "sala de prensa",
    "actualidad",
    "eventos",
    "blog",
];

/// Words of share, print and navigation bars, lower case.
const BAR_WORDS: &[&str] = &[
    "facebook",
    "twitter",
    "x",
    "kakao",
    "kakaotalk",
    "카카오톡",
    "카카오스토리",
    "페이스북",
    "트위터",
    "블로그",
    "인쇄",
    "인쇄하기",
    "공유",
    "공유하기",
    "스크랩",
    "url복사",
    "복사",
    "목록",
    "목록으로",
    "글자크기",
    "확대",
    "축소",
    "print",
    "imprimir",
    "compartir",
    "share",
    "email",
    "e-mail",
    "correo",
    "whatsapp",
    "linkedin",
    "telegram",
    "copy",
    "link",
    "copiar",
    "enlace",
    "volver",
    "back",
    "list",
    "listado",
    "top",
    "+",
    "-",
    "|",
    "en",
    "on",
    "in",
    "por",
    "via",
    "con",
    "with",
    "to",
];

/// Lines that open with one of these are previous/next links.
const PREV_NEXT: &[&str] = &[
    "이전글",
    "다음글",
    "윗글",
    "아랫글",
    "이전 글",
    "다음 글",
    "previous post",
    "next post",
    "previous article",
    "next article",
    "previous:",
    "next:",
    "anterior:",
    "siguiente:",
    "noticia anterior",
    "noticia siguiente",
    "entrada anterior",
    "entrada siguiente",
    "« ",
    "‹ ",
];

/// Labels of counts (views): a number follows.
const COUNT_LABELS: &[&str] = &[
    "조회수",
    "조회",
    "read",
    "views",
    "hits",
    "visitas",
    "lecturas",
];

/// Skip links, whole.
const SKIP_LINKS: &[&str] = &[
    "본문 바로가기",
    "주메뉴 바로가기",
    "메뉴 바로가기",
    "본문으로 바로가기",
    "skip to content",
    "skip to main content",
    "skip navigation",
    "saltar al contenido",
    "saltar al contenido principal",
    "ir al contenido",
    "ir al contenido principal",
];

/// Whitespace collapsed.
pub fn normalise(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` split after a leading label (one of `labels`) and the colon
/// after it: the label as written, and the value, trimmed. Longest label
/// first, and only whole labels (`date` is not `dated`).
pub fn after_label<'t>(text: &'t str, labels: &[&str]) -> Option<(&'t str, &'t str)> {
    let lower = text.trim_start().to_lowercase();
    let start = text.len() - text.trim_start().len();
    let mut best: Option<&str> = None;
    for l in labels {
        if lower.starts_with(l) && best.is_none_or(|b| l.len() > b.len()) {
            best = Some(l);
        }
    }
    let label = best?;
    // The label's length in the original text: lower-casing keeps the
    // byte length of every label character (ASCII, Hangul, á/é/í/ó/ú);
    // where it does not, `get` refuses a cut inside a character.
    let after = text.get(start + label.len()..)?;
    let next = after.chars().next();
    if next.is_some_and(|c| c.is_alphanumeric() && !is_hangul(c)) && label.is_ascii() {
        return None;
    }
    let value = after
        .trim_start()
        .trim_start_matches([':', '：', '-', '|'])
        .trim_start();
    let head = &text[..text.len() - value.len()];
    Some((head, value.trim_end()))
}

fn is_hangul(c: char) -> bool {
    ('\u{AC00}'..='\u{D7A3}').contains(&c)
}

/// A date written after a date label. Day-first when the page is in
/// Spanish and the numbers alone would be ambiguous (`12/03/2020`).
pub fn labelled_date(value: &str, lang: Option<&str>) -> Option<NaiveDate> {
    let value: String = value.chars().take(60).collect();
    crate::dates::find_date(&value).or_else(|| {
        if lang == Some("en") {
            return None;
        }
        let re = regex_dmy();
        let c = re.captures(&value)?;
        let (d, m, y) = (c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
        crate::dates::plausible(y)
            .then(|| NaiveDate::from_ymd_opt(y, m, d))
            .flatten()
    })
}

fn regex_dmy() -> &'static regex::Regex {
    static R: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    R.get_or_init(|| {
        regex::Regex::new(r"\b(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\b")
            .unwrap_or_else(|e| panic!("date pattern: {e}"))
    })
}

/// Whether `text` is a board's name rather than an item's headline.
pub fn is_board_name(text: &str) -> bool {
    let t = normalise(text).to_lowercase();
    BOARD_NAMES.contains(&t.as_str())
}

/// Whether a paragraph is page furniture: a labelled metadata line, a
/// breadcrumb, a share or print bar, a skip link, previous/next links, an
/// attachment entry or a copyright line.
pub fn is_furniture(p: &str) -> bool {
    let chars = p.chars().count();
    if chars > 200 {
        return false;
    }
    let lower = p.to_lowercase();
    metadata_line(p)
        || breadcrumb(&lower)
        || (chars <= 80
            && lower
                .split(|c: char| c.is_whitespace() || c == '·' || c == '/')
                .filter(|w| !w.is_empty())
                .all(|w| BAR_WORDS.contains(&w)))
        || SKIP_LINKS.contains(&lower.trim())
        || PREV_NEXT.iter().any(|s| lower.starts_with(s))
        || attachment(&lower)
        || (chars <= 150
            && [
                "copyright",
                "©",
                "all rights reserved",
                "derechos reservados",
            ]
            .iter()
            .any(|w| lower.contains(w)))
}

/// `Date : 2019.05.14 Read : 2113`, `등록일 2019-03-20`, `조회수 57`,
/// `Publicado el 12/03/2020`, `Por: Redacción`: a short line that opens
/// with a label and then a colon, or for a date a date, or for a count a
/// number, or (a Korean label in a very short line) anything.
fn metadata_line(p: &str) -> bool {
    let trimmed = p.trim();
    let chars = trimmed.chars().count();
    if chars > 120 {
        return false;
    }
    let labelled = |labels: &[&str], value: &dyn Fn(&str) -> bool| {
        after_label(trimmed, labels).is_some_and(|(head, rest)| {
            head.contains([':', '：'])
                || (head.chars().any(is_hangul) && chars <= 40)
                || value(rest)
        })
    };
    let number = |rest: &str| rest.chars().next().is_some_and(|c| c.is_ascii_digit());
    labelled(DATE_LABELS, &|rest| {
        number(rest)
            || crate::dates::find_date(&rest.chars().take(40).collect::<String>()).is_some()
    }) || labelled(COUNT_LABELS, &number)
        || labelled(TITLE_LABELS, &|_| false)
        || labelled(OTHER_LABELS, &|_| false)
}

/// `HOME > 알림 > 보도자료`, `Inicio / Noticias`, `Home › News`.
fn breadcrumb(lower: &str) -> bool {
    let separators = [" > ", " › ", " » ", " / ", " < "];
    let opens = ["home", "홈", "inicio", "início", "principal", "main"]
        .iter()
        .any(|h| {
            lower.starts_with(h)
                && separators
                    .iter()
                    .any(|s| lower[h.len()..].trim_start().starts_with(s.trim()))
        });
    let steps = separators
        .iter()
        .map(|s| lower.matches(s).count())
        .max()
        .unwrap_or(0);
    opens || (steps >= 2 && lower.chars().count() <= 100)
}

/// A file of an attachment list: `report.pdf (1.2 MB)`, `첨부 계획.hwp`.
fn attachment(lower: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        ".pdf", ".hwp", ".hwpx", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".zip", ".jpg",
        ".png",
    ];
    lower.split_whitespace().count() <= 12
        && lower
            .split(|c: char| c.is_whitespace() || c == '(' || c == '[')
            .any(|w| {
                EXTENSIONS
                    .iter()
                    .any(|e| w.ends_with(e) && w.len() > e.len())
            })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_open_values() {
        assert_eq!(
            after_label("Date : 2019.05.14", DATE_LABELS),
            Some(("Date : ", "2019.05.14"))
        );
        assert_eq!(
            after_label("등록일 2019-03-20", DATE_LABELS),
            Some(("등록일 ", "2019-03-20"))
        );
        assert_eq!(
            after_label("Publicado el 12/03/2020", DATE_LABELS),
            Some(("Publicado el ", "12/03/2020"))
        );
        assert_eq!(after_label("Dated letters", DATE_LABELS), None);
        // A capital whose lower case is shorter (the Kelvin sign) does not
        // cut the text inside a character.
        assert_eq!(after_label("\u{212A}m 5", &["km"]), None);
        assert_eq!(after_label("Korea's registry", DATE_LABELS), None);
    }

    #[test]
    fn labelled_dates_read_day_first_in_spanish() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(labelled_date("12/03/2020", Some("es")), d(2020, 3, 12));
        assert_eq!(labelled_date("12/03/2020", Some("en")), None);
        assert_eq!(labelled_date("2021.05.18.", None), d(2021, 5, 18));
        assert_eq!(
            labelled_date("Lunes 14 de junio de 2021", Some("es")),
            d(2021, 6, 14)
        );
    }

    #[test]
    fn furniture_is_told_from_content() {
        for f in [
            "Date : 2019.05.14 Read : 2113",
            "등록일 2019-03-20 조회수 57",
            "조회 1,234",
            "작성자 국제협력과",
            "HOME > 알림 > 보도자료",
            "Inicio / Noticias / Gobierno digital",
            "Facebook Twitter 인쇄",
            "본문 바로가기",
            "이전글 행정안전부, 2019년 업무계획 발표",
            "붙임 계획서.hwp (120KB)",
            "Copyright © Ministry of the Interior and Safety. All rights reserved.",
            "Por: Redacción MITIC",
        ] {
            assert!(is_furniture(f), "{f}");
        }
        for c in [
            "By 2020, Korea had connected every local government to the system.",
            "Date and time of the workshop were agreed with the IDB.",
            "El registro civil de Paraguay presentó la cédula electrónica.",
            "행정안전부는 파라과이 정부와 주민등록 제도 협력을 논의했다.",
            "Next year the programme will reach 12 countries of the region.",
        ] {
            assert!(!is_furniture(c), "{c}");
        }
        assert!(is_board_name("News &  Notices") && is_board_name("보도자료"));
        assert!(!is_board_name(
            "Paraguay adopts the resident registration model"
        ));
    }
}
