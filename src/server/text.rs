//! The web page's interface strings in English, Spanish and Korean, and the
//! choice of interface language from `?ui=` or `Accept-Language`.

use crate::enrich::UiLang;

/// Every string the page shows that does not come from a document.
pub struct Text {
    pub site: &'static str,
    pub tagline: &'static str,
    pub skip: &'static str,
    pub search_label: &'static str,
    pub placeholder: &'static str,
    pub search: &'static str,
    pub interface_language: &'static str,
    pub filters: &'static str,
    pub apply: &'static str,
    pub year_from: &'static str,
    pub year_to: &'static str,
    pub more: &'static str,
    pub results: &'static str,
    pub no_results: &'static str,
    /// The link to the search's Atom feed, and to its export.
    pub follow: &'static str,
    pub export: &'static str,
    /// The heading of the document page's reference and BibTeX.
    pub cite: &'static str,
    /// Reading a document at its matches.
    pub matches_of: &'static str,
    pub first_match: &'static str,
    /// The label of the passage nearest the search by meaning.
    pub nearest_meaning: &'static str,
    pub previous_match: &'static str,
    pub next_match: &'static str,
    /// Why a hit is there: found by its words, by a country or topic it
    /// is tagged with, by meaning, or both; and how strongly.
    pub why_words: &'static str,
    pub why_concept: &'static str,
    pub why_meaning: &'static str,
    pub why_both: &'static str,
    pub why_strong: &'static str,
    /// "other versions" of a hit's story, after their number.
    pub other_versions: &'static str,
    /// The same, for one.
    pub other_version: &'static str,
    /// Before the links to a notice's translations.
    pub other_languages: &'static str,
    /// The charts' captions.
    pub by_year: &'static str,
    pub by_country: &'static str,
    pub understood: &'static str,
    /// Before quoted phrases that no document has as written.
    pub relaxed: &'static str,
    /// Before query words searched as other words (typos).
    pub corrected: &'static str,
    pub filter_by: &'static str,
    pub active_filters: &'static str,
    pub remove_filter: &'static str,
    pub clear_all: &'static str,
    pub sort: &'static str,
    pub relevance: &'static str,
    pub newest: &'static str,
    /// The ranking mode select: its label and its three choices.
    pub mode: &'static str,
    pub mode_hybrid: &'static str,
    pub mode_lexical: &'static str,
    pub mode_semantic: &'static str,
    /// "Page {}": `{}` is the number (Korean puts it first: "{}쪽").
    pub page: &'static str,
    pub slide: &'static str,
    /// A result page past the last one.
    pub past_end: &'static str,
    pub last_page: &'static str,
    /// Before the page a file was attached to.
    pub attached_to: &'static str,
    pub file_name: &'static str,
    pub pages: &'static str,
    pub previous: &'static str,
    pub next: &'static str,
    pub original: &'static str,
    pub related: &'static str,
    pub source: &'static str,
    pub published: &'static str,
    pub countries: &'static str,
    pub topics: &'static str,
    pub text: &'static str,
    pub undated: &'static str,
    pub new_search: &'static str,
    pub bad_request: &'static str,
    pub not_found: &'static str,
    pub unavailable: &'static str,
}

