// Our GEMM: C = A · B + beta · C, row-major, A [M, K], B [K, N], with element offsets
// and leading dimensions as CLBlast's (a transposed operand is transposed first by
// `transpose_matrix`, on the host's request). Each
// work-item computes a TM × (8·VN) tile of C in float8 registers: per k, VN vector
// loads of a row of B and TM broadcasts of A, TM·VN vector multiply-adds (MULADD: `fma`
// where the device fuses in hardware, which PoCL needs to emit FMA instructions). The
// work-items of one column panel are adjacent, so the panel of B stays in cache
// while they stream their rows of A. The variants (TM, VN) are compiled side by
// side; the backend times them against CLBlast once per device.
//
// B comes row-major (B_ROW_MAJOR) or packed (B_PACKED: the 8·VN-column panels one after
// another, each K rows of 8·VN floats, zero-padded past N, as `pack_panels` writes them).
// Packing pays when rows of B are long: a panel's rows then lie a power of two apart
// and share a few cache sets (measured on a 2-core EPYC: 512×4096×1024 at 13.7 GFLOP/s
// row-major, 47.5 packed).

// MULADD comes from the build options (the backend's buildOptions); mad without them.
#ifndef MULADD
#define MULADD mad
#endif

#define GEMM_KERNEL(NAME, TM, VN, A_AT, B_ROW)                                                          \
__kernel void NAME(const int M, const int N, const int K,                                       \
                   __global const float *A, const int offA, const int lda,                      \
                   __global const float *B, const int offB, const int ldb,                      \
                   __global float *C, const int offC, const int ldc, const float beta) {        \
    const int tilesM = (M + TM - 1) / TM;                                                       \
    const int id = get_global_id(0);                                                            \
    const int panel_width = 8 * VN, row0 = (id % tilesM) * TM, col0 = (id / tilesM) * panel_width; \
    if (col0 >= N) return;                                                                      \
    A += offA; B += offB; C += offC;                                                            \
    int rows[TM];                                                                               \
    _Pragma("unroll") for (int r = 0; r < TM; r++) rows[r] = min(row0 + r, M - 1);                                \
    if (col0 + 8 * VN <= N) {                                                                   \
        float8 acc[TM][VN];                                                                     \
        _Pragma("unroll") for (int r = 0; r < TM; r++)                                                            \
            _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = (float8)(0.0f);                            \
        for (int k = 0; k < K; k++) {                                                           \
            float8 b[VN];                                                                       \
            _Pragma("unroll") for (int v = 0; v < VN; v++) b[v] = vload8(v, B_ROW(k));                            \
            _Pragma("unroll") for (int r = 0; r < TM; r++) {                                                      \
                const float8 a = (float8)(A_AT(rows[r], k));                                    \
                _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = MULADD(a, b[v], acc[r][v]);               \
            }                                                                                   \
        }                                                                                       \
        _Pragma("unroll") for (int r = 0; r < TM; r++) {                                                          \
            if (row0 + r >= M) break;                                                           \
            _Pragma("unroll") for (int v = 0; v < VN; v++) {                                                      \
                __global float *c = C + (row0 + r) * ldc + col0 + 8 * v;                        \
                vstore8(beta == 0.0f ? acc[r][v] : acc[r][v] + beta * vload8(0, c), 0, c);      \
            }                                                                                   \
        }                                                                                       \
    } else {                                                                                    \
        /* The last columns, one at a time. */                                                  \
        for (int j = col0; j < N; j++) {                                                        \
            float acc[TM];                                                                      \
            _Pragma("unroll") for (int r = 0; r < TM; r++) acc[r] = 0.0f;                                         \
            for (int k = 0; k < K; k++) {                                                       \
                const float b = B_ROW(k)[j - col0];                                             \
                _Pragma("unroll") for (int r = 0; r < TM; r++) acc[r] = MULADD(A_AT(rows[r], k), b, acc[r]);         \
            }                                                                                   \
            _Pragma("unroll") for (int r = 0; r < TM && row0 + r < M; r++) {                                      \
                __global float *c = C + (row0 + r) * ldc + j;                                   \
                *c = beta == 0.0f ? acc[r] : acc[r] + beta * *c;                                \
            }                                                                                   \
        }                                                                                       \
    }                                                                                           \
}

#define A_ROW_MAJOR(i, k) A[(i) * lda + (k)]
// The first of this work-item's 8·VN columns in row k of B.
#define B_ROW_MAJOR(k) (B + (k) * ldb + col0)
#define B_PACKED(k) (B + col0 * K + (k) * panel_width)

GEMM_KERNEL(gemm_nn_4x2, 4, 2, A_ROW_MAJOR, B_ROW_MAJOR)
GEMM_KERNEL(gemm_nn_8x1, 8, 1, A_ROW_MAJOR, B_ROW_MAJOR)
GEMM_KERNEL(gemm_nn_6x2, 6, 2, A_ROW_MAJOR, B_ROW_MAJOR)
GEMM_KERNEL(gemm_nn_4x3, 4, 3, A_ROW_MAJOR, B_ROW_MAJOR)
GEMM_KERNEL(gemm_np_4x2, 4, 2, A_ROW_MAJOR, B_PACKED)
GEMM_KERNEL(gemm_np_8x1, 8, 1, A_ROW_MAJOR, B_PACKED)
GEMM_KERNEL(gemm_np_6x2, 6, 2, A_ROW_MAJOR, B_PACKED)
GEMM_KERNEL(gemm_np_4x3, 4, 3, A_ROW_MAJOR, B_PACKED)

// B [K, N] (offset offB, leading dimension ldb) into panels of `width` columns:
// panel p, row k at out[(p·K + k)·width], zeros past column N. One work-item per (panel, k).
__kernel void pack_panels(__global const float *B, const int offB, const int ldb, __global float *out,
                          const int K, const int N, const int width) {
    int i = get_global_id(0), panels = (N + width - 1) / width;
    if (i >= panels * K) return;
    int p = i / K, k = i % K;
    __global const float *src = B + offB + k * ldb + p * width;
    __global float *dst = out + i * width;
    if ((p + 1) * width <= N) {
        for (int j = 0; j < width; j += 8) vstore8(vload8(0, src + j), 0, dst + j);
    } else {
        for (int j = 0; j < width; j++) dst[j] = p * width + j < N ? src[j] : 0.0f;
    }
}

// out [K, N] (leading dimension N) = Bᵀ for B [N, K] at offset offB with leading dimension ldb.
// One work-item per (8 rows of out, column n): it reads 8 consecutive elements of B's row n
// and writes them down a column of out; adjacent work-items write adjacent columns. (One
// work-item per element, dividing its index, moved an 8 MB weight matrix at 3 GB/s.)
__kernel void transpose_matrix(__global const float *B, const int offB, const int ldb, __global float *out,
                               const int K, const int N) {
    int i = get_global_id(0);
    if (i >= (K + 7) / 8 * N) return;
    int k0 = i / N * 8, n = i % N;
    __global const float *in = B + offB + n * ldb + k0;
    if (k0 + 8 <= K) {
        float8 v = vload8(0, in);
        float lanes[8];
        vstore8(v, 0, lanes);
        for (int j = 0; j < 8; j++) out[(k0 + j) * N + n] = lanes[j];
    } else {
        for (int j = 0; k0 + j < K; j++) out[(k0 + j) * N + n] = in[j];
    }
}

