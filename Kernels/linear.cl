// Linear family: direct convolutions in gather form, one work-item per output
// element, mirroring Sources/CPUReference/Linear.swift term by term, and the
// im2col/col2im kernels of the GEMM paths (GEMM itself: gemm.cl or CLBlast).
// Layout NCHW; letters: N batch, C in channels, O out channels, H W input size,
// P Q output size, K kernel, S stride, D dilation.

typedef struct {
    int N, C, H, W;      // input (for conv2d and conv2d_backward_weight) or output (transposed)
    int O, P, Q;         // the other side's channels and size
    int KH, KW;
    int SH, SW, PH, PW, DH, DW;
} conv_t;

// y[n, o, p, q] = Σ x[n, c, pS − P + kh·D, qS − P + kw·D] · w[o, c, kh, kw]
__kernel void conv2d_forward(__global const float *x, __global const float *w, __global float *y, const conv_t s) {
    int i = get_global_id(0);
    if (i >= s.N * s.O * s.P * s.Q) return;
    int q = i % s.Q, p = (i / s.Q) % s.P, o = (i / (s.Q * s.P)) % s.O, n = i / (s.Q * s.P * s.O);
    float sum = 0.0f;
    for (int c = 0; c < s.C; c++) {
        for (int kh = 0; kh < s.KH; kh++) {
            int h = p * s.SH - s.PH + kh * s.DH;
            if (h < 0 || h >= s.H) continue;
            for (int kw = 0; kw < s.KW; kw++) {
                int v = q * s.SW - s.PW + kw * s.DW;
                if (v < 0 || v >= s.W) continue;
                sum += x[((n * s.C + c) * s.H + h) * s.W + v] * w[((o * s.C + c) * s.KH + kh) * s.KW + kw];
            }
        }
    }
    y[i] = sum;
}

// The adjoint of conv2d. Here x is [N, O, P, Q] (the small side), w is [O, C, KH, KW]
// and y is [N, C, H, W]: y[n, c, h, v] = Σ x[n, o, p, q] · w[o, c, kh, kw] with h = pS − P + kh·D.
__kernel void conv_transpose2d_forward(__global const float *x, __global const float *w, __global float *y, const conv_t s) {
    int i = get_global_id(0);
    if (i >= s.N * s.C * s.H * s.W) return;
    int v = i % s.W, h = (i / s.W) % s.H, c = (i / (s.W * s.H)) % s.C, n = i / (s.W * s.H * s.C);
    float sum = 0.0f;
    for (int kh = 0; kh < s.KH; kh++) {
        int ph = h + s.PH - kh * s.DH;
        if (ph < 0 || ph % s.SH != 0 || ph / s.SH >= s.P) continue;
        for (int kw = 0; kw < s.KW; kw++) {
            int qw = v + s.PW - kw * s.DW;
            if (qw < 0 || qw % s.SW != 0 || qw / s.SW >= s.Q) continue;
            for (int o = 0; o < s.O; o++) {
                sum += x[((n * s.O + o) * s.P + ph / s.SH) * s.Q + qw / s.SW] * w[((o * s.C + c) * s.KH + kh) * s.KW + kw];
            }
        }
    }
    y[i] = sum;
}

// dWeight[o, c, kh, kw] = Σ_{n, p, q} dy[n, o, p, q] · x[n, c, pS − P + kh·D, qS − P + kw·D]
__kernel void conv2d_backward_weight(__global const float *x, __global const float *dy, __global float *dw, const conv_t s) {
    int i = get_global_id(0);
    if (i >= s.O * s.C * s.KH * s.KW) return;
    int kw = i % s.KW, kh = (i / s.KW) % s.KH, c = (i / (s.KW * s.KH)) % s.C, o = i / (s.KW * s.KH * s.C);
    float sum = 0.0f;
    for (int n = 0; n < s.N; n++) {
        for (int p = 0; p < s.P; p++) {
            int h = p * s.SH - s.PH + kh * s.DH;
            if (h < 0 || h >= s.H) continue;
            for (int q = 0; q < s.Q; q++) {
                int v = q * s.SW - s.PW + kw * s.DW;
                if (v < 0 || v >= s.W) continue;
                sum += dy[((n * s.O + o) * s.P + p) * s.Q + q] * x[((n * s.C + c) * s.H + h) * s.W + v];
            }
        }
    }
    dw[i] = sum;
}

