// Layout family: every op is one strided copy; a row's multi-index gives the source
// and destination offsets.

#define MAX_RANK 8

typedef struct {
    int rank;
    int count;
    int parts;
    int source_base;
    int destination_base;
    int shape[MAX_RANK];
    int source_stride[MAX_RANK];
    int destination_stride[MAX_RANK];
} strided_copy_t;

// `parts` work-items per row of the last axis (the host merges contiguous axes first, so
// rows are as long as they can be): part j copies elements j, j + parts, … of row i / parts,
// so neighbouring work-items touch neighbouring elements on a GPU, while a CPU (parts = 1)
// pays the index arithmetic once per row.
__kernel void strided_copy(__global const float *x, __global float *y, const strided_copy_t p) {
    int i = get_global_id(0), last = p.rank - 1, length = p.shape[last];
    int rest = i / p.parts, part = i % p.parts;
    if (rest >= p.count / length) return;
    int s = p.source_base, d = p.destination_base;
    for (int axis = last - 1; axis >= 0; axis--) {
        int index = rest % p.shape[axis];
        rest /= p.shape[axis];
        s += index * p.source_stride[axis];
        d += index * p.destination_stride[axis];
    }
    const int ss = p.source_stride[last], ds = p.destination_stride[last];
    for (int j = part; j < length; j += p.parts) y[d + j * ds] = x[s + j * ss];
}
