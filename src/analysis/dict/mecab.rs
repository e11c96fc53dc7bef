//! Reads a compiled MeCab 0.996 dictionary (`sys.dic`, `unk.dic`,
//! `matrix.bin`, `char.bin`) and writes it back out in MeCab's source form
//! (`*.csv`, `unk.def`, `matrix.def`, `char.def`), which lindera's
//! `DictionaryBuilder` compiles into its own format.
//!
//! All binary integers are little-endian. The layouts are MeCab's own:
//! a 72-byte header, a Darts double array, 16-byte token records and
//! NUL-terminated feature strings.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// `magic ^ file_size` is stored in the first header word.
const DICTIONARY_MAGIC_ID: u32 = 0xEF71_8F77;
const DIC_VERSION: u32 = 102;
const HEADER_LEN: usize = 72;
const TOKEN_LEN: usize = 16;
/// `char.bin` maps U+0000..=U+FFFE.
const CHAR_TABLE_LEN: usize = 0xFFFF;

/// A malformed compiled dictionary: which file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
pub enum MecabError {
    #[error("{file}: {reason}")]
    Malformed { file: PathBuf, reason: String },
    #[error("reading or writing {file}: {source}")]
    Io {
        file: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn malformed(file: &Path, reason: impl Into<String>) -> MecabError {
    MecabError::Malformed {
        file: file.to_path_buf(),
        reason: reason.into(),
    }
}

fn io_err(file: &Path) -> impl FnOnce(std::io::Error) -> MecabError + '_ {
    move |source| MecabError::Io {
        file: file.to_path_buf(),
        source,
    }
}

/// Little-endian reads that never panic: out of range is `None`.
fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn i16_at(b: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}
fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}
fn i32_at(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One dictionary entry: a CSV row of MeCab's source form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub surface: String,
    pub left_id: u16,
    pub right_id: u16,
    pub cost: i16,
    /// The feature columns after the cost, comma-separated as in the source.
    pub feature: String,
}

/// A parsed `sys.dic` or `unk.dic`.
#[derive(Debug)]
pub struct CompiledDictionary {
    /// 0 for a system dictionary, 2 for the unknown-word dictionary.
    pub kind: u32,
    pub lsize: u32,
    pub rsize: u32,
    pub charset: String,
    /// Entries in token order (the order of the original CSV rows per key).
    pub entries: Vec<Entry>,
}

/// Every token's surface: the keys of the double array, each over the
/// token range it points to.
fn surfaces(darts: &[u8], lexsize: usize) -> Result<Vec<Option<String>>, String> {
    let mut slots: Vec<Option<String>> = vec![None; lexsize];
    for (key, value) in enumerate_darts(darts)? {
        let start = (value >> 8) as usize;
        let count = (value & 0xFF) as usize;
        let surface = String::from_utf8(key).map_err(|_| {
            "a key is not valid UTF-8 (only UTF-8 dictionaries are supported)".to_string()
        })?;
        for slot in slots
            .get_mut(start..start + count)
            .ok_or("a key points past the token table")?
        {
            *slot = Some(surface.clone());
        }
    }
    Ok(slots)
}

/// The entries: each token's surface, connection ids, cost and feature
/// string.
fn token_entries(
    slots: Vec<Option<String>>,
    tokens: &[u8],
    features: &[u8],
) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::with_capacity(slots.len());
    for (i, surface) in slots.into_iter().enumerate() {
        let surface = surface.ok_or_else(|| format!("token {i} has no key"))?;
        let t = i * TOKEN_LEN;
        let offset = u32_at(tokens, t + 8).unwrap_or(0) as usize;
        let rest = features
            .get(offset..)
            .ok_or_else(|| format!("token {i} has a feature offset past the end"))?;
        let end = rest
            .iter()
            .position(|&c| c == 0)
            .ok_or("an unterminated feature string")?;
        let feature = String::from_utf8(rest[..end].to_vec())
            .map_err(|_| "a feature string is not valid UTF-8".to_string())?;
        entries.push(Entry {
            surface,
            left_id: u16_at(tokens, t).unwrap_or(0),
            right_id: u16_at(tokens, t + 2).unwrap_or(0),
            cost: i16_at(tokens, t + 6).unwrap_or(0),
            feature,
        });
    }
    Ok(entries)
}

