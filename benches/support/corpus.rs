//! The benchmark corpus: a deterministic generated knowledge base (mixed
//! Korean, Spanish and English, realistic lengths; each document on two of
//! twelve e-government subjects, most of its words drawn Zipf-like from a
//! long-tail vocabulary, as in real text), the typical queries, and a
//! loopback GET. Shared by the `scale` and `load` benches.

use egovkb::document::{DocType, Document, Lang};

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const KO_SUBJECTS: [&str; 12] = [
    "행정안전부는",
    "조달청은",
    "한국지역정보개발원은",
    "국가기록원은",
    "정부는",
    "지방자치단체는",
    "파라과이 정부는",
    "중남미 공무원들은",
    "연수단은",
    "전문가들은",
    "우루과이 대표단은",
    "볼리비아는",
];
const KO_OBJECTS: [&str; 14] = [
    "주민등록 제도를",
    "전자조달 시스템을",
    "정부24 서비스를",
    "기록관리 체계를",
    "토지등록정보시스템을",
    "사이버보안 대응 체계를",
    "공공데이터 개방 정책을",
    "전자서명 기술을",
    "스마트시티 사업을",
    "행정정보공동이용 방식을",
    "전자정부 기본계획을",
    "디지털 역량 강화 방안을",
    "민원 처리 절차를",
    "클라우드 전환 사업을",
];
const KO_VERBS: [&str; 8] = [
    "소개했다.",
    "공유했다.",
    "논의했다.",
    "점검했다.",
    "발표했다.",
    "도입하기로 했다.",
    "개선하고 있다.",
    "추진할 계획이다.",
];
const ES_SUBJECTS: [&str; 10] = [
    "El Ministerio del Interior",
    "La agencia de gobierno digital",
    "El gobierno de Paraguay",
    "La delegación de Uruguay",
    "Los funcionarios de Bolivia",
    "La municipalidad",
    "El equipo técnico",
    "La Agencia de Compras",
    "El registro civil",
    "La oficina nacional",
];
const ES_OBJECTS: [&str; 12] = [
    "el registro civil y la cédula de identidad",
    "las compras públicas electrónicas",
    "la ventanilla única de trámites",
    "la gestión documental",
    "el catastro y el registro de la propiedad",
    "la ciberseguridad",
    "los datos abiertos",
    "la firma electrónica",
    "la interoperabilidad",
    "la estrategia de gobierno digital",
    "la capacitación de servidores públicos",
    "la salud digital",
];
const ES_VERBS: [&str; 6] = [
    "presentó",
    "fortaleció",
    "analizó",
    "implementó",
    "evaluó",
    "impulsa",
];
const EN_SUBJECTS: [&str; 10] = [
    "The Ministry of the Interior and Safety",
    "The delegation from Paraguay",
    "Officials from Peru",
    "The e-government team",
    "The training course",
    "Korea",
    "The Public Procurement Service",
    "The National Archives",
    "Participants from Jamaica",
    "The project",
];
const EN_OBJECTS: [&str; 12] = [
    "resident registration",
    "the e-procurement system KONEPS",
    "one-stop online services",
    "records management",
    "the land registry",
    "cyber security",
    "open data",
    "digital identity",
    "data interoperability",
    "the national e-government strategy",
    "e-participation",
    "smart city pilots",
];
const EN_VERBS: [&str; 6] = [
    "introduced",
    "reviewed",
    "strengthened",
    "presented",
    "discussed",
    "expanded",
];

/// A sentence about one of the document's focus objects.
fn sentence(rng: &mut Rng, lang: usize, focus: &[usize]) -> String {
    let object = focus[rng.below(focus.len())];
    match lang {
        0 => format!(
            "{} {} {}",
            rng.pick(&KO_SUBJECTS),
            KO_OBJECTS[object % KO_OBJECTS.len()],
            rng.pick(&KO_VERBS)
        ),
        1 => format!(
            "{} {} {}.",
            rng.pick(&ES_SUBJECTS),
            rng.pick(&ES_VERBS),
            ES_OBJECTS[object % ES_OBJECTS.len()]
        ),
        _ => format!(
            "{} {} {}.",
            rng.pick(&EN_SUBJECTS),
            rng.pick(&EN_VERBS),
            EN_OBJECTS[object % EN_OBJECTS.len()]
        ),
    }
}

/// A word of the long tail: syllables drawn from the language's inventory,
/// Zipf-like (low ranks often, high ranks rarely), so that the vocabulary
/// has tens of thousands of words as a real corpus has.
fn tail_word(rng: &mut Rng, lang: usize) -> String {
    const LATIN: [&str; 24] = [
        "ta", "re", "mi", "so", "la", "ne", "ro", "ci", "pa", "de", "lo", "ga", "ven", "tor",
        "mar", "sel", "qui", "bra", "dos", "ple", "fin", "cal", "ter", "mon",
    ];
    let spread = rng.below(40_000) + 1;
    let rank = rng.below(spread);
    let mut r = rank;
    let syllables = 2 + rank % 3;
    let mut w = String::new();
    for _ in 0..syllables {
        if lang == 0 {
            // Hangul syllable from the rank's digits.
            let c = 0xAC00 + ((r * 7919) % 11_172) as u32;
            w.push(char::from_u32(c).unwrap_or('가'));
        } else {
            w.push_str(LATIN[r % LATIN.len()]);
        }
        r = r / 24 + 1;
    }
    w
}

/// A sentence of long-tail words (what most of a real document is).
fn filler(rng: &mut Rng, lang: usize) -> String {
    let n = 6 + rng.below(8);
    let words: Vec<String> = (0..n).map(|_| tail_word(rng, lang)).collect();
    format!("{}.", words.join(" "))
}

pub fn generate(n: usize) -> Vec<Document> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..n)
        .map(|i| {
            let lang = rng.below(3);
            // Each document is about two of the twelve subjects.
            let focus = [rng.below(12), rng.below(12)];
            let mut d = Document::new(
                format!("https://bench.example/{i}"),
                "bench",
                sentence(&mut rng, lang, &focus),
            );
            d.lang = Some([Lang::ko(), Lang::es(), Lang::en()][lang].clone());
            d.doc_type = DocType::ALL[rng.below(5)];
            // Paragraphs of 3-6 sentences, one in four on the subjects, the
            // rest long-tail words; 3-10 paragraphs (~1-4 KB).
            let paragraphs = 3 + rng.below(8);
            d.body = (0..paragraphs)
                .map(|_| {
                    let k = 3 + rng.below(4);
                    (0..k)
                        .map(|_| {
                            if rng.below(4) == 0 {
                                sentence(&mut rng, lang, &focus)
                            } else {
                                filler(&mut rng, lang)
                            }
                        })
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect::<Vec<_>>()
                .join("\n\n");
            d.published = chrono::NaiveDate::from_ymd_opt(
                2015 + rng.below(11) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            );
            d
        })
        .collect()
}

/// Typical two-word searches of the benchmarks, in the three languages.
pub const QUERIES: [&str; 12] = [
    "resident registration",
    "e-procurement Paraguay",
    "cyber security",
    "registro civil",
    "compras públicas",
    "firma electrónica",
    "주민등록 제도",
    "전자조달 시스템",
    "사이버보안 체계",
    "open data",
    "datos abiertos",
    "기록관리 국가기록원",
];

/// A plain HTTP GET on loopback: the whole response, or nothing.
pub fn get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    use std::time::Duration;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}