const EN: Text = Text {
    site: "egovkb",
    tagline: "E-government case studies from Korea, Latin America and the Caribbean",
    skip: "Skip to the content",
    search_label: "Search the knowledge base",
    placeholder: "e.g. resident registration Paraguay",
    search: "Search",
    interface_language: "Interface language",
    filters: "Filters",
    apply: "Apply filters",
    year_from: "From",
    year_to: "To",
    more: "More",
    results: "results",
    no_results: "Nothing in the knowledge base matches this search. Try other words or remove a filter.",
    follow: "Follow this search (Atom feed)",
    export: "Export all results:",
    cite: "Cite",
    matches_of: "matches of",
    first_match: "go to the first",
    nearest_meaning: "the passage nearest your search by meaning",
    previous_match: "previous match",
    next_match: "next match",
    why_words: "Has the words",
    why_concept: "Tagged with",
    why_meaning: "Close in meaning to the question",
    why_both: "Has the words and is close in meaning",
    why_strong: "strong match",
    other_versions: "other versions of this story",
    other_version: "other version of this story",
    other_languages: "Also in",
    by_year: "Results by year",
    by_country: "Results by country",
    understood: "Recognised in your query",
    relaxed: "No document has this exact phrase, so its words were searched instead",
    corrected: "No document has these words; searched instead",
    filter_by: "Filter by",
    active_filters: "Active filters",
    remove_filter: "Remove filter",
    clear_all: "Clear all",
    sort: "Sort by",
    relevance: "Relevance",
    newest: "Newest first",
    mode: "Match",
    mode_hybrid: "Words and meaning",
    mode_lexical: "Words only",
    mode_semantic: "Meaning only",
    page: "Page {}",
    slide: "Slide {}",
    past_end: "This page is past the last result.",
    last_page: "Go to the last page",
    attached_to: "Attached to",
    file_name: "File name",
    pages: "Result pages",
    previous: "Previous",
    next: "Next",
    original: "Original",
    related: "Related documents",
    source: "Source",
    published: "Published",
    countries: "Countries",
    topics: "Topics",
    text: "Text",
    undated: "undated",
    new_search: "New search",
    bad_request: "The request is not valid",
    not_found: "Not found",
    unavailable: "The search is unavailable; try again",
};

const ES: Text = Text {
    site: "egovkb",
    tagline: "Casos de gobierno electrónico de Corea, América Latina y el Caribe",
    skip: "Saltar al contenido",
    search_label: "Buscar en la base de conocimiento",
    placeholder: "p. ej. registro civil Paraguay",
    search: "Buscar",
    interface_language: "Idioma de la interfaz",
    filters: "Filtros",
    apply: "Aplicar filtros",
    year_from: "Desde",
    year_to: "Hasta",
    more: "Más",
    results: "resultados",
    no_results: "Nada en la base de conocimiento coincide con esta búsqueda. Pruebe con otras palabras o quite un filtro.",
    follow: "Seguir esta búsqueda (canal Atom)",
    export: "Exportar todos los resultados:",
    cite: "Citar",
    matches_of: "coincidencias de",
    first_match: "ir a la primera",
    nearest_meaning: "el pasaje más cercano a su búsqueda por el sentido",
    previous_match: "coincidencia anterior",
    next_match: "coincidencia siguiente",
    why_words: "Contiene las palabras",
    why_concept: "Etiquetado con",
    why_meaning: "Cercano en significado a la pregunta",
    why_both: "Contiene las palabras y es cercano en significado",
    why_strong: "coincidencia fuerte",
    other_versions: "versiones más de esta noticia",
    other_version: "versión más de esta noticia",
    other_languages: "También en",
    by_year: "Resultados por año",
    by_country: "Resultados por país",
    understood: "Reconocido en su búsqueda",
    relaxed: "Ningún documento contiene esta frase exacta; se buscaron sus palabras",
    corrected: "Ningún documento contiene estas palabras; se buscó en su lugar",
    filter_by: "Filtrar por",
    active_filters: "Filtros activos",
    remove_filter: "Quitar filtro",
    clear_all: "Quitar todos",
    sort: "Ordenar por",
    relevance: "Relevancia",
    newest: "Más recientes",
    mode: "Buscar por",
    mode_hybrid: "Palabras y significado",
    mode_lexical: "Solo palabras",
    mode_semantic: "Solo significado",
    page: "Página {}",
    slide: "Diapositiva {}",
    past_end: "Esta página está más allá del último resultado.",
    last_page: "Ir a la última página",
    attached_to: "Adjunto de",
    file_name: "Nombre del archivo",
    pages: "Páginas de resultados",
    previous: "Anterior",
    next: "Siguiente",
    original: "Original",
    related: "Documentos relacionados",
    source: "Fuente",
    published: "Publicado",
    countries: "Países",
    topics: "Temas",
    text: "Texto",
    undated: "sin fecha",
    new_search: "Nueva búsqueda",
    bad_request: "La solicitud no es válida",
    not_found: "No encontrado",
    unavailable: "La búsqueda no está disponible; inténtelo de nuevo",
};

