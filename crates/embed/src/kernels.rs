//! Matrix products of 8-bit activations with 4-bit weights.
//!
//! Weights are kept as one byte per value (the unsigned nibble 0..=15, the
//! weight being nibble − 8) with one f32 scale per block of 32. Activations
//! are quantised per block of 32 to i8 with an f32 scale, as the package's
//! engine does. For a row `w` and a token `a` the product is
//! `Σ_blocks dw·da·(⟨nibbles, a⟩ − 8·Σa)`: the integer dot products are
//! exact, and the −8 offset is folded into the integer accumulator before
//! the block's scale is applied.
//!
//! The AVX-512 VNNI kernel takes two blocks (64 bytes) per instruction
//! (`vpdpbusd`, unsigned weights × signed activations into 16 i32 lanes,
//! eight per block) for four rows and four tokens at a time; the portable
//! kernel computes the same sums one value at a time.

use crate::file::{BLOCK, Q4, Q4_BLOCK_BYTES, f16_to_f32};

/// Output rows one 512-bit register holds (16 lanes of i32 or f32).
const LANES: usize = 16;
/// Consecutive values of a row that one i32 lane multiplies (`vpdpbusd`).
const QUAD: usize = 4;

/// Which implementation runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// AVX-512 with VNNI (`vpdpbusd`).
    Vnni,
    /// Plain Rust, any processor.
    Portable,
}

impl Kernel {
    /// The best kernel this processor can run.
    pub fn detect() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx512f")
                && std::arch::is_x86_feature_detected!("avx512bw")
                && std::arch::is_x86_feature_detected!("avx512vnni")
            {
                return Kernel::Vnni;
            }
        }
        Kernel::Portable
    }

    pub fn name(self) -> &'static str {
        match self {
            Kernel::Vnni => "avx512-vnni",
            Kernel::Portable => "portable",
        }
    }
}

/// A weight matrix, `rows` × `cols`, packed for the kernels: rows in groups
/// of 16, and within a group, for every four columns, the 16 rows' four
/// nibbles side by side (64 bytes: one register, one `vpdpbusd` operand).
pub struct Matrix {
    pub rows: usize,
    pub cols: usize,
    /// Nibbles (0..=15, the weight being nibble − 8), one per byte.
    packed: Vec<u8>,
    /// Per group of 16 rows and block: the 16 rows' scales.
    scales: Vec<f32>,
    bias: Vec<f32>,
}

impl Matrix {
    /// Unpack a four-bit matrix from the file (byte j of a block holds
    /// value j in its low nibble and value j + 16 in its high one). `rows`
    /// must be a multiple of 16 and `cols` of 32 (checked by the reader).
    pub fn new(q: Q4<'_>, bias: Vec<f32>) -> Matrix {
        let blocks = q.cols / BLOCK;
        let mut packed = vec![0u8; q.rows * q.cols];
        let mut scales = vec![0f32; q.rows * blocks];
        for (i, raw) in q.data.chunks_exact(Q4_BLOCK_BYTES).enumerate() {
            let (row, b) = (i / blocks, i % blocks);
            let (g, r) = (row / LANES, row % LANES);
            scales[(g * blocks + b) * LANES + r] = f16_to_f32(u16::from_le_bytes([raw[0], raw[1]]));
            for (j, &byte) in raw[2..].iter().enumerate() {
                for (k, nibble) in [
                    (b * BLOCK + j, byte & 0x0f),
                    (b * BLOCK + j + 16, byte >> 4),
                ] {
                    packed[((g * q.cols / QUAD + k / QUAD) * LANES + r) * QUAD + k % QUAD] = nibble;
                }
            }
        }
        Matrix {
            rows: q.rows,
            cols: q.cols,
            packed,
            scales,
            bias,
        }
    }

    fn nibble(&self, row: usize, k: usize) -> u8 {
        let (g, r) = (row / LANES, row % LANES);
        self.packed[((g * self.cols / QUAD + k / QUAD) * LANES + r) * QUAD + k % QUAD]
    }

    fn scale(&self, row: usize, b: usize) -> f32 {
        self.scales[((row / LANES) * (self.cols / BLOCK) + b) * LANES + row % LANES]
    }
}

/// Activations of `tokens` × `cols`, quantised per block of 32.
#[derive(Default)]
pub struct Quantised {
    tokens: usize,
    cols: usize,
    values: Vec<i8>,
    /// Per token and block: −8 × the sum of its values (the weights'
    /// nibble offset, folded into the integer dot product).
    offsets: Vec<i32>,
    /// Per token and block: its scale.
    scales: Vec<f32>,
}

