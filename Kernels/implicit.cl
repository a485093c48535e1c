// The implicit GEMMs of the convolutions: the register tiles of gemm.cl reading their B
// operand from a (padded, rearranged) copy of the input instead of a column matrix. Their
// inputs come from linear.cl's space_to_depth kernels; Sources/OpenCLBackend/Convolution.swift
// and ImplicitConvolution.swift plan them.

// Implicit GEMM for stride-1, dilation-1 convolutions (WGAN-GP's 3×3 "same" layers) and,
// phase by phase, transposed convolutions: the GEMM of gemm.cl with B's rows read from the
// input instead of an im2col matrix.
// y[n, o, p, q] = Σ_{c, kh, kw} w[o, c, kh, kw] · xp[n, c, p + kh, q + kw], where xp is the
// input zero-padded by `space_to_depth` ([N, C, Hp, Wp], from element offX), so no bounds are
// checked inside the loop. Output pixel (p, q) of channel plane (n, o) lands at
// y[(n·O + o)·outPlane + outOffset + p·outRow + q·outCol]: contiguous for a convolution, every
// S-th row and column for one phase of a stride-S transposed convolution (see
// Sources/OpenCLBackend/Convolution.swift). Each work-item: TM output channels × VW·VN
// consecutive output positions of image n. When Q is a multiple of VW the positions are the
// pixels in P·Q order, and each vector lies in one output row, reading VW consecutive inputs.
// Otherwise they run along the padded input's rows, P·Wp of them: position j = p·Wp + q reads
// xp[j + kh·Wp + kw], consecutive for consecutive j across rows too, and the Wp − Q columns
// past Q are computed and dropped (dcgan28's 7-pixel rows: 1 in 8). A last partial panel is
// computed whole and its positions past P·L dropped too. The last positions read up to a few
// rows past the plane, which the scratch leaves room for. Work-items of one (n, panel) are
// adjacent and share its input rows; the weights ([O, C·KH·KW], 147 KB for 64×64×3×3) stay in cache.
#ifndef MULADD
#define MULADD mad
#endif
// VEC(w), VLOAD(w), VSTORE(w) and GEMM_TILES: gemm.cl's, compiled before this file
// (Kernels/*.cl go in name order).

// acc += the taps of every input channel: the (c, kh, kw) loops of the GEMM's k (UNROLL:
// _Pragma("unroll") when KH_ and KW_ are constants, else nothing); a tap (kh, kw) reads
// ROW·kh + COL·kw elements on. The weights come packed by `pack_tiles` (wt: this work-item's
// tile, TM values per k), so every broadcast reads one pointer at a constant offset.
#define CONV_IMPLICIT_TAPS(TM, VN, VW, KH_, KW_, UNROLL, ROW, COL)                              \
    {                                                                                           \
        __global const float *wk = wt;                                                          \
        for (int c = 0; c < C; c++) {                                                           \
            UNROLL for (int kh = 0; kh < KH_; kh++) {                                           \
                UNROLL for (int kw = 0; kw < KW_; kw++) {                                       \
                    VEC(VW) b[VN];                                                              \
                    _Pragma("unroll") for (int v = 0; v < VN; v++)                              \
                        b[v] = VLOAD(VW)(0, xv[v] + c * plane + kh * (ROW) + kw * (COL));      \
                    _Pragma("unroll") for (int r = 0; r < TM; r++) {                            \
                        const VEC(VW) a = (VEC(VW))(wk[(kh * KW_ + kw) * TM + r]);              \
                        _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = MULADD(a, b[v], acc[r][v]); \
                    }                                                                           \
                }                                                                               \
            }                                                                                   \
            wk += KH_ * KW_ * TM;                                                               \
        }                                                                                       \
    }