const KO: Text = Text {
    site: "egovkb",
    tagline: "한국·중남미·카리브 전자정부 사례 지식 베이스",
    skip: "본문으로 건너뛰기",
    search_label: "지식 베이스 검색",
    placeholder: "예: 파라과이 주민등록",
    search: "검색",
    interface_language: "화면 언어",
    filters: "필터",
    apply: "필터 적용",
    year_from: "시작",
    year_to: "끝",
    more: "더 보기",
    results: "건",
    no_results: "지식 베이스에 이 검색과 일치하는 문서가 없습니다. 다른 검색어를 쓰거나 필터를 해제해 보세요.",
    follow: "이 검색 구독 (Atom 피드)",
    export: "모든 결과 내보내기:",
    cite: "인용",
    matches_of: "곳에서 일치:",
    first_match: "첫 번째로 이동",
    nearest_meaning: "검색어와 의미가 가장 가까운 부분",
    previous_match: "이전 일치",
    next_match: "다음 일치",
    why_words: "검색어 포함",
    why_concept: "태그",
    why_meaning: "질문과 의미가 가까움",
    why_both: "검색어 포함, 의미도 가까움",
    why_strong: "강한 일치",
    other_versions: "개의 다른 판",
    other_version: "개의 다른 판",
    other_languages: "다른 언어",
    by_year: "연도별 결과",
    by_country: "국가별 결과",
    understood: "검색어에서 인식된 항목",
    relaxed: "이 구절과 정확히 일치하는 문서가 없어 각 단어로 검색했습니다",
    corrected: "이 단어가 있는 문서가 없어 대신 검색한 단어",
    filter_by: "필터로 추가",
    active_filters: "적용된 필터",
    remove_filter: "필터 해제",
    clear_all: "모두 해제",
    sort: "정렬",
    relevance: "관련도순",
    newest: "최신순",
    mode: "검색 방식",
    mode_hybrid: "단어와 의미",
    mode_lexical: "단어만",
    mode_semantic: "의미만",
    page: "{}쪽",
    slide: "슬라이드 {}",
    past_end: "마지막 결과를 지난 페이지입니다.",
    last_page: "마지막 페이지로 가기",
    attached_to: "첨부된 글",
    file_name: "파일 이름",
    pages: "결과 페이지",
    previous: "이전",
    next: "다음",
    original: "원문",
    related: "관련 문서",
    source: "출처",
    published: "게시일",
    countries: "국가",
    topics: "주제",
    text: "본문",
    undated: "날짜 없음",
    new_search: "새 검색",
    bad_request: "요청이 올바르지 않습니다",
    not_found: "찾을 수 없습니다",
    unavailable: "검색을 사용할 수 없습니다. 다시 시도해 주세요",
};

/// The interface strings of one language.
pub fn text(ui: UiLang) -> &'static Text {
    match ui {
        UiLang::En => &EN,
        UiLang::Es => &ES,
        UiLang::Ko => &KO,
    }
}

/// The interface language a browser asks for: the first of en, es, ko in
/// `Accept-Language` by weight (`es-PY,es;q=0.9,en;q=0.8` → es), English
/// when it names none of them.
pub fn from_accept_language(header: &str) -> UiLang {
    let mut best: Option<(f32, usize, UiLang)> = None;
    for (i, part) in header.split(',').enumerate() {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim();
        let primary = tag.split('-').next().unwrap_or("").to_ascii_lowercase();
        let Some(ui) = UiLang::parse(&primary) else {
            continue;
        };
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        // Highest weight wins; among equals, the one listed first.
        if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
            best = Some((q, i, ui));
        }
    }
    best.map_or(UiLang::En, |(_, _, ui)| ui)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_by_weight() {
        assert_eq!(from_accept_language("es-PY,es;q=0.9,en;q=0.8"), UiLang::Es);
        assert_eq!(
            from_accept_language("fr-FR, ko;q=0.5, en;q=0.7"),
            UiLang::En
        );
        assert_eq!(from_accept_language("ko-KR,ko;q=0.9"), UiLang::Ko);
        assert_eq!(from_accept_language("de, fr"), UiLang::En);
        assert_eq!(from_accept_language("es;q=0, ko;q=0.1"), UiLang::Ko);
        assert_eq!(from_accept_language(""), UiLang::En);
        assert_eq!(from_accept_language(";;;,q=,;q=abc"), UiLang::En);
    }
}
