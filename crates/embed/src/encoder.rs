//! The BERT encoder of multilingual-e5-small: embeddings and layer norm,
//! then per layer self-attention and a GELU feed-forward block, each
//! followed by a residual layer norm; the output is the mean of the token
//! states.

use rayon::prelude::*;

use crate::Error;
use crate::file::{BLOCK, Dims, Q4_BLOCK_BYTES, Tensors, f16_to_f32};
use crate::kernels::{GROUP, Kernel, Matrix, Part, Quantised, matmul};

struct Layer {
    q: Matrix,
    k: Matrix,
    v: Matrix,
    attn_out: Matrix,
    attn_norm: (Vec<f32>, Vec<f32>),
    ff_in: Matrix,
    ff_out: Matrix,
    out_norm: (Vec<f32>, Vec<f32>),
}

/// The encoder's weights, ready for the kernels.
pub struct Encoder {
    dims: Dims,
    kernel: Kernel,
    /// Word embeddings in the file's four-bit blocks (dequantised per token).
    word: Vec<u8>,
    position: Vec<f32>,
    token_type: Vec<f32>,
    embed_norm: (Vec<f32>, Vec<f32>),
    layers: Vec<Layer>,
}

/// Width of an attention head (the model's 384 / 12).
pub const HEAD: usize = 32;

/// From this many tokens a matrix product is split across threads.
const SPLIT_TOKENS: usize = 64;

impl Encoder {
    pub fn new(dims: Dims, t: Tensors<'_>) -> Result<Encoder, Error> {
        let linear = |(q, b)| Matrix::new(q, b);
        let layers = t
            .layers
            .into_iter()
            .map(|l| Layer {
                q: linear(l.q),
                k: linear(l.k),
                v: linear(l.v),
                attn_out: linear(l.attn_out),
                attn_norm: l.attn_norm,
                ff_in: linear(l.ff_in),
                ff_out: linear(l.ff_out),
                out_norm: l.out_norm,
            })
            .collect();
        Ok(Encoder {
            dims,
            kernel: Kernel::detect(),
            word: t.word.data.to_vec(),
            position: t.position,
            token_type: t.token_type,
            embed_norm: t.embed_norm,
            layers,
        })
    }

    pub fn dims(&self) -> &Dims {
        &self.dims
    }