#define CONV_IMPLICIT_KERNEL(NAME, TM, VN, VW)                                                  \
__kernel void NAME(__global const float *w, const int offW, __global const float *xp,          \
                   const int offX, __global float *y, const int outPlane, const int outOffset,  \
                   const int outRow, const int outCol, const int N, const int O, const int C,   \
                   const int Hp, const int Wp, const int KH, const int KW, const int P, const int Q) { \
    /* Output rows of whole vectors go as they are (L = Q); others over the padded rows */      \
    /* (L = Wp), whose columns past Q are computed and dropped (see above). */                  \
    const int L = Q % VW == 0 ? Q : Wp;                                                         \
    const int tilesM = (O + TM - 1) / TM, width = VW * VN, span = P * L;                        \
    const int panels = (span + width - 1) / width;                                              \
    int id = get_global_id(0);                                                                  \
    const int row0 = (id % tilesM) * TM;                                                        \
    id /= tilesM;                                                                               \
    const int pix0 = (id % panels) * width, n = id / panels;                                    \
    if (n >= N) return;                                                                         \
    const int K = C * KH * KW, plane = Hp * Wp;                                                 \
    __global const float *wt = w + offW + row0 * K;                                             \
    __global const float *xn = xp + offX + n * C * plane;                                       \
    __global float *yn = y + (n * O + row0) * outPlane + outOffset;                             \
    __global const float *xv[VN];                                                               \
    _Pragma("unroll") for (int v = 0; v < VN; v++) {                                            \
        const int pix = pix0 + VW * v;                                                          \
        xv[v] = xn + pix / L * Wp + pix % L;                                                    \
    }                                                                                           \
    VEC(VW) acc[TM][VN];                                                                        \
    _Pragma("unroll") for (int r = 0; r < TM; r++)                                              \
        _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = (VEC(VW))(0.0f);             \
    /* 3×3 (WGAN-GP's) and 2×2 (4×4 at stride 2) with the tap loops unrolled, else any. */     \
    if (KH == 3 && KW == 3) CONV_IMPLICIT_TAPS(TM, VN, VW, 3, 3, _Pragma("unroll"), Wp, 1)     \
    else if (KH == 2 && KW == 2) CONV_IMPLICIT_TAPS(TM, VN, VW, 2, 2, _Pragma("unroll"), Wp, 1) \
    else CONV_IMPLICIT_TAPS(TM, VN, VW, KH, KW, , Wp, 1)                                        \
    /* One division per vector: its lanes step along the row and wrap to the next. */          \
    _Pragma("unroll") for (int v = 0; v < VN; v++) {                                            \
        const int pix = pix0 + VW * v, p0 = pix / L, q0 = pix % L;                              \
        _Pragma("unroll") for (int r = 0; r < TM; r++) {                                        \
            if (row0 + r >= O) break;                                                           \
            __global float *out = yn + r * outPlane + p0 * outRow;                              \
            if (L == Q && outCol == 1 && pix + VW <= span)                                      \
                VSTORE(VW)(acc[r][v], 0, out + q0);                                             \
            else {                                                                              \
                float lanes[VW];                                                                \
                VSTORE(VW)(acc[r][v], 0, lanes);                                                \
                for (int e = 0, q = q0; e < VW && pix + e < span; e++) {                        \
                    if (q < Q) out[q * outCol] = lanes[e];                                      \
                    if (++q == L) q = 0, out += outRow;                                         \
                }                                                                               \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

// The same GEMM with the batch innermost: xp is [Hp, Wp, NB, C, VW·VN] (`space_to_depth` with
// a panel width: the batch in NB panels of VW·VN images, zeros past N), so a vector holds one
// input pixel of VW consecutive images, every computed position is an output pixel however
// small the plane (dcgan64's 4×4 and 8×8 layers, whose padded rows would waste a third to
// a half of the work), and a work-item reads its panel's channels at one pixel one after
// another, as the GEMM reads a packed panel (with the channels outermost they were a page
// apart, and with all N images of a channel together half of each line read was the other
// panel's: 2/3 and 5/6 of the speed). Each work-item: TM output channels × one panel at output
// pixel (p, q). The outputs of one vector are VW planes apart, so they are stored one by one
// (TM·VW·VN stores against C·KH·KW·TM·VN multiply-adds). Work-items go in blocks of 16
// consecutive pixels, the blocks of every channel tile side by side: a block's input (its
// taps' pixels, all channels of the panel) is read once into a core's L2 and serves every
// tile there, where with each tile's pixels all together the whole panel's input (2 MB on
// dcgan28's 7×7 layer) was read once per tile from L3. Within a block consecutive pixels are
// adjacent, so one core writes each output line (with the work-items of one pixel adjacent,
// the cores shared lines and that layer ran at 0.8 of the speed).
#define CONV_BATCH_IMPLICIT_KERNEL(NAME, TM, VN, VW)                                            \
__kernel void NAME(__global const float *w, const int offW, __global const float *xp,          \
                   const int offX, __global float *y, const int outPlane, const int outOffset,  \
                   const int outRow, const int outCol, const int N, const int O, const int C,   \
                   const int Hp, const int Wp, const int KH, const int KW, const int P, const int Q) { \
    const int tilesM = (O + TM - 1) / TM, panels = (N + VW * VN - 1) / (VW * VN);               \
    const int id = get_global_id(0), blocks = (P * Q + 15) / 16, block = id / 16 / tilesM;      \
    const int pixel = block % blocks * 16 + id % 16, row0 = id / 16 % tilesM * TM;              \
    const int panel = block / blocks;                                                           \
    if (panel >= panels || pixel >= P * Q) return;                                              \
    const int p = pixel / Q, q = pixel % Q;                                                     \
    const int K = C * KH * KW, plane = VW * VN, column = panels * C * plane, row = Wp * column; \
    __global const float *wt = w + offW + row0 * K;                                             \
    __global const float *xv[VN];                                                               \
    _Pragma("unroll") for (int v = 0; v < VN; v++)                                              \
        xv[v] = xp + offX + p * row + q * column + panel * C * plane + VW * v;                  \
    VEC(VW) acc[TM][VN];                                                                        \
    _Pragma("unroll") for (int r = 0; r < TM; r++)                                              \
        _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = (VEC(VW))(0.0f);             \
    if (KH == 3 && KW == 3) CONV_IMPLICIT_TAPS(TM, VN, VW, 3, 3, _Pragma("unroll"), row, column) \
    else if (KH == 2 && KW == 2) CONV_IMPLICIT_TAPS(TM, VN, VW, 2, 2, _Pragma("unroll"), row, column) \
    else CONV_IMPLICIT_TAPS(TM, VN, VW, KH, KW, , row, column)                                  \
    __global float *yp = y + outOffset + p * outRow + q * outCol;                               \
    _Pragma("unroll") for (int v = 0; v < VN; v++) {                                            \
        _Pragma("unroll") for (int r = 0; r < TM; r++) {                                        \
            if (row0 + r >= O) break;                                                           \
            float lanes[VW];                                                                    \
            VSTORE(VW)(acc[r][v], 0, lanes);                                                    \
            _Pragma("unroll") for (int e = 0; e < VW; e++) {                                    \
                const int n = panel * VW * VN + VW * v + e;                                     \
                if (n < N) yp[(n * O + row0 + r) * outPlane] = lanes[e];                        \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

// A weight gradient as an implicit GEMM: dWᵀ[col, o] for col = (t·TW + u)·Cp + c' is the sum
// over images n and output pixels (p, q) of dy[n, o, p, q] · xs[n, p + t, q + u, c'], where xs
// is the padded (strided: rearranged) input in blocks of 16 channels innermost
// (`space_to_depth_channels_last`: [Cp / 16, N, Hp, Wp, 16], Cp the C' channels rounded up to
// 16, zeros past C'), so a vector of VW columns is VW consecutive channels at one tap, read
// along k one cache line after another as the GEMM reads a packed panel (with all Cp channels
// of a pixel together each step of k was a page further: a third of the speed), dy comes as
// [O, N·PQ] packed in tiles (`pack_tiles`: a row of A read from dy itself broke every PQ
// floats, 64 B at 4×4 outputs, and the 8×8 layer ran at 0.6 of the GEMM's speed), and no column matrix is
// written, packed or transposed (dcgan64's 64×32×32 layer wrote, packed and read 64 MB).
// Each sum lands in dW[o, c, kh, kw] for channel c' = (c, a, b) and kh = SH·t + a,
// kw = SW·u + b; past C' or the kernel it is dropped. A last partial panel's vectors past the
// columns read column 0 and are dropped.
// Parts of `chunk` images sum apart, part j into dw + j·|dW| (`sum_parts` adds them), so that
// a part's inputs stay in cache while the work-items of a panel, adjacent, share them (a
// whole 64-image panel of the 64×32×32 layer, 2 MB, did not). The (p, q) loop is one loop
// over P·Q, stepping over the padded columns at each row's end (dcgan64's 4-pixel rows).
#define CONV_WEIGHT_IMPLICIT_KERNEL(NAME, TM, VN, VW)                                           \
__kernel void NAME(__global const float *dy, const int offDy, __global const float *xs,         \
                   __global float *dw, const int offW, const int N, const int O, const int C,   \
                   const int KH, const int KW, const int SH, const int SW, const int Cp,        \
                   const int Hp, const int Wp, const int TW, const int cols, const int P,       \
                   const int Q, const int chunk) {                                              \
    const int tilesM = (O + TM - 1) / TM, width = VW * VN, panels = (cols + width - 1) / width; \
    int id = get_global_id(0);                                                                  \
    const int row0 = (id % tilesM) * TM;                                                        \
    id /= tilesM;                                                                               \
    const int col0 = (id % panels) * width, part = id / panels, n0 = part * chunk;              \
    if (n0 >= N) return;                                                                        \
    const int PQ = P * Q;                                                                       \
    dw += offW + part * O * C * KH * KW;                                                        \
    dy += offDy;                                                                                \
    __global const float *xv[VN];                                                               \
    _Pragma("unroll") for (int v = 0; v < VN; v++) {                                            \
        const int col = col0 + VW * v < cols ? col0 + VW * v : 0, tap = col / Cp, c = col % Cp; \
        xv[v] = xs + ((c / 16 * N * Hp + tap / TW) * Wp + tap % TW) * 16 + c % 16;              \
    }                                                                                           \
    VEC(VW) acc[TM][VN];                                                                        \
    _Pragma("unroll") for (int r = 0; r < TM; r++)                                              \
        _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = (VEC(VW))(0.0f);             \
    for (int n = n0; n < min(n0 + chunk, N); n++) {                                             \
        __global const float *ap = dy + (row0 * N + n * TM) * PQ;                               \
        for (int j = 0, q = 0, x0 = n * Hp * Wp * 16; j < PQ; j++, x0 += 16) {                  \
            VEC(VW) b[VN];                                                                      \
            _Pragma("unroll") for (int v = 0; v < VN; v++) b[v] = VLOAD(VW)(0, xv[v] + x0);     \
            _Pragma("unroll") for (int r = 0; r < TM; r++) {                                    \
                const VEC(VW) a = (VEC(VW))(ap[j * TM + r]);                                    \
                _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = MULADD(a, b[v], acc[r][v]); \
            }                                                                                   \
            if (++q == Q) q = 0, x0 += (Wp - Q) * 16;                                           \
        }                                                                                       \
    }                                                                                           \
    _Pragma("unroll") for (int v = 0; v < VN; v++) {                                            \
        float lanes[TM][VW];                                                                    \
        _Pragma("unroll") for (int r = 0; r < TM; r++) VSTORE(VW)(acc[r][v], 0, lanes[r]);      \
        /* A vector's lanes are consecutive channels (c, a, b) of one tap, counted up. */      \
        const int col = col0 + VW * v, tap = col / Cp, k = col % Cp;                            \
        int c = k / (SH * SW), a = (k / SW) % SH, b = k % SW;                                   \
        for (int e = 0; e < VW && col < cols; e++) {                                            \
            const int kh = (tap / TW) * SH + a, kw = (tap % TW) * SW + b;                       \
            if (c < C && kh < KH && kw < KW)                                                    \
                _Pragma("unroll") for (int r = 0; r < TM; r++)                                  \
                    if (row0 + r < O) dw[((row0 + r) * C + c) * KH * KW + kh * KW + kw] = lanes[r][e]; \
            if (++b == SW) {                                                                    \
                b = 0;                                                                          \
                if (++a == SH) a = 0, c++;                                                      \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

// The GEMM kernels' tiles (Kernels/gemm.cl).
#define CONV_IMPLICIT_KERNELS(TILE, TM, VN, VW)                                                 \
    CONV_IMPLICIT_KERNEL(conv2d_implicit_##TILE, TM, VN, VW)                                    \
    CONV_BATCH_IMPLICIT_KERNEL(conv2d_batch_implicit_##TILE, TM, VN, VW)                        \
    CONV_WEIGHT_IMPLICIT_KERNEL(conv2d_weight_implicit_##TILE, TM, VN, VW)
GEMM_TILES(CONV_IMPLICIT_KERNELS)

// An operand A [M, K] of the implicit GEMMs packed in tiles of TM rows: tile t's columns one
// after another, TM consecutive floats each (rows t·TM … t·TM + TM − 1, the last row again
// past M), so a work-item reads its TM values of one k from one pointer at constant offsets
// (with a pointer per row the compiler kept them on the stack and reloaded one per broadcast).
// Row i, column k of A is src[offSrc + i·rowStride + (k / inner)·outerStride + k % inner]: the
// weights [O, K] (inner K), or dy [N, O, PQ] read as [O, N·PQ] (inner PQ, outerStride O·PQ).
// One work-item per (tile, block of 16 columns): it loads its TM rows' 16 columns first,
// one vector each where the block lies in one run of `inner` (independent loads of rows a
// plane apart, where one work-item per column read one float from each), then writes the
// block's TM·16 consecutive floats (tiles of up to 8 rows, as gemm.cl's).
__kernel void pack_tiles(__global const float *src, const int offSrc, __global float *dst, const int offDst,
                         const int M, const int K, const int TM, const int rowStride, const int inner,
                         const int outerStride) {
    const int blocks = (K + 15) / 16, i = get_global_id(0);
    if (i >= (M + TM - 1) / TM * blocks) return;
    const int t = i / blocks, k0 = i % blocks * 16;
    __global float *d = dst + offDst + (t * K + k0) * TM;
    if (k0 + 16 <= K && inner % 16 == 0 && TM <= 8) {
        __global const float *s = src + offSrc + (k0 / inner) * outerStride + k0 % inner;
        float block[16 * 8];
        for (int r = 0; r < TM; r++) vstore16(vload16(0, s + min(t * TM + r, M - 1) * rowStride), r, block);
        for (int k = 0; k < 16; k++)
            for (int r = 0; r < TM; r++) d[k * TM + r] = block[r * 16 + k];
        return;
    }
    for (int k = k0; k < min(k0 + 16, K); k++) {
        __global const float *s = src + offSrc + (k / inner) * outerStride + k % inner;
        for (int r = 0; r < TM; r++) d[(k - k0) * TM + r] = s[min(t * TM + r, M - 1) * rowStride];
    }
}