impl CompiledDictionary {
    /// Parse a compiled dictionary, checking the header against the file.
    pub fn parse(file: &Path, b: &[u8]) -> Result<Self, MecabError> {
        let bad = |r: &str| malformed(file, r);
        if b.len() < HEADER_LEN {
            return Err(bad("shorter than the 72-byte header"));
        }
        let word = |i: usize| u32_at(b, i * 4).unwrap_or(0);
        let (magic, version, kind, lexsize, lsize, rsize, dsize, tsize, fsize) = (
            word(0),
            word(1),
            word(2),
            word(3),
            word(4),
            word(5),
            word(6),
            word(7),
            word(8),
        );
        if magic ^ DICTIONARY_MAGIC_ID != b.len() as u32 {
            return Err(bad(
                "bad magic number (not a MeCab dictionary, or truncated)",
            ));
        }
        if version != DIC_VERSION {
            return Err(bad(&format!(
                "dictionary version {version}, expected {DIC_VERSION}"
            )));
        }
        let (dsize, tsize, fsize, lexsize) = (
            dsize as usize,
            tsize as usize,
            fsize as usize,
            lexsize as usize,
        );
        if HEADER_LEN
            .checked_add(dsize)
            .and_then(|n| n.checked_add(tsize))
            .and_then(|n| n.checked_add(fsize))
            != Some(b.len())
        {
            return Err(bad("section sizes do not add up to the file size"));
        }
        if tsize != lexsize * TOKEN_LEN || dsize % 8 != 0 {
            return Err(bad("token or double-array section has the wrong size"));
        }
        let charset = String::from_utf8_lossy(&b[40..72])
            .trim_end_matches('\0')
            .to_string();
        let darts = &b[HEADER_LEN..HEADER_LEN + dsize];
        let tokens = &b[HEADER_LEN + dsize..HEADER_LEN + dsize + tsize];
        let features = &b[HEADER_LEN + dsize + tsize..];

        let slots = surfaces(darts, lexsize).map_err(|r| bad(&r))?;
        let entries = token_entries(slots, tokens, features).map_err(|r| bad(&r))?;
        Ok(Self {
            kind,
            lsize,
            rsize,
            charset,
            entries,
        })
    }

    /// Write the entries as MeCab CSV rows: `surface,left,right,cost,feature`.
    pub fn write_csv(&self, out: &mut impl Write) -> std::io::Result<()> {
        for e in &self.entries {
            write_csv_field(out, &e.surface)?;
            writeln!(
                out,
                ",{},{},{},{}",
                e.left_id, e.right_id, e.cost, e.feature
            )?;
        }
        Ok(())
    }
}

/// Quote a CSV field when it holds a comma or a quote (MeCab's own escaping).
fn write_csv_field(out: &mut impl Write, field: &str) -> std::io::Result<()> {
    if field.contains([',', '"']) {
        write!(out, "\"{}\"", field.replace('"', "\"\""))
    } else {
        out.write_all(field.as_bytes())
    }
}