impl Quantised {
    /// Quantise `x` (`tokens` × `cols`, row-major), reusing the buffers:
    /// per block of 32, the scale is the largest magnitude / 127 and each
    /// value is rounded half to even.
    pub fn quantise(&mut self, kernel: Kernel, x: &[f32], cols: usize) {
        let tokens = x.len() / cols;
        let blocks = tokens * (cols / BLOCK);
        self.tokens = tokens;
        self.cols = cols;
        self.values.resize(tokens * cols, 0);
        self.offsets.resize(blocks, 0);
        self.scales.resize(blocks, 0.0);
        for (b, block) in x.chunks_exact(BLOCK).enumerate() {
            let out = &mut self.values[b * BLOCK..(b + 1) * BLOCK];
            let (d, sum) = match kernel {
                #[cfg(target_arch = "x86_64")]
                // SAFETY: `Kernel::Vnni` implies AVX-512 F and BW.
                Kernel::Vnni => unsafe { vnni::quantise_block(block, out) },
                _ => quantise_block(block, out),
            };
            self.offsets[b] = -8 * sum;
            self.scales[b] = d;
        }
    }
}

/// One block: its scale and the sum of its quantised values.
fn quantise_block(block: &[f32], out: &mut [i8]) -> (f32, i32) {
    let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
    let d = amax / 127.0;
    let inv = if d > 0.0 { 1.0 / d } else { 0.0 };
    let mut sum = 0i32;
    for (o, &v) in out.iter_mut().zip(block) {
        let q = (v * inv).round_ties_even().clamp(-128.0, 127.0) as i32;
        *o = q as i8;
        sum += q;
    }
    (d, sum)
}

/// Part of a matrix product: tokens of the activations and groups of 16
/// rows of the weights. Its output is `tokens.len()` rows of
/// `16 × groups.len()` values.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub tokens: std::ops::Range<usize>,
    pub groups: std::ops::Range<usize>,
}

impl Part {
    fn width(&self) -> usize {
        self.groups.len() * LANES
    }
}

/// Rows per group of a [`Part`].
pub const GROUP: usize = LANES;

