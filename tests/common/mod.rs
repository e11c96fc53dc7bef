//! Shared set-up for the end-to-end tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use egovkb::analysis::{Analyzers, dict};

/// The Korean dictionary, installed once for every test that needs it (the
/// install takes a file lock, so parallel test processes share one build).
pub fn dict_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let root = dict::default_dict_root();
        let opts = dict::InstallOptions {
            root: root.clone(),
            from: None,
            force: false,
        };
        dict::install(&opts, &mut |_: &str| {}).expect("installing the Korean dictionary");
        root
    })
    .clone()
}

pub fn analyzers() -> Analyzers {
    Analyzers::load(&dict_root()).expect("loading the analyzers")
}

/// The shared evaluation data beside the project, when it is there.
pub fn shared_eval() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    p.is_dir().then_some(p)
}

/// The verified dictionary package (fetched once, kept beside the install).
pub fn dict_package() -> PathBuf {
    dict::obtain_package(&dict_root(), &mut |_: &str| {}).expect("obtaining the dictionary package")
}
