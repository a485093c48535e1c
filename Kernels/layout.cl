// Layout family: every op is one strided copy. One work-item per element of
// `shape`; its multi-index gives the source and destination offsets.

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

__kernel void strided_copy(__global const float *x, __global float *y, const strided_copy_t p) {
    int i = get_global_id(0);
    if (i >= p.count) return;
    int s = p.source_base, d = p.destination_base, rest = i;
    for (int axis = p.rank - 1; axis >= 0; axis--) {
        int index = rest % p.shape[axis];
        rest /= p.shape[axis];
        s += index * p.source_stride[axis];
        d += index * p.destination_stride[axis];
    }
    y[d] = x[s];
}
