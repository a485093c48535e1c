// Reductions: one work-item per output element. The kept axes locate the
// input base offset; the reduced axes are walked in a loop. Sums use Kahan
// compensation, so long float sums stay close to the Double-accumulated CPU
// reference.

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

inline int offset_of(int i, int rank, const int *shape, const int *stride) {
    int offset = 0;
    for (int axis = rank - 1; axis >= 0; axis--) {
        offset += (i % shape[axis]) * stride[axis];
        i /= shape[axis];
    }
    return offset;
}

// The last reduced axis is walked by an inner loop with a fixed stride (the host merges
// reduced axes that are contiguous), so the index arithmetic is paid once per row.
__kernel void reduce_sum_forward(__global const float *x, __global float *y, const reduce_t p) {
    int i = get_global_id(0);
    if (i >= p.kept_count) return;
    int base = offset_of(i, p.kept_rank, p.kept_shape, p.kept_stride);
    const int last = p.reduced_rank - 1, length = p.reduced_shape[last], stride = p.reduced_stride[last];
    float sum = 0.0f, compensation = 0.0f;
    for (int row = 0; row < p.reduced_count / length; row++) {
        __global const float *in = x + base + offset_of(row, last, p.reduced_shape, p.reduced_stride);
        for (int j = 0; j < length; j++) {
            float term = in[j * stride] - compensation;
            float next = sum + term;
            compensation = (next - sum) - term;
            sum = next;
        }
    }
    y[i] = sum;
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
