// Our GEMM: C = A · B + beta · C, row-major, A [M, K], B [K, N], with element offsets
// and leading dimensions as CLBlast's (a transposed operand is transposed first by
// `transpose_matrix`, on the host's request). Each
// work-item computes a TM × (VW·VN) tile of C in registers of VW floats (float8: AVX2's
// width; float16: AVX-512's, which PoCL splits in two where the target has no 512-bit
// registers): per k, VN vector loads of a row of B and TM broadcasts of A, TM·VN vector
// multiply-adds (MULADD: `fma` where the device fuses in hardware, which PoCL needs to
// emit FMA instructions). The work-items of one column panel are adjacent, so the panel of
// B stays in cache while they stream their rows of A. The variants (TM, VN, VW) are
// compiled side by side; the backend times them against CLBlast once per device.
//
// B comes row-major (B_ROW_MAJOR) or packed (B_PACKED: the VW·VN-column panels one after
// another, each K rows of VW·VN floats, zero-padded past N, as `pack_panels` writes them).
// Packing pays where a panel's rows lie far apart (each row of a panel on its own page, or
// a power of two apart in a few cache sets) and A has enough rows to repay the pass over B
// (measured on 2-core EPYCs: 512×4096×1024 at 13.7 GFLOP/s row-major, 47.5 packed;
// 512×961×4096 at 41, 99 packed; the backend's `ownGEMM` holds the rule).

// MULADD comes from the build options (the backend's buildOptions); mad without them.
#ifndef MULADD
#define MULADD mad
#endif

// floatVW, vloadVW, vstoreVW for a vector width VW that is itself a macro argument.
#define VEC_(w) float##w
#define VEC(w) VEC_(w)
#define VLOAD_(w) vload##w
#define VLOAD(w) VLOAD_(w)
#define VSTORE_(w) vstore##w
#define VSTORE(w) VSTORE_(w)
// Width 1: plain floats.
#define float1 float
#define vload1(i, p) ((p)[i])
#define vstore1(v, i, p) ((p)[i] = (v))

#define GEMM_KERNEL(NAME, TM, VN, VW, A_AT, B_ROW)                                                        \
__kernel void NAME(const int M, const int N, const int K,                                       \
                   __global const float *A, const int offA, const int lda,                      \
                   __global const float *B, const int offB, const int ldb,                      \
                   __global float *C, const int offC, const int ldc, const float beta) {        \
    const int tilesM = (M + TM - 1) / TM;                                                       \
    const int id = get_global_id(0);                                                            \
    const int panel_width = VW * VN, row0 = (id % tilesM) * TM, col0 = (id / tilesM) * panel_width; \
    if (col0 >= N) return;                                                                      \
    A += offA; B += offB; C += offC;                                                            \
    __global const float *rows[TM];                                                             \
    _Pragma("unroll") for (int r = 0; r < TM; r++) rows[r] = A + min(row0 + r, M - 1) * lda;   \
    if (col0 + VW * VN <= N) {                                                                   \
        VEC(VW) acc[TM][VN];                                                                    \
        _Pragma("unroll") for (int r = 0; r < TM; r++)                                                            \
            _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = (VEC(VW))(0.0f);                            \
        for (int k = 0; k < K; k++) {                                                           \
            VEC(VW) b[VN];                                                                      \
            _Pragma("unroll") for (int v = 0; v < VN; v++) b[v] = VLOAD(VW)(v, B_ROW(k));                            \
            _Pragma("unroll") for (int r = 0; r < TM; r++) {                                                      \
                const VEC(VW) a = (VEC(VW))(A_AT(rows[r], k));                                    \
                _Pragma("unroll") for (int v = 0; v < VN; v++) acc[r][v] = MULADD(a, b[v], acc[r][v]);               \
            }                                                                                   \
        }                                                                                       \
        _Pragma("unroll") for (int r = 0; r < TM; r++) {                                                          \
            if (row0 + r >= M) break;                                                           \
            _Pragma("unroll") for (int v = 0; v < VN; v++) {                                                      \
                __global float *c = C + (row0 + r) * ldc + col0 + VW * v;                        \
                VSTORE(VW)(beta == 0.0f ? acc[r][v] : acc[r][v] + beta * VLOAD(VW)(0, c), 0, c);      \
            }                                                                                   \
        }                                                                                       \
    } else {                                                                                    \
        /* The last panel's columns: whole vectors of VW, then of 8, then one at a time. */    \
        int j = col0;                                                                           \
        for (; j + VW <= N; j += VW) GEMM_TAIL_VECTOR(TM, VW, A_AT, B_ROW)                      \
        for (; j + 8 <= N; j += 8) GEMM_TAIL_VECTOR(TM, 8, A_AT, B_ROW)                         \
        for (; j < N; j++) GEMM_TAIL_VECTOR(TM, 1, A_AT, B_ROW)                                 \
    }                                                                                           \
}

