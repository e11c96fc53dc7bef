//! The house's shape, checked: no import circle between the modules of
//! `src/` (ARCHITECTURE.md), neither between files nor between the
//! crate's top-level modules. A module may use its ancestors' and
//! descendants' items; every other `crate::` or `super::` path is an edge.
//! No function of `src/` (tests included) of 80 lines or more. And the
//! engine without HTTP: the web server's crates only in `server/` and the
//! binary, OpenAPI's derives only behind the `server` feature.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every module of `src/` (`index::search::fusion`) and its source.
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(stem);
            modules(&path, &p, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut p = prefix.to_vec();
            if !matches!(stem.as_str(), "mod" | "lib" | "main") {
                p.push(stem);
            }
            out.insert(p.join("::"), std::fs::read_to_string(&path).unwrap());
        }
    }
}

/// The module a path names: the longest prefix that is a module.
fn resolve(from: &str, path: &str, known: &BTreeMap<String, String>) -> Option<String> {
    let mut segs: Vec<&str> = path.split("::").collect();
    let mut base: Vec<&str> = if from.is_empty() {
        Vec::new()
    } else {
        from.split("::").collect()
    };
    match segs.first() {
        Some(&"crate") => {
            base.clear();
            segs.remove(0);
        }
        Some(&"super") => {
            while segs.first() == Some(&"super") {
                base.pop();
                segs.remove(0);
            }
        }
        _ => return None,
    }
    (0..=segs.len()).rev().find_map(|k| {
        let mut m = base.clone();
        m.extend(&segs[..k]);
        let name = m.join("::");
        known.contains_key(&name).then_some(name)
    })
}

fn graph() -> Graph {
    let mut known = BTreeMap::new();
    modules(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut known,
    );
    let paths = regex::Regex::new(r"\b(?:crate|super)(?:::\w+)+").unwrap();
    let related = |a: &str, b: &str| {
        a == b
            || a.is_empty()
            || b.is_empty()
            || a.starts_with(&format!("{b}::"))
            || b.starts_with(&format!("{a}::"))
    };
    let mut g = Graph::new();
    for (module, source) in &known {
        let edges = g.entry(module.clone()).or_default();
        for m in paths.find_iter(source) {
            if let Some(to) = resolve(module, m.as_str(), &known)
                && !related(module, &to)
            {
                edges.insert(to);
            }
        }
    }
    g
}

/// The graph between top-level modules.
fn top_level(g: &Graph) -> Graph {
    let top = |m: &str| m.split("::").next().unwrap_or("").to_string();
    let mut t = Graph::new();
    for (a, bs) in g {
        for b in bs {
            if top(a) != top(b) {
                t.entry(top(a)).or_default().insert(top(b));
            }
        }
    }
    t
}

/// A circle of `g`, if it has one.
fn circle(g: &Graph) -> Option<Vec<String>> {
    fn visit(
        g: &Graph,
        node: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut c = path[i..].to_vec();
            c.push(node.to_string());
            return Some(c);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in g.get(node).into_iter().flatten() {
            if let Some(c) = visit(g, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|n| visit(g, n, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_circle_between_files() {
    let g = graph();
    assert!(g.len() > 40, "modules found: {}", g.len());
    assert!(
        g["index::search::fusion"].contains("index::search::execute"),
        "the graph sees `use super::execute::…`"
    );
    if let Some(c) = circle(&g) {
        panic!("import circle: {}", c.join(" → "));
    }
}

#[test]
fn no_import_circle_between_top_level_modules() {
    let t = top_level(&graph());
    assert!(t["index"].contains("engine"));
    if let Some(c) = circle(&t) {
        panic!("import circle: {}", c.join(" → "));
    }
}

#[test]
fn a_circle_is_found() {
    let mut g = Graph::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")] {
        g.entry(a.into()).or_default().insert(b.into());
    }
    assert_eq!(circle(&g).unwrap(), ["a", "b", "c", "a"]);
    g.get_mut("c").unwrap().remove("a");
    assert_eq!(circle(&g), None);
}

/// Every function of `source` as (name, first line, lines): from its `fn`
/// line to the `}` that closes it at the same indentation (rustfmt's
/// layout).
fn functions(source: &str) -> Vec<(String, usize, usize)> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let code = line.trim_start();
        let indent = line.len() - code.len();
        let rest = [
            "pub(crate) ",
            "pub(super) ",
            "pub ",
            "const ",
            "async ",
            "unsafe ",
        ]
        .iter()
        .fold(code, |c, p| c.strip_prefix(p).unwrap_or(c));
        let Some(signature) = rest.strip_prefix("fn ") else {
            continue;
        };
        if code.ends_with(';') {
            continue;
        }
        let name: String = signature
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let end = lines[i + 1..].iter().position(|l| {
            l.len() > indent && l[..indent].trim().is_empty() && l[indent..].starts_with('}')
        });
        if let Some(end) = end {
            out.push((name, i + 1, end + 2));
        }
    }
    out
}

#[test]
fn no_function_is_80_lines_or_more() {
    let mut sources = BTreeMap::new();
    modules(Path::new("src"), &[], &mut sources);
    let mut long = Vec::new();
    let mut seen = 0;
    for (module, source) in &sources {
        for (name, line, lines) in functions(source) {
            seen += 1;
            if lines >= 80 {
                long.push(format!("{module}::{name} (line {line}): {lines} lines"));
            }
        }
    }
    assert!(seen > 500, "functions found: {seen}");
    assert!(long.is_empty(), "{}", long.join("\n"));
}

#[test]
fn a_long_function_is_measured() {
    let body = "    let x = 1;\n".repeat(90);
    let source = format!("pub fn short() -> u8 {{\n    1\n}}\n\nfn long() {{\n{body}}}\n");
    let found = functions(&source);
    assert_eq!(found[0], ("short".to_string(), 1, 3));
    assert_eq!(found[1], ("long".to_string(), 5, 92));
}

#[test]
fn the_engine_names_no_web_server() {
    let mut sources = BTreeMap::new();
    modules(Path::new("src"), &[], &mut sources);
    let mut found = Vec::new();
    for (module, source) in &sources {
        if module.is_empty() || module == "server" || module.starts_with("server::") {
            continue;
        }
        for (n, line) in source.lines().enumerate() {
            let web = [
                "axum",
                "tokio",
                "tower_http",
                "maud",
                "serde_urlencoded",
                "arc_swap",
            ]
            .iter()
            .any(|c| line.contains(&format!("{c}::")));
            let openapi =
                line.contains("utoipa") && !line.contains("cfg_attr(feature = \"server\"");
            if web || openapi {
                found.push(format!("{module}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(sources.contains_key("server::page"));
    assert!(found.is_empty(), "{}", found.join("\n"));
}
