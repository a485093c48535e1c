// Layout family: every op is one strided copy; a row's multi-index gives the source
// and destination offsets.

#define MAX_RANK 8

typedef struct {
    int rank;
    int count;
    int source_base;
    int destination_base;
    int shape[MAX_RANK];
    int source_stride[MAX_RANK];
    int destination_stride[MAX_RANK];
} strided_copy_t;

// One work-item per row of the last axis: the index arithmetic is paid once per row
// (the host merges contiguous axes first, so rows are as long as they can be).
__kernel void strided_copy(__global const float *x, __global float *y, const strided_copy_t p) {
    int i = get_global_id(0), last = p.rank - 1, length = p.shape[last];
    if (i >= p.count / length) return;
    int s = p.source_base, d = p.destination_base, rest = i;
    for (int axis = last - 1; axis >= 0; axis--) {
        int index = rest % p.shape[axis];
        rest /= p.shape[axis];
        s += index * p.source_stride[axis];
        d += index * p.destination_stride[axis];
    }
    const int ss = p.source_stride[last], ds = p.destination_stride[last];
    for (int j = 0; j < length; j++) y[d + j * ds] = x[s + j * ss];
}