/// Walk a Darts double array (`{i32 base; u32 check}` units) and return every
/// key with its value. Iterative, and bounded by the array's size, so a
/// corrupt array cannot loop forever or overflow the stack.
fn enumerate_darts(units: &[u8]) -> Result<Vec<(Vec<u8>, u32)>, String> {
    let n = units.len() / 8;
    let base = |i: usize| i32_at(units, i * 8);
    let check = |i: usize| u32_at(units, i * 8 + 4);
    let root = base(0).ok_or("empty double array")?;
    // Units grouped by their check value (counting sort), so that the
    // children of a node are found without scanning all 256 possible bytes.
    let mut first = vec![0u32; n + 1];
    for p in 1..n {
        if let Some(c) = check(p).map(|c| c as usize)
            && c < n
        {
            first[c + 1] += 1;
        }
    }
    for i in 0..n {
        first[i + 1] += first[i];
    }
    let mut fill = first.clone();
    let mut by_check = vec![0u32; first[n] as usize];
    for p in 1..n {
        if let Some(c) = check(p).map(|c| c as usize)
            && c < n
        {
            by_check[fill[c] as usize] = p as u32;
            fill[c] += 1;
        }
    }
    let mut out = Vec::new();
    // (node base, key so far)
    let mut stack: Vec<(i64, Vec<u8>)> = vec![(i64::from(root), Vec::new())];
    let mut visited = 0usize;
    while let Some((b, key)) = stack.pop() {
        visited += 1;
        if visited > n + 1 {
            return Err("double array has a cycle".into());
        }
        if b < 0 || b as usize >= n {
            continue;
        }
        let bu = b as usize;
        // Terminal: unit b itself, with check == b and a negative base.
        if check(bu) == Some(bu as u32)
            && let Some(v) = base(bu)
            && v < 0
        {
            out.push((key.clone(), (-(i64::from(v)) - 1) as u32));
        }
        // Children (units p = b + c + 1 whose check is b), in reverse so
        // that keys come out in byte order.
        let group = &by_check[first[bu] as usize..first[bu + 1] as usize];
        for &p in group.iter().rev() {
            let p = p as usize;
            let Some(c) = p.checked_sub(bu + 1).filter(|c| (1..=255).contains(c)) else {
                continue;
            };
            if let Some(nb) = base(p) {
                let mut k = key.clone();
                k.push(c as u8);
                stack.push((i64::from(nb), k));
            }
        }
    }
    Ok(out)
}

/// The connection cost matrix: `cost[l + lsize * r]`.
#[derive(Debug)]
pub struct Matrix {
    pub lsize: u16,
    pub rsize: u16,
    pub costs: Vec<i16>,
}

impl Matrix {
    pub fn parse(file: &Path, b: &[u8]) -> Result<Self, MecabError> {
        let lsize = u16_at(b, 0).ok_or_else(|| malformed(file, "no header"))?;
        let rsize = u16_at(b, 2).ok_or_else(|| malformed(file, "no header"))?;
        let cells = usize::from(lsize) * usize::from(rsize);
        if b.len() != 4 + 2 * cells {
            return Err(malformed(
                file,
                format!("{lsize} x {rsize} matrix needs {} bytes", 4 + 2 * cells),
            ));
        }
        let costs = b[4..]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(Self {
            lsize,
            rsize,
            costs,
        })
    }

    /// `lsize rsize`, then one `l r cost` line per cell (MeCab's order).
    pub fn write_def(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "{} {}", self.lsize, self.rsize)?;
        let (ls, rs) = (usize::from(self.lsize), usize::from(self.rsize));
        let mut line = String::with_capacity(32);
        for l in 0..ls {
            for r in 0..rs {
                use std::fmt::Write as _;
                line.clear();
                let _ = writeln!(line, "{l} {r} {}", self.costs[l + ls * r]);
                out.write_all(line.as_bytes())?;
            }
        }
        Ok(())
    }
}

/// One character category of `char.def`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub name: String,
    pub invoke: bool,
    pub group: bool,
    pub length: u32,
}

/// The character table of `char.bin`.
#[derive(Debug)]
pub struct CharTable {
    pub categories: Vec<Category>,
    /// Per code point U+0000..=U+FFFE: (category mask, primary category).
    pub chars: Vec<(u32, u8)>,
}