// TM rows × W columns of C from column j (W = 1: scalars).
#define GEMM_TAIL_VECTOR(TM, W, A_AT, B_ROW)                                                    \
    {                                                                                           \
        VEC(W) acc[TM];                                                                         \
        _Pragma("unroll") for (int r = 0; r < TM; r++) acc[r] = (VEC(W))(0.0f);                 \
        for (int k = 0; k < K; k++) {                                                           \
            const VEC(W) b = VLOAD(W)(0, B_ROW(k) + j - col0);                                  \
            _Pragma("unroll") for (int r = 0; r < TM; r++)                                      \
                acc[r] = MULADD((VEC(W))(A_AT(rows[r], k)), b, acc[r]);                         \
        }                                                                                       \
        _Pragma("unroll") for (int r = 0; r < TM && row0 + r < M; r++) {                        \
            __global float *c = C + (row0 + r) * ldc + j;                                       \
            VSTORE(W)(beta == 0.0f ? acc[r] : acc[r] + beta * VLOAD(W)(0, c), 0, c);            \
        }                                                                                       \
    }

// Row r of this work-item's tile: a pointer per row, so k is the one index that moves (an
// index per row cost a sign extension and an increment per row and k).
#define A_ROW_MAJOR(row, k) (row)[k]
// The first of this work-item's VW·VN columns in row k of B.
#define B_ROW_MAJOR(k) (B + (k) * ldb + col0)
#define B_PACKED(k) (B + col0 * K + (k) * panel_width)

// float8 tiles (16 registers of AVX2 hold 8–12 accumulators), then float16 ones (32 registers
// of AVX-512). While A's rows were indexed one by one, the larger tiles lost to 6×2 (the row
// addresses spilled); with a pointer per row here and A packed in the implicit kernels, 8×2
// and 6×4 win some convolutions, which the tuner times per layer (docs/performance.md).
// GEMM_TILES(X) applies X to every tile (name, TM, VN, VW); implicit.cl's kernels use it too.
#define GEMM_TILES(X) X(4x2, 4, 2, 8) X(8x1, 8, 1, 8) X(6x2, 6, 2, 8) X(4x3, 4, 3, 8) X(6x1w16, 6, 1, 16) X(6x2w16, 6, 2, 16) \
    X(8x2w16, 8, 2, 16) X(4x4w16, 4, 4, 16) X(6x4w16, 6, 4, 16) X(8x3w16, 8, 3, 16)