// The GEMM path (chosen per shape by measurement, see Sources/OpenCLBackend/Convolution.swift).
// im2col for image n: col[(c·KH + kh)·KW + kw, p·Q + q] = x[n, c, pS − P + kh·D, qS − P + kw·D], 0 outside.
// One work-item per row (c, kh, kw) writes its P·Q columns: the index divisions are paid
// once per row, and the q loop reads x with stride S between the bounds worked out first
// (one work-item per (row, p) spent most of its time dividing: 1.6–1.9× slower).
// The columns q < Q whose input column v0 + S·q lies inside [0, W): q in [lo, hi) as (lo, hi),
// worked out once so that a row's loops copy or add with no test per element.
inline int2 inside_columns(const int v0, const int S, const int W, const int Q) {
    const int lo = v0 >= 0 ? 0 : min((-v0 + S - 1) / S, Q);
    return (int2)(lo, max(min(Q, (W - v0 + S - 1) / S), lo));
}

inline void im2col_row(__global const float *x, const int n, const int row, __global float *out, const conv_t s) {
    int kw = row % s.KW, kh = (row / s.KW) % s.KH, c = row / (s.KW * s.KH);
    __global const float *plane = x + (n * s.C + c) * s.H * s.W;
    const int v0 = kw * s.DW - s.PW;
    const int2 inside = inside_columns(v0, s.SW, s.W, s.Q);
    const int qlo = inside.x, qhi = inside.y;
    for (int p = 0; p < s.P; p++, out += s.Q) {
        int h = p * s.SH - s.PH + kh * s.DH;
        if (h < 0 || h >= s.H) {
            for (int q = 0; q < s.Q; q++) out[q] = 0.0f;
            continue;
        }
        __global const float *in = plane + h * s.W + v0;
        for (int q = 0; q < qlo; q++) out[q] = 0.0f;
        for (int q = qlo; q < qhi; q++) out[q] = in[q * s.SW];
        for (int q = qhi; q < s.Q; q++) out[q] = 0.0f;
    }
}

// The same row shared by `parts` work-items (GPUs, see RowSpread): part j writes columns
// j, j + parts, … so neighbouring work-items write neighbouring columns.
inline void im2col_row_part(__global const float *x, const int n, const int row, __global float *out, const conv_t s, const int part, const int parts) {
    int kw = row % s.KW, kh = (row / s.KW) % s.KH, c = row / (s.KW * s.KH);
    __global const float *plane = x + (n * s.C + c) * s.H * s.W;
    for (int pq = part; pq < s.P * s.Q; pq += parts) {
        int h = (pq / s.Q) * s.SH - s.PH + kh * s.DH, v = (pq % s.Q) * s.SW - s.PW + kw * s.DW;
        out[pq] = h >= 0 && h < s.H && v >= 0 && v < s.W ? plane[h * s.W + v] : 0.0f;
    }
}

// col2im: y[n, c, h, v] = Σ col[(c·KH + kh)·KW + kw, p·Q + q] over the taps
// (kh, kw) with h = pS − P + kh·D and v = qS − P + kw·D. On a CPU one work-item owns the
// plane (n, c): it adds each tap's row of the column matrix, P·Q consecutive floats, into
// the plane, which stays in cache (a work-item per output row read 2–4 floats at a time
// from each of the taps' rows).
inline void col2im_plane(__global const float *col, const int columns, const int first, __global float *out, const int c, const conv_t s) {
    for (int e = 0; e < s.H * s.W; e++) out[e] = 0.0f;
    for (int kh = 0; kh < s.KH; kh++) {
        for (int kw = 0; kw < s.KW; kw++) {
            __global const float *in = col + ((c * s.KH + kh) * s.KW + kw) * columns + first;
            const int v0 = kw * s.DW - s.PW;
            const int2 inside = inside_columns(v0, s.SW, s.W, s.Q);
            const int qlo = inside.x, qhi = inside.y;
            for (int p = 0; p < s.P; p++, in += s.Q) {
                int h = p * s.SH - s.PH + kh * s.DH;
                if (h < 0 || h >= s.H) continue;
                __global float *row = out + h * s.W + v0;
                for (int q = qlo; q < qhi; q++) row[q * s.SW] += in[q];
            }
        }
    }
}