    pub fn kernel_name(&self) -> &'static str {
        self.kernel.name()
    }

    /// The mean of the last layer's states for one window of token ids
    /// (`<s>` … `</s>`); ids past the model's positions are not read.
    pub fn mean_pooled(&self, ids: &[u32]) -> Vec<f32> {
        #[cfg(target_arch = "x86_64")]
        if self.kernel == Kernel::Vnni {
            // SAFETY: `Kernel::Vnni` is chosen only on processors with these
            // features.
            return unsafe { self.forward_avx512(ids) };
        }
        self.forward(ids)
    }

    /// [`Self::forward`] compiled for AVX-512, so that its element-wise
    /// loops (attention, layer norm, GELU, quantisation) are vectorised.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma,avx512f,avx512bw,avx512vnni")]
    unsafe fn forward_avx512(&self, ids: &[u32]) -> Vec<f32> {
        self.forward(ids)
    }

    #[inline(always)]
    fn forward(&self, ids: &[u32]) -> Vec<f32> {
        let h = self.dims.hidden;
        let ids = &ids[..ids.len().min(self.dims.max_positions)];
        let tokens = ids.len();
        if tokens == 0 {
            return vec![0.0; h];
        }
        let mut x = self.embeddings(ids);
        let eps = self.dims.eps;
        layer_norm(&mut x, None, &self.embed_norm, h, eps);

        let mut qa = Quantised::default();
        let (mut q, mut k, mut v) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ctx, mut tmp, mut mid) = (vec![0f32; tokens * h], Vec::new(), Vec::new());
        let mut scratch = Vec::new();
        for layer in &self.layers {
            qa.quantise(self.kernel, &x, h);
            self.linear(&layer.q, &qa, tokens, &mut q);
            self.linear(&layer.k, &qa, tokens, &mut k);
            self.linear(&layer.v, &qa, tokens, &mut v);
            self.attention(&q, &k, &v, tokens, &mut scratch, &mut ctx);
            qa.quantise(self.kernel, &ctx, h);
            self.linear(&layer.attn_out, &qa, tokens, &mut tmp);
            layer_norm(&mut x, Some(&tmp), &layer.attn_norm, h, eps);

            qa.quantise(self.kernel, &x, h);
            self.linear(&layer.ff_in, &qa, tokens, &mut mid);
            for m in mid.iter_mut() {
                *m = gelu(*m);
            }
            qa.quantise(self.kernel, &mid, self.dims.ff);
            self.linear(&layer.ff_out, &qa, tokens, &mut tmp);
            layer_norm(&mut x, Some(&tmp), &layer.out_norm, h, eps);
        }
        let mut mean = vec![0f32; h];
        for row in x.chunks_exact(h) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        let inv = 1.0 / tokens as f32;
        mean.iter_mut().for_each(|m| *m *= inv);
        mean
    }

    /// Word + position + token type embeddings of each token.
    #[inline(always)]
    fn embeddings(&self, ids: &[u32]) -> Vec<f32> {
        let h = self.dims.hidden;
        let row_bytes = h / BLOCK * Q4_BLOCK_BYTES;
        let mut x = vec![0f32; ids.len() * h];
        for (t, &id) in ids.iter().enumerate() {
            let id = (id as usize).min(self.dims.vocab - 1);
            let raw = &self.word[id * row_bytes..(id + 1) * row_bytes];
            let out = &mut x[t * h..(t + 1) * h];
            for (b, block) in raw.chunks_exact(Q4_BLOCK_BYTES).enumerate() {
                let d = f16_to_f32(u16::from_le_bytes([block[0], block[1]]));
                for (j, &byte) in block[2..].iter().enumerate() {
                    out[b * BLOCK + j] = ((byte & 0x0f) as f32 - 8.0) * d;
                    out[b * BLOCK + j + 16] = ((byte >> 4) as f32 - 8.0) * d;
                }
            }
            let pos = &self.position[t * h..(t + 1) * h];
            for ((o, p), ty) in out.iter_mut().zip(pos).zip(&self.token_type[..h]) {
                *o += p + ty;
            }
        }
        x
    }

    /// `y = x·Wᵀ + b` for all tokens, split by tokens across the rayon
    /// pool when there are many. A few tokens (a query) are computed on the
    /// calling thread: handing a layer's small products to other threads
    /// costs more than it saves (measured: 7.8 ms a query on two threads,
    /// 5.1 ms on one).
    fn linear(&self, w: &Matrix, a: &Quantised, tokens: usize, y: &mut Vec<f32>) {
        y.resize(tokens * w.rows, 0.0);
        let groups = w.rows / GROUP;
        if tokens < SPLIT_TOKENS {
            let part = Part {
                tokens: 0..tokens,
                groups: 0..groups,
            };
            matmul(self.kernel, w, a, &part, y);
            return;
        }
        let per_task = tokens.div_ceil(rayon::current_num_threads().max(1));
        y.par_chunks_mut(per_task * w.rows)
            .enumerate()
            .for_each(|(i, chunk)| {
                let t0 = i * per_task;
                let part = Part {
                    tokens: t0..t0 + chunk.len() / w.rows,
                    groups: 0..groups,
                };
                matmul(self.kernel, w, a, &part, chunk)
            });
    }

    /// Scaled dot-product attention over all tokens of the window. Keys are
    /// transposed first (`kt[column][token]`, tokens padded to 16), so that
    /// sixteen scores at a time and a head's context are sums of whole rows
    /// kept in registers.
    #[inline(always)]
    fn attention(
        &self,
        q: &[f32],
        k: &[f32],
        v: &[f32],
        tokens: usize,
        kt: &mut Vec<f32>,
        ctx: &mut [f32],
    ) {
        let h = self.dims.hidden;
        let heads = self.dims.heads;
        let scale = 1.0 / (HEAD as f32).sqrt();
        let stride = tokens.div_ceil(16) * 16;
        kt.clear();
        kt.resize(h * stride, 0.0);
        for (s, row) in k.chunks_exact(h).enumerate() {
            for (c, &val) in row.iter().enumerate() {
                kt[c * stride + s] = val;
            }
        }
        let mut prob = vec![0f32; stride];
        for t in 0..tokens {
            for head in 0..heads {
                let c0 = head * HEAD;
                let qh = &q[t * h + c0..t * h + c0 + HEAD];
                for (sb, out) in prob.chunks_exact_mut(16).enumerate() {
                    let mut acc = [0f32; 16];
                    for (e, &qe) in qh.iter().enumerate() {
                        let row = &kt[(c0 + e) * stride + sb * 16..][..16];
                        for (a, &kv) in acc.iter_mut().zip(row) {
                            *a = qe.mul_add(kv, *a);
                        }
                    }
                    out.copy_from_slice(&acc);
                }
                let scores = &mut prob[..tokens];
                let max = max(scores);
                for p in scores.iter_mut() {
                    *p = exp((*p - max) * scale);
                }
                let inv = 1.0 / sum(scores.iter().copied());
                let mut acc = [0f32; HEAD];
                for (s, &p) in scores.iter().enumerate() {
                    let p = p * inv;
                    for (a, &vv) in acc.iter_mut().zip(&v[s * h + c0..s * h + c0 + HEAD]) {
                        *a = p.mul_add(vv, *a);
                    }
                }
                ctx[t * h + c0..t * h + c0 + HEAD].copy_from_slice(&acc);
            }
        }
    }
}

