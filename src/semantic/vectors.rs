//! Passage vectors: stored as 8-bit integers with one scale each, in a
//! file of each index generation (so `reindex` and the atomic swap cover
//! them) and in a cache beside the generations keyed by the passage's text
//! (so a reindex of unchanged documents embeds nothing).
//!
//! ```text
//! index/embeddings.cache      key (16 bytes of SHA-256 of model + text), scale, 384 × i8; appended
//! index/gen-000007/vectors    per document: id, passages (page, byte range, scale, 384 × i8)
//! ```

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::passages::Span;

/// A vector as 8-bit integers and the scale that maps them back.
#[derive(Debug, Clone, PartialEq)]
pub struct Quantised {
    pub scale: f32,
    pub values: Vec<i8>,
}

impl Quantised {
    /// Largest magnitude to 127.
    pub fn new(v: &[f32]) -> Self {
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        let values = v
            .iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
            .collect();
        Self { scale, values }
    }
}

/// The dot product of two 8-bit vectors, scaled: the cosine of the unit
/// vectors they stand for.
pub fn similarity(a: &[i8], a_scale: f32, b: &[i8], b_scale: f32) -> f32 {
    dot(a, b) as f32 * a_scale * b_scale
}

/// Ask the processor to bring `values` into its cache (a hint; nothing
/// on processors without one).
pub fn prefetch(values: &[i8]) {
    #[cfg(target_arch = "x86_64")]
    for line in values.chunks(64) {
        use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
        // SAFETY: a prefetch reads nothing; the address is of a live slice.
        unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr()) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = values;
}

/// The integer dot product, with AVX-512 VNNI or AVX2 where the processor
/// has them, else portable.
pub fn dot(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    {
        if has_vnni() {
            // SAFETY: the processor has AVX-512 F, BW and VNNI, checked.
            return unsafe { dot_vnni(a, b) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, checked just above.
            return unsafe { dot_avx2(a, b) };
        }
    }
    dot_portable(a, b)
}

fn dot_portable(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| i32::from(x) * i32::from(y))
        .sum()
}

/// 16 values at a time: widened to 16 bits, multiplied and summed in
/// pairs into 32-bit lanes.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn dot_avx2(a: &[i8], b: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let whole = n - n % 16;
    let mut acc = _mm256_setzero_si256();
    let mut i = 0;
    while i < whole {
        // SAFETY: `i + 16 <= n`, within both slices; unaligned loads.
        unsafe {
            let x = _mm_loadu_si128(a.as_ptr().add(i).cast());
            let y = _mm_loadu_si128(b.as_ptr().add(i).cast());
            let products = _mm256_madd_epi16(_mm256_cvtepi8_epi16(x), _mm256_cvtepi8_epi16(y));
            acc = _mm256_add_epi32(acc, products);
        }
        i += 16;
    }
    let mut lanes = [0i32; 8];
    // SAFETY: `lanes` holds exactly 256 bits.
    unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), acc) };
    lanes.iter().sum::<i32>() + dot_portable(&a[whole..n], &b[whole..n])
}

/// Of passages' `values` (one after the other, each as long as the
/// query's) and their `scales`, the place of the one most similar to
/// `query` (the first of equals) and its similarity; `None` without any.
pub fn most_similar(values: &[i8], scales: &[f32], query: &Quantised) -> Option<(usize, f32)> {
    let dim = query.values.len();
    #[cfg(target_arch = "x86_64")]
    {
        if dim > 0 && dim.is_multiple_of(64) && has_vnni() {
            // SAFETY: the processor has AVX-512 F, BW and VNNI, checked.
            return unsafe { most_similar_vnni(values, scales, query) };
        }
    }
    values
        .chunks_exact(dim.max(1))
        .zip(scales)
        .map(|(row, &scale)| similarity(row, scale, &query.values, query.scale))
        .enumerate()
        .fold(None, |best, (r, s)| match best {
            Some((_, b)) if s <= b => best,
            _ => Some((r, s)),
        })
}