impl CharTable {
    pub fn parse(file: &Path, b: &[u8]) -> Result<Self, MecabError> {
        let n = u32_at(b, 0).ok_or_else(|| malformed(file, "no header"))? as usize;
        if n == 0 || n > 18 {
            return Err(malformed(
                file,
                format!("{n} categories (1 to 18 expected)"),
            ));
        }
        let table_at = 4 + 32 * n;
        if b.len() != table_at + 4 * CHAR_TABLE_LEN {
            return Err(malformed(file, "wrong size for its category count"));
        }
        let names: Vec<String> = (0..n)
            .map(|i| {
                String::from_utf8_lossy(&b[4 + 32 * i..4 + 32 * (i + 1)])
                    .trim_end_matches('\0')
                    .to_string()
            })
            .collect();
        let mut props: Vec<Option<(bool, bool, u32)>> = vec![None; n];
        let mut chars = Vec::with_capacity(CHAR_TABLE_LEN);
        for cp in 0..CHAR_TABLE_LEN {
            let v = u32_at(b, table_at + 4 * cp).unwrap_or(0);
            let mask = v & 0x3_FFFF;
            let primary = ((v >> 18) & 0xFF) as u8;
            if usize::from(primary) >= n {
                return Err(malformed(
                    file,
                    format!("U+{cp:04X} has category {primary}"),
                ));
            }
            let length = (v >> 26) & 0xF;
            let group = (v >> 30) & 1 == 1;
            let invoke = (v >> 31) & 1 == 1;
            props[usize::from(primary)].get_or_insert((invoke, group, length));
            chars.push((mask, primary));
        }
        // A category no character has as primary keeps MeCab's neutral values.
        let categories = names
            .into_iter()
            .zip(props)
            .map(|(name, p)| {
                let (invoke, group, length) = p.unwrap_or((false, true, 0));
                Category {
                    name,
                    invoke,
                    group,
                    length,
                }
            })
            .collect();
        Ok(Self { categories, chars })
    }

    /// `char.def`: the categories, then non-overlapping code point ranges
    /// (primary category first). Code points that are only DEFAULT are left
    /// out, since DEFAULT is what an unlisted character gets.
    pub fn write_def(&self, out: &mut impl Write) -> std::io::Result<()> {
        for c in &self.categories {
            writeln!(
                out,
                "{} {} {} {}",
                c.name,
                u8::from(c.invoke),
                u8::from(c.group),
                c.length
            )?;
        }
        let default = self.categories.iter().position(|c| c.name == "DEFAULT");
        let mut cp = 0usize;
        while cp < self.chars.len() {
            let here = self.chars[cp];
            let mut end = cp;
            while end + 1 < self.chars.len() && self.chars[end + 1] == here {
                end += 1;
            }
            let (mask, primary) = here;
            let only_default = default.is_some_and(|d| usize::from(primary) == d && mask == 1 << d);
            if !only_default {
                if cp == end {
                    write!(out, "0x{cp:04X}")?;
                } else {
                    write!(out, "0x{cp:04X}..0x{end:04X}")?;
                }
                write!(out, " {}", self.categories[usize::from(primary)].name)?;
                for (i, c) in self.categories.iter().enumerate() {
                    if i != usize::from(primary) && mask & (1 << i) != 0 {
                        write!(out, " {}", c.name)?;
                    }
                }
                writeln!(out)?;
            }
            cp = end + 1;
        }
        Ok(())
    }
}

/// What a conversion produced, for the install summary and the tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversionStats {
    pub entries: usize,
    pub unknown_entries: usize,
    pub matrix: (u16, u16),
    pub categories: usize,
}

