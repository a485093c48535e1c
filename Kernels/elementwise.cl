// Elementwise family (activations included) over contiguous, equal-shaped operands, one op
// per launch; `op` selects the function of element_functions.cl (which also holds the loop).

__kernel void fill_forward(__global float *y, const float value, const int count, const int chunk, const int lanes) {
    FOR_EACH_ELEMENT(i, y[i] = value;)
}

#define UNARY_CASE(CODE)                                                   \
    case CODE: {                                                           \
        FOR_EACH_ELEMENT(i, y[i] = unary_op(CODE, x[i], p0, p1);)           \
        break;                                                             \
    }

__kernel void unary_forward(__global const float *x, __global float *y, const int op,
                            const float p0, const float p1, const int count, const int chunk, const int lanes) {
    switch (op) {
    UNARY_CASE(0) UNARY_CASE(1) UNARY_CASE(2) UNARY_CASE(3) UNARY_CASE(4) UNARY_CASE(5) UNARY_CASE(6)
    UNARY_CASE(7) UNARY_CASE(8) UNARY_CASE(9) UNARY_CASE(10) UNARY_CASE(11) UNARY_CASE(12) UNARY_CASE(13)
    default: { FOR_EACH_ELEMENT(i, y[i] = NAN;) }
    }
}

#define BINARY_CASE(CODE)                                                  \
    case CODE: {                                                           \
        FOR_EACH_ELEMENT(i, y[i] = binary_op(CODE, a[i], b[i]);)            \
        break;                                                             \
    }

__kernel void binary_forward(__global const float *a, __global const float *b, __global float *y,
                             const int op, const int count, const int chunk, const int lanes) {
    switch (op) {
    BINARY_CASE(0) BINARY_CASE(1) BINARY_CASE(2) BINARY_CASE(3) BINARY_CASE(4) BINARY_CASE(5) BINARY_CASE(6)
    BINARY_CASE(7) BINARY_CASE(8) BINARY_CASE(9) BINARY_CASE(10) BINARY_CASE(11) BINARY_CASE(12)
    default: { FOR_EACH_ELEMENT(i, y[i] = NAN;) }
    }
}

__kernel void select_forward(__global const float *c, __global const float *a, __global const float *b,
                             __global float *y, const int count, const int chunk, const int lanes) {
    FOR_EACH_ELEMENT(i, y[i] = c[i] != 0.0f ? a[i] : b[i];)
}

// One work-item per row. A label outside 0..<depth records row + 1 in `status`
// (the first such row wins), which the backend turns into an error.
__kernel void one_hot_forward(__global const float *labels, __global float *y, __global int *status,
                              const int rows, const int depth) {
    int row = get_global_id(0);
    if (row >= rows) return;
    float label = labels[row];
    for (int j = 0; j < depth; j++) y[row * depth + j] = 0.0f;
    if (label >= 0.0f && label < (float)depth && label == floor(label)) {
        y[row * depth + (int)label] = 1.0f;
    } else {
        atomic_cmpxchg(status, 0, row + 1);
    }
}
