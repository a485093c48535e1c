// Reductions: one work-item per output element (or per part of one, for sums).
// The kept axes locate the input base offset; the reduced axes are walked in a loop.
// Sums track the rounding error of every add, so long float sums stay close to the
// Double-accumulated CPU reference.

#define MAX_RANK 8

typedef struct {
    int kept_rank;
    int kept_count;
    int reduced_rank;
    int reduced_count;
    int kept_shape[MAX_RANK];
    int kept_stride[MAX_RANK];
    int reduced_shape[MAX_RANK];
    int reduced_stride[MAX_RANK];
} reduce_t;

// sum += value, with the rounding error of the add (exact, whatever the magnitudes:
// Knuth's TwoSum) collected in `error`; the sum is sum + error at the end (Ogita,
// Rump and Oishi's Sum2: as accurate as summing in twice the precision, then rounding).
#define ADD_TRACKING_ERROR(sum, error, value, TYPE)                  \
    do {                                                             \
        const TYPE value_ = (value), next_ = (sum) + value_;         \
        const TYPE virtual_ = next_ - (sum);                         \
        (error) += ((sum) - (next_ - virtual_)) + (value_ - virtual_); \
        (sum) = next_;                                               \
    } while (0)

inline int offset_of(int i, int rank, const int *shape, const int *stride) {
    int offset = 0;
    for (int axis = rank - 1; axis >= 0; axis--) {
        offset += (i % shape[axis]) * stride[axis];
        i /= shape[axis];
    }
    return offset;
}

// Work-item i sums part i % parts of output i / parts's reduced elements (taken in
// row-major order of the reduced axes) into y[i]: with parts = 1 the whole sum, else a
// partial sum that a second launch (over [outputs, parts], parts = 1) adds up. Few
// outputs with long sums (BatchNorm's per-channel statistics) are split this way so
// every core works. The last reduced axis is walked by an inner loop with a fixed
// stride (the host merges reduced axes that are contiguous), so the index arithmetic
// is paid once per row. With `products` each term is x·z (z laid out as x): a sum of
// products or squares in one pass, the product never written out.
__kernel void reduce_sum_forward(__global const float *x, __global const float *z, __global float *y, const reduce_t p,
                                 const int parts, const int products) {
    int i = get_global_id(0);
    if (i >= p.kept_count * parts) return;
    int base = offset_of(i / parts, p.kept_rank, p.kept_shape, p.kept_stride);
    const int last = p.reduced_rank - 1, length = p.reduced_shape[last], stride = p.reduced_stride[last];
    const int share = (p.reduced_count + parts - 1) / parts, start = (i % parts) * share;
    const int end = min(start + share, p.reduced_count);
    // Contiguous rows go 32 lanes at a time in two vectors of 16 (independent sums, so the
    // adds do not wait on each other: with one vector of 8 each add waited for the last,
    // 16 GB/s on a 32 MB LayerNorm sum), then eight, the rest one by one; the lanes join at
    // the end.
    float sum = 0.0f, error = 0.0f;
    float8 sums = (float8)(0.0f), errors = (float8)(0.0f);
    float16 wide0 = (float16)(0.0f), wideErrors0 = (float16)(0.0f), wide1 = (float16)(0.0f), wideErrors1 = (float16)(0.0f);
    for (int index = start; index < end;) {
        const int row = index / length, column = index % length, run = min(end - index, length - column);
        const int at = base + offset_of(row, last, p.reduced_shape, p.reduced_stride) + column * stride;
        __global const float *in = x + at, *factor = z + at;
        int j = 0;
        if (stride == 1) {
            for (; j + 32 <= run; j += 32) {
                ADD_TRACKING_ERROR(wide0, wideErrors0, products ? vload16(0, in + j) * vload16(0, factor + j) : vload16(0, in + j),
                                   float16);
                ADD_TRACKING_ERROR(wide1, wideErrors1,
                                   products ? vload16(1, in + j) * vload16(1, factor + j) : vload16(1, in + j), float16);
            }
            for (; j + 8 <= run; j += 8)
                ADD_TRACKING_ERROR(sums, errors, products ? vload8(0, in + j) * vload8(0, factor + j) : vload8(0, in + j), float8);
        }
        for (; j < run; j++) ADD_TRACKING_ERROR(sum, error, products ? in[j * stride] * factor[j * stride] : in[j * stride], float);
        index += run;
    }
    float lanes[40];
    vstore16(wide0, 0, lanes);
    vstore16(wide1, 1, lanes);
    vstore8(sums, 4, lanes);
    for (int lane = 0; lane < 40; lane++) ADD_TRACKING_ERROR(sum, error, lanes[lane], float);
    vstore16(wideErrors0, 0, lanes);
    vstore16(wideErrors1, 1, lanes);
    vstore8(errors, 4, lanes);
    for (int lane = 0; lane < 40; lane++) error += lanes[lane];
    y[i] = sum + error;
}