/// Convert the compiled dictionary in `from` into MeCab source files in `to`.
/// `progress` is called with a short label before each step.
pub fn convert(
    from: &Path,
    to: &Path,
    progress: &dyn crate::progress::Progress,
) -> Result<ConversionStats, MecabError> {
    let read = |name: &str| -> Result<(PathBuf, Vec<u8>), MecabError> {
        let p = from.join(name);
        let b = std::fs::read(&p).map_err(io_err(&p))?;
        Ok((p, b))
    };
    let create = |name: &str| -> Result<(PathBuf, BufWriter<File>), MecabError> {
        let p = to.join(name);
        let f = File::create(&p).map_err(io_err(&p))?;
        Ok((p, BufWriter::with_capacity(1 << 20, f)))
    };
    let finish = |p: &Path, mut w: BufWriter<File>| w.flush().map_err(io_err(p));

    progress.step("reading sys.dic");
    let (p, b) = read("sys.dic")?;
    let sys = CompiledDictionary::parse(&p, &b)?;
    drop(b);
    if sys.kind != 0 {
        return Err(malformed(&p, "not a system dictionary"));
    }
    if !sys.charset.eq_ignore_ascii_case("utf-8") && !sys.charset.eq_ignore_ascii_case("utf8") {
        return Err(malformed(
            &p,
            format!("charset {}, expected UTF-8", sys.charset),
        ));
    }
    progress.step("writing the lexicon (CSV)");
    let (op, mut w) = create("lex.csv")?;
    sys.write_csv(&mut w).map_err(io_err(&op))?;
    finish(&op, w)?;

    progress.step("reading unk.dic");
    let (p, b) = read("unk.dic")?;
    let unk = CompiledDictionary::parse(&p, &b)?;
    if unk.kind != 2 {
        return Err(malformed(&p, "not an unknown-word dictionary"));
    }
    let (op, mut w) = create("unk.def")?;
    unk.write_csv(&mut w).map_err(io_err(&op))?;
    finish(&op, w)?;

    progress.step("reading char.bin");
    let (p, b) = read("char.bin")?;
    let chars = CharTable::parse(&p, &b)?;
    let (op, mut w) = create("char.def")?;
    chars.write_def(&mut w).map_err(io_err(&op))?;
    finish(&op, w)?;

    progress.step("writing the connection matrix");
    let (p, b) = read("matrix.bin")?;
    let matrix = Matrix::parse(&p, &b)?;
    drop(b);
    if (u32::from(matrix.lsize), u32::from(matrix.rsize)) != (sys.lsize, sys.rsize) {
        return Err(malformed(&p, "matrix size does not match sys.dic"));
    }
    let (op, mut w) = create("matrix.def")?;
    matrix.write_def(&mut w).map_err(io_err(&op))?;
    finish(&op, w)?;

    Ok(ConversionStats {
        entries: sys.entries.len(),
        unknown_entries: unk.entries.len(),
        matrix: (matrix.lsize, matrix.rsize),
        categories: chars.categories.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Build a tiny double array by hand: keys "a" (value 0) and "ab" (value 1 << 8 | 1).
    fn tiny_darts() -> Vec<u8> {
        let mut units = vec![(0i32, 0u32); 300];
        // root base 1
        units[0] = (1, 0);
        // child 'a' (97) of root: p = 1 + 97 + 1 = 99, check 1, base 100
        units[99] = (100, 1);
        // terminal of node 100: unit 100, check 100, base -(value) - 1 with value = 1 (start 0, count 1)
        units[100] = (-(1) - 1, 100);
        // child 'b' (98) of node 100: p = 100 + 98 + 1 = 199, check 100, base 200
        units[199] = (200, 100);
        // terminal of node 200: value (1 << 8) | 1
        units[200] = (-((1 << 8) | 1) - 1, 200);
        units
            .iter()
            .flat_map(|(b, c)| b.to_le_bytes().into_iter().chain(c.to_le_bytes()))
            .collect()
    }

    #[test]
    fn enumerates_a_hand_built_double_array() {
        let keys = enumerate_darts(&tiny_darts()).unwrap();
        assert_eq!(
            keys,
            vec![(b"a".to_vec(), 1), (b"ab".to_vec(), (1 << 8) | 1)]
        );
    }

    #[test]
    fn rejects_truncated_and_foreign_files() {
        let p = Path::new("sys.dic");
        assert!(CompiledDictionary::parse(p, b"short").is_err());
        assert!(CompiledDictionary::parse(p, &[0u8; 200]).is_err());
        assert!(Matrix::parse(p, &[2, 0, 2, 0, 1]).is_err());
        assert!(CharTable::parse(p, &[1, 0, 0, 0]).is_err());
    }

    #[test]
    fn quotes_a_comma_surface() {
        let mut out = Vec::new();
        write_csv_field(&mut out, ",").unwrap();
        assert_eq!(out, b"\",\"");
    }

    #[test]
    fn matrix_def_uses_mecab_cell_order() {
        // lsize 2, rsize 3: cell (l, r) at l + 2 * r
        let costs: Vec<i16> = (0..6).collect();
        let mut bin = vec![2, 0, 3, 0];
        for c in &costs {
            bin.extend_from_slice(&c.to_le_bytes());
        }
        let m = Matrix::parse(Path::new("matrix.bin"), &bin).unwrap();
        let mut out = Vec::new();
        m.write_def(&mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("2 3\n0 0 0\n0 1 2\n0 2 4\n1 0 1\n"));
    }
}