/// `y[t][o] = bias[o] + Σ w[o]·a[t]` for the tokens and rows of `part`,
/// written to `y` (`part.tokens.len()` rows of `part`'s width).
pub fn matmul(kernel: Kernel, w: &Matrix, a: &Quantised, part: &Part, y: &mut [f32]) {
    assert!(
        w.cols == a.cols
            && part.tokens.end <= a.tokens
            && w.rows.is_multiple_of(LANES)
            && part.groups.end <= w.rows / LANES
            && y.len() == part.tokens.len() * part.width()
    );
    match kernel {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Kernel::Vnni` is only chosen by `detect` when the
        // processor has these features; sizes are checked above.
        Kernel::Vnni => unsafe { vnni::matmul(w, a, part, y) },
        _ => portable(w, a, part, y),
    }
}

fn portable(w: &Matrix, a: &Quantised, part: &Part, y: &mut [f32]) {
    let cols = w.cols;
    let blocks = cols / BLOCK;
    let o0 = part.groups.start * LANES;
    for (t, tok) in part.tokens.clone().enumerate() {
        let av = &a.values[tok * cols..(tok + 1) * cols];
        for o in o0..part.groups.end * LANES {
            let mut acc = 0f32;
            for b in 0..blocks {
                let dot: i32 = (b * BLOCK..(b + 1) * BLOCK)
                    .map(|k| w.nibble(o, k) as i32 * av[k] as i32)
                    .sum();
                let i = tok * blocks + b;
                acc += w.scale(o, b) * a.scales[i] * (dot + a.offsets[i]) as f32;
            }
            y[t * part.width() + o - o0] = w.bias[o] + acc;
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod vnni {
    use super::*;
    use std::arch::x86_64::*;

    /// Tokens computed together (each group of weights loaded once for
    /// them); the tiles below are written for 1 to 4.
    const TOKENS: usize = 4;

    /// [`super::quantise_block`] for one block of 32.
    ///
    /// # Safety
    /// The processor must have AVX-512 F and BW.
    #[target_feature(enable = "avx512f,avx512bw")]
    pub unsafe fn quantise_block(block: &[f32], out: &mut [i8]) -> (f32, i32) {
        assert!(block.len() == BLOCK && out.len() == BLOCK);
        // SAFETY: both slices hold 32 values, checked above.
        unsafe {
            let lo = _mm512_loadu_ps(block.as_ptr());
            let hi = _mm512_loadu_ps(block.as_ptr().add(16));
            let amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi)));
            let d = amax / 127.0;
            let inv = _mm512_set1_ps(if d > 0.0 { 1.0 / d } else { 0.0 });
            // Round half to even, then saturate.
            const NEAREST: i32 = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
            let qlo = _mm512_cvt_roundps_epi32::<NEAREST>(_mm512_mul_ps(lo, inv));
            let qhi = _mm512_cvt_roundps_epi32::<NEAREST>(_mm512_mul_ps(hi, inv));
            let (min, max) = (_mm512_set1_epi32(-128), _mm512_set1_epi32(127));
            let qlo = _mm512_min_epi32(_mm512_max_epi32(qlo, min), max);
            let qhi = _mm512_min_epi32(_mm512_max_epi32(qhi, min), max);
            _mm_storeu_si128(out.as_mut_ptr().cast(), _mm512_cvtsepi32_epi8(qlo));
            _mm_storeu_si128(out.as_mut_ptr().add(16).cast(), _mm512_cvtsepi32_epi8(qhi));
            (d, _mm512_reduce_add_epi32(_mm512_add_epi32(qlo, qhi)))
        }
    }

    /// # Safety
    /// The processor must have AVX-512 F, BW and VNNI; the caller checks sizes.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    pub unsafe fn matmul(w: &Matrix, a: &Quantised, part: &Part, y: &mut [f32]) {
        let (n, width) = (part.tokens.len(), part.width());
        let mut t = 0;
        while t < n {
            let step = (n - t).min(TOKENS);
            for g in part.groups.clone() {
                let out = &mut y[t * width + (g - part.groups.start) * LANES..];
                let tok = part.tokens.start + t;
                // SAFETY: as this function's.
                unsafe {
                    match step {
                        4 => tile::<4>(w, g, a, tok, out, width),
                        3 => tile::<3>(w, g, a, tok, out, width),
                        2 => tile::<2>(w, g, a, tok, out, width),
                        _ => tile::<1>(w, g, a, tok, out, width),
                    }
                };
            }
            t += step;
        }
    }

    /// The 16 rows of group `g` × tokens `tok..tok + T`; `y` starts at
    /// token `tok`'s first value of the group, one token every `stride`. Per block, each token's i32 lanes start at its −8·Σa,
    /// gather eight `vpdpbusd` (four columns each, the token's four values
    /// broadcast), then are scaled by the rows' and the token's scales.
    #[target_feature(enable = "avx512f,avx512bw,avx512vnni")]
    unsafe fn tile<const T: usize>(
        w: &Matrix,
        g: usize,
        a: &Quantised,
        tok: usize,
        y: &mut [f32],
        stride: usize,
    ) {
        let cols = w.cols;
        let blocks = cols / BLOCK;
        let mut acc = [_mm512_setzero_ps(); T];
        let wbase = g * cols / QUAD * LANES * QUAD;
        for b in 0..blocks {
            // SAFETY: offsets stay within the buffers, whose sizes `matmul`
            // checked (tokens < a.tokens, rows = groups × 16).
            unsafe {
                let mut dots = [_mm512_setzero_si512(); T];
                for (t, d) in dots.iter_mut().enumerate() {
                    *d = _mm512_set1_epi32(*a.offsets.get_unchecked((tok + t) * blocks + b));
                }
                for q in 0..BLOCK / QUAD {
                    let k = b * BLOCK + q * QUAD;
                    let wv = _mm512_loadu_si512(w.packed.as_ptr().add(wbase + k * LANES).cast());
                    for (t, d) in dots.iter_mut().enumerate() {
                        let quad = a.values.as_ptr().add((tok + t) * cols + k).cast::<i32>();
                        *d = _mm512_dpbusd_epi32(*d, wv, _mm512_set1_epi32(quad.read_unaligned()));
                    }
                }
                let ws = _mm512_loadu_ps(w.scales.as_ptr().add((g * blocks + b) * LANES));
                for (t, d) in dots.iter().enumerate() {
                    let sa = _mm512_set1_ps(*a.scales.get_unchecked((tok + t) * blocks + b));
                    acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(*d), _mm512_mul_ps(ws, sa), acc[t]);
                }
            }
        }
        // SAFETY: `y` holds T rows of `stride` ≥ 16 values from here (checked by `matmul`).
        unsafe {
            let bias = _mm512_loadu_ps(w.bias.as_ptr().add(g * LANES));
            for (t, v) in acc.iter().enumerate() {
                _mm512_storeu_ps(y.as_mut_ptr().add(t * stride), _mm512_add_ps(*v, bias));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A random-looking matrix in the file's block format.
    fn matrix(rows: usize, cols: usize, seed: u32) -> Matrix {
        let mut s = seed;
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            s
        };
        let mut data = Vec::new();
        for _ in 0..rows * cols / BLOCK {
            data.extend_from_slice(&[0x66, 0x2e]); // f16 0.1
            for _ in 0..16 {
                data.push(next() as u8);
            }
        }
        let bias = (0..rows).map(|i| i as f32 * 0.01).collect();
        Matrix::new(
            Q4 {
                rows,
                cols,
                data: &data,
            },
            bias,
        )
    }

    #[test]
    fn kernels_agree_with_the_definition() {
        let (rows, cols, tokens) = (32, 128, 7);
        let w = matrix(rows, cols, 7);
        let x: Vec<f32> = (0..tokens * cols)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 17.0)
            .collect();
        let mut q = Quantised::default();
        q.quantise(Kernel::Portable, &x, cols);
        // Reference: dequantise both sides and multiply in f64.
        let mut expected = vec![0f64; tokens * rows];
        for t in 0..tokens {
            for o in 0..rows {
                let mut s = w.bias[o] as f64;
                for c in 0..cols {
                    let b = c / BLOCK;
                    let wv = (w.nibble(o, c) as f64 - 8.0) * w.scale(o, b) as f64;
                    let av = q.values[t * cols + c] as f64 * q.scales[t * cols / BLOCK + b] as f64;
                    s += wv * av;
                }
                expected[t * rows + o] = s;
            }
        }
        for kernel in [Kernel::Portable, Kernel::detect()] {
            let mut y = vec![0f32; tokens * rows];
            let all = Part {
                tokens: 0..tokens,
                groups: 0..rows / GROUP,
            };
            matmul(kernel, &w, &q, &all, &mut y);
            for (got, want) in y.iter().zip(&expected) {
                assert!(
                    (*got as f64 - want).abs() < 1e-3 * want.abs().max(1.0),
                    "{kernel:?}: {got} vs {want}"
                );
            }
            // A sub-range of tokens gives the same rows.
            let mut part = vec![0f32; 2 * rows];
            let last = Part {
                tokens: 5..7,
                groups: 0..rows / GROUP,
            };
            matmul(kernel, &w, &q, &last, &mut part);
            assert_eq!(&part[..], &y[5 * rows..]);
            // So does a range of rows.
            let mut half = vec![0f32; tokens * GROUP];
            let second = Part {
                tokens: 0..tokens,
                groups: 1..2,
            };
            matmul(kernel, &w, &q, &second, &mut half);
            for t in 0..tokens {
                assert_eq!(
                    &half[t * GROUP..(t + 1) * GROUP],
                    &y[t * rows + GROUP..(t + 1) * rows]
                );
            }
        }
    }

    #[test]
    fn quantisation_rounds_half_to_even_and_keeps_zero() {
        for kernel in [Kernel::Portable, Kernel::detect()] {
            let mut q = Quantised::default();
            let mut x = vec![0f32; BLOCK];
            x[0] = 127.0;
            x[1] = 0.5;
            x[2] = 1.5;
            x[3] = -127.0;
            x[31] = 2.5;
            q.quantise(kernel, &x, BLOCK);
            assert_eq!(&q.values[..4], &[127, 0, 2, -127], "{kernel:?}");
            assert_eq!(q.values[31], 2, "{kernel:?}");
            assert_eq!(q.offsets[0], -8 * 4, "{kernel:?}");
            assert_eq!(q.scales[0], 1.0, "{kernel:?}");
            q.quantise(kernel, &[0.0; BLOCK], BLOCK);
            assert!(q.values.iter().all(|&v| v == 0));
            // Both kernels agree on arbitrary values.
            let x: Vec<f32> = (0..4 * BLOCK)
                .map(|i| ((i * 7919 % 997) as f32 - 498.0) / 31.0)
                .collect();
            let mut p = Quantised::default();
            p.quantise(Kernel::Portable, &x, 2 * BLOCK);
            q.quantise(kernel, &x, 2 * BLOCK);
            assert_eq!(
                (&p.values, &p.offsets, &p.scales),
                (&q.values, &q.offsets, &q.scales)
            );
        }
    }
}