// The same whole sums (parts = 1) eight outputs per work-item, for sums down columns: the
// kept axes' innermost has stride 1 and a multiple of 8 elements, so outputs 8i … 8i + 7 sit
// side by side in every reduced row (a LayerNorm scale's gradient, [N, C, H, W] over N; a
// bias's, [N, F] over N). One work-item per output would walk a stride of a whole row per
// term, one dependent add after another; eight lanes read one vector per row, and add the
// terms in the same order, so every output is rounded as reduce_sum_forward rounds it.
__kernel void reduce_sum_columns(__global const float *x, __global const float *z, __global float *y, const reduce_t p,
                                 const int products) {
    const int i = get_global_id(0);
    if (i >= p.kept_count / 8) return;
    const int base = offset_of(i * 8, p.kept_rank, p.kept_shape, p.kept_stride);
    const int last = p.reduced_rank - 1, length = p.reduced_shape[last], stride = p.reduced_stride[last];
    float8 sums = (float8)(0.0f), errors = (float8)(0.0f);
    for (int row = 0; row < p.reduced_count / length; row++) {
        const int at = base + offset_of(row, last, p.reduced_shape, p.reduced_stride);
        __global const float *in = x + at, *factor = z + at;
        for (int j = 0; j < length; j++)
            ADD_TRACKING_ERROR(sums, errors,
                               products ? vload8(0, in + j * stride) * vload8(0, factor + j * stride) : vload8(0, in + j * stride),
                               float8);
    }
    vstore8(sums + errors, i, y);
}

// The same sums (y[i] = part i % parts of output i / parts) by work-groups of REDUCE_GROUP
// work-items, for GPUs: work-item l takes the part's terms l, l + REDUCE_GROUP, … (so
// neighbours read neighbours), then the group adds its work-items' sums and errors pairwise
// in local memory, still tracking the rounding error. Launched with exactly
// REDUCE_GROUP work-items per group and one group per (output, part).
#define REDUCE_GROUP 64
__kernel void reduce_sum_groups(__global const float *x, __global const float *z, __global float *y, const reduce_t p,
                                const int parts, const int products) {
    __local float sums[REDUCE_GROUP], errors[REDUCE_GROUP];
    const int i = get_group_id(0), l = get_local_id(0);
    const int base = offset_of(i / parts, p.kept_rank, p.kept_shape, p.kept_stride);
    const int last = p.reduced_rank - 1, length = p.reduced_shape[last], stride = p.reduced_stride[last];
    const int share = (p.reduced_count + parts - 1) / parts, start = (i % parts) * share;
    const int end = min(start + share, p.reduced_count);
    float sum = 0.0f, error = 0.0f;
    for (int index = start + l; index < end; index += REDUCE_GROUP) {
        const int row = index / length, column = index % length;
        const int at = base + offset_of(row, last, p.reduced_shape, p.reduced_stride) + column * stride;
        ADD_TRACKING_ERROR(sum, error, products ? x[at] * z[at] : x[at], float);
    }
    sums[l] = sum;
    errors[l] = error;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = REDUCE_GROUP / 2; width > 0; width /= 2) {
        if (l < width) {
            float s = sums[l], e = errors[l] + errors[l + width];
            ADD_TRACKING_ERROR(s, e, sums[l + width], float);
            sums[l] = s;
            errors[l] = e;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (l == 0) y[i] = sums[0] + errors[0];
}

__kernel void reduce_max_forward(__global const float *x, __global float *y, const reduce_t p) {
    int i = get_global_id(0);
    if (i >= p.kept_count) return;
    int base = offset_of(i, p.kept_rank, p.kept_shape, p.kept_stride);
    float best = -INFINITY;
    for (int j = 0; j < p.reduced_count; j++) {
        float v = x[base + offset_of(j, p.reduced_rank, p.reduced_shape, p.reduced_stride)];
        if (v > best || isnan(v)) best = v;
        if (isnan(best)) break;
    }
    y[i] = best;
}