/// The largest value, in sixteen interleaved maxima, which vectorises.
#[inline(always)]
fn max(values: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 16];
    for (i, &v) in values.iter().enumerate() {
        let a = &mut acc[i % 16];
        *a = if v > *a { v } else { *a };
    }
    acc.iter()
        .fold(f32::NEG_INFINITY, |m, &a| if a > m { a } else { m })
}

/// `x = LayerNorm(x + y)` row by row (`y` absent: `LayerNorm(x)`).
#[inline(always)]
fn layer_norm(x: &mut [f32], y: Option<&[f32]>, (w, b): &(Vec<f32>, Vec<f32>), h: usize, eps: f32) {
    for (t, row) in x.chunks_exact_mut(h).enumerate() {
        if let Some(y) = y {
            for (r, a) in row.iter_mut().zip(&y[t * h..(t + 1) * h]) {
                *r += a;
            }
        }
        let mean = sum(row.iter().copied()) / h as f32;
        let var = sum(row.iter().map(|r| (r - mean) * (r - mean))) / h as f32;
        let inv = 1.0 / (var + eps).sqrt();
        for ((r, w), b) in row.iter_mut().zip(w).zip(b) {
            *r = (*r - mean) * inv * w + b;
        }
    }
}

/// A sum in sixteen interleaved partial sums, which vectorises.
#[inline(always)]
fn sum(values: impl Iterator<Item = f32>) -> f32 {
    let mut acc = [0f32; 16];
    for (i, v) in values.enumerate() {
        acc[i % 16] += v;
    }
    acc.iter().sum()
}

/// `e^x` to within a few ulp, in plain arithmetic so that loops over it
/// vectorise: a polynomial on `[-ln2/2, ln2/2]` times a power of two.
#[inline(always)]
fn exp(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let n = (x * std::f32::consts::LOG2_E).round_ties_even();
    let r = n.mul_add(-1.428_606_8e-6, n.mul_add(-0.693_145_75, x));
    let p = r.mul_add(0.001_395_3, 0.008_333_36);
    let p = r.mul_add(p, 0.041_666_4);
    let p = r.mul_add(p, 0.166_666_67);
    let p = r.mul_add(p, 0.5);
    let p = r.mul_add(p, 1.0);
    let p = r.mul_add(p, 1.0);
    // 2^n: n + 127 lands in the low mantissa bits of 2^23 + n + 127.
    let biased = (n + (127.0 + 8_388_608.0)).to_bits() & 0x7f_ffff;
    p * f32::from_bits(biased << 23)
}

/// GELU with the error function.
#[inline(always)]
fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

/// The error function to within 3e-7 (Abramowitz and Stegun 7.1.26).
#[inline(always)]
fn erf(x: f32) -> f32 {
    let ax = x.abs();
    let t = 1.0 / (1.0 + 0.327_591_1 * ax);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_74 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let r = 1.0 - poly * exp(-ax * ax);
    if x < 0.0 { -r } else { r }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erf_matches_known_values() {
        for (x, want) in [
            (0.0f32, 0.0f64),
            (0.1, 0.112_462_916_018_284_9),
            (0.5, 0.520_499_877_813_046_5),
            (1.0, 0.842_700_792_949_714_9),
            (-1.5, -0.966_105_146_475_310_7),
            (2.5, 0.999_593_047_982_555),
            (5.0, 0.999_999_999_998_462_5),
        ] {
            assert!((erf(x) as f64 - want).abs() < 3e-7, "erf({x}) = {}", erf(x));
        }
    }

    #[test]
    fn exp_is_accurate() {
        for i in -870..=870 {
            let x = i as f32 / 10.0 + 0.037;
            let (got, want) = (exp(x) as f64, (x as f64).exp());
            assert!(
                (got - want).abs() <= 4e-7 * want,
                "exp({x}) = {got}, not {want}"
            );
        }
    }
}