// The same output row shared by `parts` work-items (GPUs): part j sums columns v = j,
// j + parts, … over their taps.
inline void col2im_row_part(__global const float *col, const int columns, const int first, __global float *out, const int c, const int h, const conv_t s, const int part, const int parts) {
    for (int v = part; v < s.W; v += parts) {
        float sum = 0.0f;
        for (int kh = 0; kh < s.KH; kh++) {
            int ph = h + s.PH - kh * s.DH;
            if (ph < 0 || ph % s.SH != 0 || ph / s.SH >= s.P) continue;
            for (int kw = 0; kw < s.KW; kw++) {
                int pv = v + s.PW - kw * s.DW;
                if (pv < 0 || pv % s.SW != 0 || pv / s.SW >= s.Q) continue;
                sum += col[((c * s.KH + kh) * s.KW + kw) * columns + first + (ph / s.SH) * s.Q + pv / s.SW];
            }
        }
        out[v] = sum;
    }
}

// The column matrix of images first ..< first + images (one, a chunk of the batch, or all
// of it), columns n·PQ + pq:
// col[(c·KH + kh)·KW + kw, n·PQ + p·Q + q] = x[first + n, c, pS − P + kh·D, qS − P + kw·D], 0
// outside. One work-item (or `parts`) per (row, n) writes PQ columns.
__kernel void im2col_batch(__global const float *x, const int first, const int images, __global float *col, const conv_t s, const int parts) {
    int i = get_global_id(0), r = i / parts;
    if (r >= s.C * s.KH * s.KW * images) return;
    if (parts == 1) im2col_row(x, first + r % images, r / images, col + r * s.P * s.Q, s);
    else im2col_row_part(x, first + r % images, r / images, col + r * s.P * s.Q, s, i % parts, parts);
}

// The same matrix transposed, [n·PQ + pq, C·KH·KW], for images first ..< first + images
// (the weight gradient's right operand, for one image or the whole batch). One
// work-item per output pixel (n, p, q) writes its row of C·KH·KW taps; with `parts` > 1
// (GPUs) part j writes taps j, j + parts, … of it.
__kernel void im2col_transposed(__global const float *x, const int first, const int images, __global float *col, const conv_t s, const int parts) {
    int i = get_global_id(0) / parts, PQ = s.P * s.Q;
    if (i >= images * PQ) return;
    int n = first + i / PQ, p = (i % PQ) / s.Q, q = i % s.Q;
    int h0 = p * s.SH - s.PH, v0 = q * s.SW - s.PW;
    __global float *out = col + i * (s.C * s.KH * s.KW);
    if (parts > 1) {
        for (int t = get_global_id(0) % parts; t < s.C * s.KH * s.KW; t += parts) {
            int kw = t % s.KW, kh = (t / s.KW) % s.KH, c = t / (s.KW * s.KH);
            int h = h0 + kh * s.DH, v = v0 + kw * s.DW;
            out[t] = h >= 0 && h < s.H && v >= 0 && v < s.W ? x[((n * s.C + c) * s.H + h) * s.W + v] : 0.0f;
        }
        return;
    }
    for (int c = 0; c < s.C; c++) {
        __global const float *plane = x + (n * s.C + c) * s.H * s.W;
        for (int kh = 0; kh < s.KH; kh++) {
            int h = h0 + kh * s.DH;
            bool inside = h >= 0 && h < s.H;
            for (int kw = 0; kw < s.KW; kw++) {
                int v = v0 + kw * s.DW;
                *out++ = (inside && v >= 0 && v < s.W) ? plane[h * s.W + v] : 0.0f;
            }
        }
    }
}

// col2im of images first ..< first + images from their column matrix (columns n·PQ + pq):
// one work-item per plane (n, c) (`parts` = 1, CPUs), or `parts` per output row (n, c, h).
__kernel void col2im_batch(__global const float *col, const int first, const int images, __global float *y, const conv_t s, const int parts) {
    if (parts == 1) {
        int i = get_global_id(0);
        if (i >= images * s.C) return;
        col2im_plane(col, images * s.P * s.Q, i / s.C * s.P * s.Q, y + (first * s.C + i) * s.H * s.W, i % s.C, s);
        return;
    }
    int i = get_global_id(0) / parts;
    if (i >= images * s.C * s.H) return;
    int h = i % s.H, c = (i / s.H) % s.C, n = i / (s.H * s.C);
    col2im_row_part(col, images * s.P * s.Q, n * s.P * s.Q, y + (first * s.C * s.H + i) * s.W, c, h, s, get_global_id(0) % parts, parts);
}