/// [`most_similar`] for a dimension of whole 64-byte blocks, as
/// [`dot_vnni`] computes (the query's sum taken once).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn most_similar_vnni(values: &[i8], scales: &[f32], query: &Quantised) -> Option<(usize, f32)> {
    use std::arch::x86_64::*;
    let q = &query.values;
    let dim = q.len();
    let correction = 128 * q.iter().map(|&x| i32::from(x)).sum::<i32>();
    let flip = _mm512_set1_epi8(i8::MIN);
    let mut best: Option<(usize, f32)> = None;
    for (r, (row, &scale)) in values.chunks_exact(dim).zip(scales).enumerate() {
        let mut acc = _mm512_setzero_si512();
        for j in (0..dim).step_by(64) {
            // SAFETY: `j + 64 <= dim`, within the row and the query.
            unsafe {
                let x = _mm512_xor_si512(_mm512_loadu_si512(row.as_ptr().add(j).cast()), flip);
                let y = _mm512_loadu_si512(q.as_ptr().add(j).cast());
                acc = _mm512_dpbusd_epi32(acc, x, y);
            }
        }
        let s = (_mm512_reduce_add_epi32(acc) - correction) as f32 * scale * query.scale;
        if best.is_none_or(|(_, b)| s > b) {
            best = Some((r, s));
        }
    }
    best
}

#[cfg(target_arch = "x86_64")]
fn has_vnni() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512bw")
        && std::arch::is_x86_feature_detected!("avx512vnni")
}

/// 64 values at a time with VNNI's unsigned × signed byte products: `a`
/// made unsigned by adding 128 (its sign bit flipped), which adds 128 ×
/// the sum of `b`, taken away at the end (the sum from the same
/// instruction, with ones).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
fn dot_vnni(a: &[i8], b: &[i8]) -> i32 {
    use std::arch::x86_64::*;
    let n = a.len().min(b.len());
    let whole = n - n % 64;
    let (flip, ones) = (_mm512_set1_epi8(i8::MIN), _mm512_set1_epi8(1));
    let (mut acc, mut sum_b) = (_mm512_setzero_si512(), _mm512_setzero_si512());
    let mut i = 0;
    while i < whole {
        // SAFETY: `i + 64 <= n`, within both slices; unaligned loads.
        unsafe {
            let x = _mm512_xor_si512(_mm512_loadu_si512(a.as_ptr().add(i).cast()), flip);
            let y = _mm512_loadu_si512(b.as_ptr().add(i).cast());
            acc = _mm512_dpbusd_epi32(acc, x, y);
            sum_b = _mm512_dpbusd_epi32(sum_b, ones, y);
        }
        i += 64;
    }
    _mm512_reduce_add_epi32(acc) - 128 * _mm512_reduce_add_epi32(sum_b)
        + dot_portable(&a[whole..n], &b[whole..n])
}

/// The key of a passage's text in the cache.
pub fn key(model: &str, text: &str) -> [u8; 16] {
    let mut h = Sha256::new();
    h.update(model.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    let mut k = [0u8; 16];
    k.copy_from_slice(&h.finalize()[..16]);
    k
}

#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}; run `egovkb reindex`")]
    Corrupt { path: PathBuf, reason: String },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> VectorError + '_ {
    move |source| VectorError::Io {
        path: path.to_path_buf(),
        source,
    }
}

const CACHE_MAGIC: &[u8; 4] = b"EGC1";

/// The embedding cache: every passage vector computed so far, by key.
pub struct Cache {
    path: PathBuf,
    dim: usize,
    entries: HashMap<[u8; 16], Quantised>,
    new: Vec<([u8; 16], Quantised)>,
}

impl Cache {
    /// Load the cache at `path` (none yet: empty). A record cut short by a
    /// kill is dropped; a cache of another dimension is started afresh.
    pub fn open(path: &Path, dim: usize) -> Result<Self, VectorError> {
        let mut entries = HashMap::new();
        match fs::read(path) {
            Ok(bytes) if bytes.len() >= 8 && &bytes[..4] == CACHE_MAGIC => {
                let file_dim = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
                if file_dim as usize == dim {
                    let record = 16 + 4 + dim;
                    for r in bytes[8..].chunks_exact(record) {
                        let mut k = [0u8; 16];
                        k.copy_from_slice(&r[..16]);
                        let scale = f32::from_le_bytes([r[16], r[17], r[18], r[19]]);
                        // A damaged record is embedded again.
                        if !scale.is_finite() {
                            continue;
                        }
                        let values = r[20..].iter().map(|&b| b as i8).collect();
                        entries.insert(k, Quantised { scale, values });
                    }
                }
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(path)(e)),
        }
        Ok(Self {
            path: path.to_path_buf(),
            dim,
            entries,
            new: Vec::new(),
        })
    }

