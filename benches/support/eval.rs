//! The open benchmark's texts beside the project (`../shared/eval`).

/// The first `n` lines' `field` of `set/file`.
pub fn texts(set: &str, file: &str, field: &str, n: usize) -> Vec<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/eval")
        .join(set)
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .take(n)
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v[field].as_str().map(str::to_string))
        .collect()
}