// dst [B, A, C] = src [A, B, C] with its two leading axes swapped ([N, O, PQ] ↔ [O, N, PQ]),
// both from an offset. One work-item per row (a, b) copies its C elements in a loop of its
// own (PoCL vectorizes it); on GPUs `parts` work-items share a row, part j copying elements
// j, j + parts, … (one work-item per element divided its index three times, 4× slower).
__kernel void swap_leading_axes(__global const float *src, const int srcOffset, __global float *dst, const int dstOffset, const int A, const int B, const int C, const int parts) {
    const int i = get_global_id(0), row = i / parts;
    if (row >= A * B) return;
    __global const float *in = src + srcOffset + row * C;
    __global float *out = dst + dstOffset + ((row % B) * A + row / B) * C;
    if (parts == 1) {
        for (int c = 0; c < C; c++) out[c] = in[c];
    } else {
        for (int c = i % parts; c < C; c += parts) out[c] = in[c];
    }
}

// The weights of phase (a, b) of a stride-(SH, SW) transposed convolution, as a convolution's
// (from element `offset`) in the implicit GEMM's tiles of TM rows (`pack_tiles`): row c, column
// (o, t, u) is w[o, c, a + SH·(TH − 1 − t), b + SW·(TW − 1 − u)] for w [O, C, KH, KW], the kernel
// rows and columns of the phase flipped (at stride 1 the one phase is the whole kernel,
// flipped), and rows past C repeat row C − 1.
__kernel void flip_transpose_weights(__global const float *w, __global float *wt, const int offset, const int O,
                                     const int C, const int KH, const int KW, const int SH, const int SW,
                                     const int a, const int b, const int TH, const int TW, const int TM) {
    // One work-item per (row, o): its TH·TW taps (a division per element cost more than the
    // copy). Rows run fastest, so neighbours read neighbouring taps of w (with o fastest, each
    // read a line C·KH·KW floats from the last: a page apart on deep layers).
    const int rows = (C + TM - 1) / TM * TM;
    int i = get_global_id(0);
    if (i >= rows * O) return;
    int row = i % rows, o = i / rows, c = min(row, C - 1);
    __global const float *from = w + (o * C + c) * KH * KW;
    __global float *to = wt + offset + ((row / TM * O + o) * TH * TW * TM) + row % TM;
    for (int t = 0; t < TH; t++)
        for (int u = 0; u < TW; u++) to[(t * TW + u) * TM] = from[(a + SH * (TH - 1 - t)) * KW + b + SW * (TW - 1 - u)];
}

// The implicit GEMM's input: x zero-padded (SH = SW = 1: xs[n, c, i, j] = x[n, c, i − PH,
// j − PW], 0 outside, in an Hd × Wd plane), or for a stride-(SH, SW) convolution rearranged
// so that it becomes a stride-1 one: input channel
// (c, a, b) of xs [N, C·SH·SW, Hd, Wd] (from element `offset`) holds
// x[n, c, SH·i + a − PH, SW·j + b − PW] (0 outside x), and ws [O, C·SH·SW, TH, TW] (in tiles) holds
// w[o, c, SH·t + a, SW·u + b] (0 past the kernel), so that
// Σ_{kh, kw} x[SH·p + kh − PH, …]·w[kh, …] = Σ_{(c, a, b), t, u} xs[p + t, …]·ws[t, …].
// One work-item per plane (n, c, a, b) of xs, its Hd rows one after another. With a panel
// width (the batch-inner implicit GEMM's) xs is [Hd, Wd, NB, C·SH·SW, panel], the batch in
// NB panels of `panel` images (zeros past N), and one work-item per row i of a plane (c, a, b)
// writes its Wd pixels of every panel (a work-item per plane of one image wrote an element per
// cache line: 6 ms for dcgan64's 4 MB input of its 8×8 layer, longer than the multiply-adds).
__kernel void space_to_depth(__global const float *x, __global float *xs, const int offset, const int N, const int C,
                             const int H, const int W, const int SH, const int SW, const int PH, const int PW,
                             const int Hd, const int Wd, const int panel) {
    const int r = get_global_id(0), planes = C * SH * SW;
    if (panel > 0) {
        if (r >= planes * Hd) return;
        const int k = r % planes, i = r / planes, panels = (N + panel - 1) / panel;
        const int b = k % SW, a = (k / SW) % SH, c = k / (SW * SH), h = SH * i + a - PH;
        __global float *out = xs + offset + (i * Wd * panels * planes + k) * panel;
        for (int j = 0, v = b - PW; j < Wd; j++, v += SW) {
            const bool inside = h >= 0 && h < H && v >= 0 && v < W;
            __global const float *in = x + (c * H + h) * W + v;
            for (int nb = 0; nb < panels; nb++) {
                __global float *to = out + (j * panels + nb) * planes * panel;
                for (int e = 0, n = nb * panel; e < panel; e++, n++) to[e] = inside && n < N ? in[n * C * H * W] : 0.0f;
            }
        }
        return;
    }
    if (r >= N * planes) return;
    const int n = r / planes, k = r % planes;
    const int b = k % SW, a = (k / SW) % SH, c = k / (SW * SH);
    __global float *out = xs + offset + r * Hd * Wd;
    for (int i = 0; i < Hd; i++, out += Wd) {
        int h = SH * i + a - PH;
        if (h < 0 || h >= H) {
            for (int j = 0; j < Wd; j++) out[j] = 0.0f;
            continue;
        }
        __global const float *in = x + ((n * C + c) * H + h) * W;
        // Columns j read v = b − PW + SW·j: zeros left of x, the row, zeros right of it (the
        // row's loop with no test per element vectorizes; at stride 1 it is a copy).
        const int v0 = b - PW;
        const int2 inside = inside_columns(v0, SW, W, Wd);
        const int lo = inside.x, hi = inside.y;
        for (int j = 0; j < lo; j++) out[j] = 0.0f;
        if (SW == 1) {
            for (int j = lo; j < hi; j++) out[j] = in[v0 + j];
        } else {
            for (int j = lo; j < hi; j++) out[j] = in[v0 + SW * j];
        }
        for (int j = hi; j < Wd; j++) out[j] = 0.0f;
    }
}