    pub fn get(&self, key: &[u8; 16]) -> Option<&Quantised> {
        self.entries.get(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Every vector held, in no order.
    pub fn vectors(&self) -> impl Iterator<Item = &Quantised> {
        self.entries.values()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn insert(&mut self, key: [u8; 16], v: Quantised) {
        if self.entries.insert(key, v.clone()).is_none() {
            self.new.push((key, v));
        }
    }

    /// Append what was inserted since the last save. The file is rewritten
    /// whole when its header is missing or of another dimension.
    pub fn save(&mut self) -> Result<(), VectorError> {
        if self.new.is_empty() {
            return Ok(());
        }
        let valid = fs::read(&self.path).ok().is_some_and(|b| {
            b.len() >= 8
                && &b[..4] == CACHE_MAGIC
                && u32::from_le_bytes([b[4], b[5], b[6], b[7]]) as usize == self.dim
                && (b.len() - 8) % (20 + self.dim) == 0
        });
        let (file, records): (File, Vec<(&[u8; 16], &Quantised)>) = if valid {
            let f = OpenOptions::new()
                .append(true)
                .open(&self.path)
                .map_err(io(&self.path))?;
            (f, self.new.iter().map(|(k, v)| (k, v)).collect())
        } else {
            let mut f = File::create(&self.path).map_err(io(&self.path))?;
            f.write_all(CACHE_MAGIC).map_err(io(&self.path))?;
            f.write_all(&(self.dim as u32).to_le_bytes())
                .map_err(io(&self.path))?;
            (f, self.entries.iter().collect())
        };
        let mut w = BufWriter::new(file);
        for (k, v) in records {
            w.write_all(k).map_err(io(&self.path))?;
            w.write_all(&v.scale.to_le_bytes())
                .map_err(io(&self.path))?;
            let bytes: Vec<u8> = v.values.iter().map(|&x| x as u8).collect();
            w.write_all(&bytes).map_err(io(&self.path))?;
        }
        let f = w.into_inner().map_err(|e| io(&self.path)(e.into_error()))?;
        f.sync_all().map_err(io(&self.path))?;
        self.new.clear();
        Ok(())
    }
}

/// One document's passages and their vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct DocVectors {
    pub id: String,
    pub passages: Vec<(Span, Quantised)>,
}

const FILE_MAGIC: &[u8; 4] = b"EGV1";
/// The file of a generation.
pub const FILE_NAME: &str = "vectors";

/// What a generation's vector file says about itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub model: String,
    pub dim: usize,
}

/// Write a generation's vectors (by temporary file and rename).
pub fn write(path: &Path, header: &Header, docs: &[DocVectors]) -> Result<(), VectorError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir).map_err(io(dir))?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        let mut put = |b: &[u8]| w.write_all(b).map_err(io(path));
        put(FILE_MAGIC)?;
        put(&(header.dim as u32).to_le_bytes())?;
        put(&(header.model.len() as u32).to_le_bytes())?;
        put(header.model.as_bytes())?;
        put(&(docs.len() as u32).to_le_bytes())?;
        for d in docs {
            put(&(d.id.len() as u32).to_le_bytes())?;
            put(d.id.as_bytes())?;
            put(&(d.passages.len() as u32).to_le_bytes())?;
            for (span, v) in &d.passages {
                put(&span.page.unwrap_or(0).to_le_bytes())?;
                put(&span.start.to_le_bytes())?;
                put(&span.end.to_le_bytes())?;
                put(&v.scale.to_le_bytes())?;
                let bytes: Vec<u8> = v.values.iter().map(|&x| x as u8).collect();
                put(&bytes)?;
            }
        }
        w.flush().map_err(io(path))?;
    }
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    Ok(())
}

/// The header of a generation's vector file alone; `Ok(None)` when it has
/// none.
pub fn read_header(path: &Path) -> Result<Option<Header>, VectorError> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let corrupt = |reason: &str| VectorError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut head = [0u8; 12];
    f.read_exact(&mut head).map_err(|_| corrupt("truncated"))?;
    if &head[..4] != FILE_MAGIC {
        return Err(corrupt("not a vector file"));
    }
    let dim = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    let model_len = u32::from_le_bytes([head[8], head[9], head[10], head[11]]) as usize;
    if model_len > 4096 {
        return Err(corrupt("implausible model name"));
    }
    let mut model = vec![0u8; model_len];
    f.read_exact(&mut model).map_err(|_| corrupt("truncated"))?;
    Ok(Some(Header {
        model: String::from_utf8_lossy(&model).into_owned(),
        dim,
    }))
}