#define GEMM_KERNELS(TILE, TM, VN, VW)                              \
    GEMM_KERNEL(gemm_nn_##TILE, TM, VN, VW, A_ROW_MAJOR, B_ROW_MAJOR) \
    GEMM_KERNEL(gemm_np_##TILE, TM, VN, VW, A_ROW_MAJOR, B_PACKED)
GEMM_TILES(GEMM_KERNELS)

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

// out [K, N] (leading dimension N, at offset offOut) = Bᵀ for B [N, K] at offset offB with
// leading dimension ldb; `batch` such matrices one after another (B's N·ldb apart, out's K·N).
// One work-item per (matrix, block of 16 × 16): it loads its 16 rows of B (16 columns of
// out) first, then writes 16 rows of out. Rows of B far apart (a weight matrix's rows 16 KB
// apart) sit on different pages, where the prefetchers do not follow: loaded one row per
// work-item, between runs of scattered stores, each load waited for memory in turn (dcgan64's
// 8 MB weights at 5 GB/s); sixteen independent loads overlap. Adjacent work-items take
// adjacent blocks along N, so they write neighbouring runs of the same 16 rows of out.
__kernel void transpose_matrix(__global const float *B, const int offB, const int ldb, __global float *out,
                               const int offOut, const int K, const int N, const int batch) {
    const int blocksN = (N + 15) / 16, per = (K + 15) / 16 * blocksN;
    int i = get_global_id(0);
    if (i >= per * batch) return;
    const int b = i / per;
    i %= per;
    const int k0 = i / blocksN * 16, n0 = i % blocksN * 16;
    B += offB + (b * N + n0) * ldb + k0;
    out += offOut + b * K * N + k0 * N + n0;
    if (k0 + 16 <= K && n0 + 16 <= N) {
        float tile[16][16];
        _Pragma("unroll") for (int r = 0; r < 16; r++) vstore16(vload16(0, B + r * ldb), 0, tile[r]);
        for (int j = 0; j < 16; j++) {
            float column[16];
            _Pragma("unroll") for (int r = 0; r < 16; r++) column[r] = tile[r][j];
            vstore16(vload16(0, column), 0, out + j * N);
        }
    } else {
        for (int r = 0; r < 16 && n0 + r < N; r++)
            for (int j = 0; j < 16 && k0 + j < K; j++) out[j * N + r] = B[r * ldb + j];
    }
}

// The GPU GEMM: work-groups of 16 × 16 work-items compute a (16·R) × (16·R) tile of C,
// staging TK-deep slices of A and B in local memory; work-item (ty, tx) owns rows
// ty + 16·i and columns tx + 16·j (i, j < R), so a warp's reads of B's slice are
// consecutive and of A's a broadcast, and its writes of C coalesce. Either operand may come
// transposed (its slice is read along its rows instead), so no transposing pass is needed.
// Launched with exactly 256 work-items per group, one group per tile (tiles down M first)
// and slice of K: with several slices (split K, for products of few tiles and long sums such
// as weight gradients), slice s sums its kSlice terms into C + s·sliceStride, and
// `gemm_sum_slices` adds the slices up. (The register-tile kernels above keep a work-item's
// panel in cache on a CPU; on a GPU they leave neighbouring work-items reading far-apart rows.)
#define TK 16
#define A_N(row, kk) ((m0 + (row) < M && k0 + (kk) < kEnd) ? A[(m0 + (row)) * lda + k0 + (kk)] : 0.0f)
#define A_T(row, kk) ((m0 + (row) < M && k0 + (kk) < kEnd) ? A[(k0 + (kk)) * lda + m0 + (row)] : 0.0f)
#define B_N(kk, col) ((n0 + (col) < N && k0 + (kk) < kEnd) ? B[(k0 + (kk)) * ldb + n0 + (col)] : 0.0f)
#define B_T(kk, col) ((n0 + (col) < N && k0 + (kk) < kEnd) ? B[(n0 + (col)) * ldb + k0 + (kk)] : 0.0f)
// Which element of the slice load `idx` fetches: along K for a row-major A (rows of A run
// along K) and a transposed B, along the tile otherwise, so neighbouring work-items read
// neighbouring addresses.
#define A_N_LOAD(idx) As[(idx) % TK][(idx) / TK] = A_N((idx) / TK, (idx) % TK)
#define A_T_LOAD(idx) As[(idx) / TILE][(idx) % TILE] = A_T((idx) % TILE, (idx) / TILE)
#define B_N_LOAD(idx) Bs[(idx) / TILE][(idx) % TILE] = B_N((idx) / TILE, (idx) % TILE)
#define B_T_LOAD(idx) Bs[(idx) % TK][(idx) / TK] = B_T((idx) % TK, (idx) / TK)

#define GEMM_TILED(NAME, R, A_LOAD, B_LOAD)                                                          \
__kernel __attribute__((reqd_work_group_size(256, 1, 1)))                                           \
void NAME(const int M, const int N, const int K,                                                     \
          __global const float *A, const int offA, const int lda,                                    \
          __global const float *B, const int offB, const int ldb,                                    \
          __global float *C, const int offC, const int ldc, const float beta,                        \
          const int kSlice, const int sliceStride) {                                                 \
    enum { TILE = 16 * R };                                                                          \
    __local float As[TK][TILE + 1], Bs[TK][TILE + 1];                                                \
    const int tilesM = (M + TILE - 1) / TILE, tilesN = (N + TILE - 1) / TILE;                        \
    const int g = get_group_id(0) % (tilesM * tilesN), slice = get_group_id(0) / (tilesM * tilesN);  \
    const int l = get_local_id(0), tx = l % 16, ty = l / 16;                                         \
    const int m0 = (g % tilesM) * TILE, n0 = (g / tilesM) * TILE;                                    \
    const int kStart = slice * kSlice, kEnd = min(K, kStart + kSlice);                               \
    A += offA; B += offB; C += offC + slice * sliceStride;                                           \
    float acc[R][R];                                                                                 \
    _Pragma("unroll") for (int i = 0; i < R; i++)                                                    \
        _Pragma("unroll") for (int j = 0; j < R; j++) acc[i][j] = 0.0f;                              \
    for (int k0 = kStart; k0 < kEnd; k0 += TK) {                                                     \
        _Pragma("unroll") for (int r = 0; r < R; r++) {                                              \
            A_LOAD(l + 256 * r);                                                                     \
            B_LOAD(l + 256 * r);                                                                     \
        }                                                                                            \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                \
        _Pragma("unroll") for (int kk = 0; kk < TK; kk++) {                                          \
            float a[R], b[R];                                                                        \
            _Pragma("unroll") for (int i = 0; i < R; i++) a[i] = As[kk][ty + 16 * i];                \
            _Pragma("unroll") for (int j = 0; j < R; j++) b[j] = Bs[kk][tx + 16 * j];                \
            _Pragma("unroll") for (int i = 0; i < R; i++)                                            \
                _Pragma("unroll") for (int j = 0; j < R; j++) acc[i][j] = MULADD(a[i], b[j], acc[i][j]); \
        }                                                                                            \
        barrier(CLK_LOCAL_MEM_FENCE);                                                                \
    }                                                                                                \
    _Pragma("unroll") for (int i = 0; i < R; i++) {                                                  \
        const int row = m0 + ty + 16 * i;                                                            \
        if (row >= M) break;                                                                         \
        _Pragma("unroll") for (int j = 0; j < R; j++) {                                              \
            const int col = n0 + tx + 16 * j;                                                        \
            if (col < N) {                                                                           \
                __global float *c = C + row * ldc + col;                                             \
                *c = beta == 0.0f ? acc[i][j] : acc[i][j] + beta * *c;                               \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
}

GEMM_TILED(gemm_tiled64_nn, 4, A_N_LOAD, B_N_LOAD)
GEMM_TILED(gemm_tiled64_tn, 4, A_T_LOAD, B_N_LOAD)
GEMM_TILED(gemm_tiled64_nt, 4, A_N_LOAD, B_T_LOAD)
GEMM_TILED(gemm_tiled64_tt, 4, A_T_LOAD, B_T_LOAD)
GEMM_TILED(gemm_tiled128_nn, 8, A_N_LOAD, B_N_LOAD)
GEMM_TILED(gemm_tiled128_tn, 8, A_T_LOAD, B_N_LOAD)
GEMM_TILED(gemm_tiled128_nt, 8, A_N_LOAD, B_T_LOAD)
GEMM_TILED(gemm_tiled128_tt, 8, A_T_LOAD, B_T_LOAD)

// C = Σ_s partials[s] + beta · C over the slices of a split-K tiled GEMM ([slices, M, N]),
// one work-item per element of C, the slices added in order.
__kernel void gemm_sum_slices(__global const float *partials, const int slices, const int M, const int N,
                              __global float *C, const int offC, const int ldc, const float beta) {
    int i = get_global_id(0);
    if (i >= M * N) return;
    float sum = 0.0f;
    for (int s = 0; s < slices; s++) sum += partials[s * M * N + i];
    __global float *c = C + offC + (i / N) * ldc + i % N;
    *c = beta == 0.0f ? sum : sum + beta * *c;
}