// y[i] = Σ_j parts[j·count + i] (conv2d_weight_implicit's parts), in order.
__kernel void sum_parts(__global const float *parts, const int offset, __global float *y, const int count, const int n) {
    const int i = get_global_id(0);
    if (i >= count) return;
    float sum = 0.0f;
    for (int j = 0; j < n; j++) sum += parts[offset + j * count + i];
    y[i] = sum;
}

// space_to_depth's xs in blocks of 16 channels innermost: [Cp / 16, N, Hd, Wd, 16], channel
// k < C·SH·SW being (c, a, b) as there, zeros past them. One work-item per block of a row
// (n, i), whose Wd·16 elements are consecutive; (c, a, b) counted up, not divided out.
__kernel void space_to_depth_channels_last(__global const float *x, __global float *xs, const int N, const int C,
                                           const int H, const int W, const int SH, const int SW, const int PH,
                                           const int PW, const int Hd, const int Wd, const int Cp) {
    const int r = get_global_id(0);
    if (r >= Cp / 16 * N * Hd) return;
    const int i = r % Hd, n = (r / Hd) % N, k0 = r / (Hd * N) * 16;
    __global float *out = xs + r * Wd * 16;
    int b = k0 % SW, a = (k0 / SW) % SH, c = k0 / (SW * SH);
    for (int e = 0; e < 16; e++) {
        // Channel e of the block: input row h of channel c, every SW-th pixel from b − PW.
        const int h = SH * i + a - PH;
        if (c < C && h >= 0 && h < H) {
            __global const float *row = x + ((n * C + c) * H + h) * W;
            for (int j = 0, v = b - PW; j < Wd; j++, v += SW) out[j * 16 + e] = v >= 0 && v < W ? row[v] : 0.0f;
        } else {
            for (int j = 0; j < Wd; j++) out[j * 16 + e] = 0.0f;
        }
        if (++b == SW) {
            b = 0;
            if (++a == SH) a = 0, c++;
        }
    }
}

__kernel void space_to_depth_weights(__global const float *w, __global float *ws, const int O, const int C,
                                     const int KH, const int KW, const int SH, const int SW, const int TH, const int TW,
                                     const int TM) {
    // One work-item per (row, c): its SH·SW·TH·TW taps, in the implicit GEMM's tiles of TM
    // rows (`pack_tiles`; rows past O repeat row O − 1).
    int i = get_global_id(0);
    if (i >= (O + TM - 1) / TM * TM * C) return;
    int c = i % C, row = i / C, o = min(row, O - 1), taps = SH * SW * TH * TW;
    __global float *to = ws + (row / TM * C + c) * taps * TM + row % TM;
    for (int a = 0; a < SH; a++)
        for (int b = 0; b < SW; b++)
            for (int t = 0; t < TH; t++)
                for (int u = 0; u < TW; u++, to += TM) {
                    int kh = SH * t + a, kw = SW * u + b;
                    *to = kh < KH && kw < KW ? w[(o * C + c) * KH * KW + kh * KW + kw] : 0.0f;
                }
}