/// Read a generation's vectors; `Ok(None)` when it has none.
pub fn read(path: &Path) -> Result<Option<(Header, Vec<DocVectors>)>, VectorError> {
    let mut docs = Vec::new();
    Ok(read_each(path, |d| docs.push(d))?.map(|header| (header, docs)))
}

/// Read a generation's vectors a document at a time, each given to `each`
/// as it is read (the file is never held whole); `Ok(None)` when it has
/// none.
pub fn read_each(
    path: &Path,
    mut each: impl FnMut(DocVectors),
) -> Result<Option<Header>, VectorError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    let corrupt = |reason: &str| VectorError::Corrupt {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    };
    let mut r = Reader(std::io::BufReader::new(file));
    if r.take(4).ok_or_else(|| corrupt("empty"))? != FILE_MAGIC {
        return Err(corrupt("not a vector file"));
    }
    let truncated = || corrupt("truncated");
    let dim = r.u32().ok_or_else(truncated)? as usize;
    let model_len = r.u32().ok_or_else(truncated)? as usize;
    if dim == 0 || dim > 8192 {
        return Err(corrupt("implausible dimension"));
    }
    if model_len > 4096 {
        return Err(corrupt("implausible model name"));
    }
    let model = String::from_utf8_lossy(&r.take(model_len).ok_or_else(truncated)?).into_owned();
    let n = r.u32().ok_or_else(truncated)? as usize;
    for _ in 0..n {
        let id_len = r.u32().ok_or_else(truncated)? as usize;
        if id_len > 1 << 20 {
            return Err(corrupt("implausible id"));
        }
        let id = String::from_utf8_lossy(&r.take(id_len).ok_or_else(truncated)?).into_owned();
        let count = r.u32().ok_or_else(truncated)? as usize;
        let mut passages = Vec::with_capacity(count.min(4096));
        for _ in 0..count {
            let page = r.u32().ok_or_else(truncated)?;
            let start = r.u32().ok_or_else(truncated)?;
            let end = r.u32().ok_or_else(truncated)?;
            let scale = f32::from_bits(r.u32().ok_or_else(truncated)?);
            if !scale.is_finite() {
                return Err(corrupt("a passage's scale is not a number"));
            }
            let values = r
                .take(dim)
                .ok_or_else(truncated)?
                .into_iter()
                .map(|b| b as i8)
                .collect();
            passages.push((
                Span {
                    page: (page > 0).then_some(page),
                    start,
                    end,
                },
                Quantised { scale, values },
            ));
        }
        each(DocVectors { id, passages });
    }
    Ok(Some(Header { model, dim }))
}

/// The file's bytes in order; `None` past its end.
struct Reader<R>(R);

impl<R: Read> Reader<R> {
    fn take(&mut self, n: usize) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; n];
        self.0.read_exact(&mut buf).ok()?;
        Some(buf)
    }
    fn u32(&mut self) -> Option<u32> {
        let mut b = [0u8; 4];
        self.0.read_exact(&mut b).ok()?;
        Some(u32::from_le_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dot_product_is_the_same_either_way() {
        for n in [0, 1, 15, 16, 17, 384, 385] {
            let a: Vec<i8> = (0..n).map(|i| ((i * 37) % 255) as u8 as i8).collect();
            let b: Vec<i8> = (0..n).map(|i| ((i * 91 + 7) % 255) as u8 as i8).collect();
            assert_eq!(dot(&a, &b), dot_portable(&a, &b), "{n}");
        }
        let extremes = vec![-128i8; 384];
        assert_eq!(dot(&extremes, &extremes), 384 * 128 * 128);
        // Each kernel the processor has, against the portable one.
        #[cfg(target_arch = "x86_64")]
        for n in [0, 1, 63, 64, 65, 384, 385] {
            let a: Vec<i8> = (0..n).map(|i| ((i * 37) % 256) as u8 as i8).collect();
            let b: Vec<i8> = (0..n).map(|i| ((i * 91 + 7) % 256) as u8 as i8).collect();
            let want = dot_portable(&a, &b);
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the processor has AVX2, checked just above.
                assert_eq!(unsafe { dot_avx2(&a, &b) }, want, "avx2 {n}");
            }
            if has_vnni() {
                // SAFETY: the processor has AVX-512 VNNI, checked.
                assert_eq!(unsafe { dot_vnni(&a, &b) }, want, "vnni {n}");
                let high = vec![127i8; n];
                let low = vec![-128i8; n];
                // SAFETY: as above.
                let got = unsafe { (dot_vnni(&high, &low), dot_vnni(&low, &high)) };
                assert_eq!(got, (dot_portable(&high, &low), dot_portable(&low, &high)));
            }
        }
    }

    #[test]
    fn the_most_similar_passage_is_found_either_way() {
        let mut seed = 5u64;
        let mut value = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((seed >> 40) % 2001) as f32 / 1000.0 - 1.0
        };
        for dim in [384, 100] {
            let query = Quantised::new(&(0..dim).map(|_| value()).collect::<Vec<_>>());
            let rows: Vec<Quantised> = (0..11)
                .map(|_| Quantised::new(&(0..dim).map(|_| value()).collect::<Vec<_>>()))
                .collect();
            let values: Vec<i8> = rows.iter().flat_map(|r| r.values.clone()).collect();
            let scales: Vec<f32> = rows.iter().map(|r| r.scale).collect();
            let want = rows
                .iter()
                .map(|r| similarity(&r.values, r.scale, &query.values, query.scale))
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                .unwrap();
            let got = most_similar(&values, &scales, &query).unwrap();
            assert_eq!(got.0, want.0, "{dim}");
            assert!((got.1 - want.1).abs() < 1e-6, "{dim}: {got:?} {want:?}");
            // The first of equals.
            let twice = [values.clone(), values.clone()].concat();
            let scales2 = [scales.clone(), scales.clone()].concat();
            assert_eq!(most_similar(&twice, &scales2, &query).unwrap().0, want.0);
        }
        assert_eq!(most_similar(&[], &[], &Quantised::new(&[0.5; 64])), None);
    }

    #[test]
    fn quantised_similarity_is_close_to_the_cosine() {
        let a: Vec<f32> = (0..384)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        let b: Vec<f32> = (0..384)
            .map(|i| ((i * 53 % 97) as f32 - 48.0) / 48.0)
            .collect();
        let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
        let (na, nb) = (norm(&a), norm(&b));
        let a: Vec<f32> = a.iter().map(|x| x / na).collect();
        let b: Vec<f32> = b.iter().map(|x| x / nb).collect();
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let (qa, qb) = (Quantised::new(&a), Quantised::new(&b));
        let approx = similarity(&qa.values, qa.scale, &qb.values, qb.scale);
        assert!((exact - approx).abs() < 0.01, "{exact} vs {approx}");
        let self_sim = similarity(&qa.values, qa.scale, &qa.values, qa.scale);
        assert!((self_sim - 1.0).abs() < 0.01);
    }

    #[test]
    fn files_round_trip_and_truncation_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        assert!(read(&path).unwrap().is_none());
        let header = Header {
            model: "m".into(),
            dim: 4,
        };
        let docs = vec![DocVectors {
            id: "d1".into(),
            passages: vec![(
                Span {
                    page: Some(2),
                    start: 3,
                    end: 9,
                },
                Quantised::new(&[0.5, -0.5, 0.5, -0.5]),
            )],
        }];
        write(&path, &header, &docs).unwrap();
        assert_eq!(read(&path).unwrap(), Some((header.clone(), docs.clone())));
        let bytes = fs::read(&path).unwrap();
        fs::write(&path, &bytes[..bytes.len() - 2]).unwrap();
        assert!(matches!(read(&path), Err(VectorError::Corrupt { .. })));
        // A scale that is not a number would rank its passage first.
        let mut nan = docs.clone();
        nan[0].passages[0].1.scale = f32::NAN;
        write(&path, &header, &nan).unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("not a number"), "{err}");
    }

    #[test]
    fn the_cache_survives_a_cut_record_and_appends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache");
        let mut c = Cache::open(&path, 4).unwrap();
        c.insert(key("m", "a"), Quantised::new(&[1.0, 0.0, 0.0, 0.0]));
        c.save().unwrap();
        c.insert(key("m", "b"), Quantised::new(&[0.0, 1.0, 0.0, 0.0]));
        c.save().unwrap();
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(&[1, 2, 3]); // a record cut by a kill
        fs::write(&path, &bytes).unwrap();
        let mut c = Cache::open(&path, 4).unwrap();
        assert_eq!(c.len(), 2);
        assert!(c.get(&key("m", "b")).is_some() && c.get(&key("m", "c")).is_none());
        // The next save rewrites a file with a cut record whole.
        c.insert(key("m", "c"), Quantised::new(&[0.0, 0.0, 1.0, 0.0]));
        c.save().unwrap();
        assert_eq!(Cache::open(&path, 4).unwrap().len(), 3);
        // Another dimension starts afresh.
        assert!(Cache::open(&path, 8).unwrap().is_empty());
    }
}
