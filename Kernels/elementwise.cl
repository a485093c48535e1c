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
    UNARY_CASE(UNARY_NEG) UNARY_CASE(UNARY_EXP) UNARY_CASE(UNARY_LOG) UNARY_CASE(UNARY_SQRT) UNARY_CASE(UNARY_RSQRT)
    UNARY_CASE(UNARY_SQUARE) UNARY_CASE(UNARY_ABS) UNARY_CASE(UNARY_SIGN) UNARY_CASE(UNARY_RELU) UNARY_CASE(UNARY_LEAKY_RELU)
    UNARY_CASE(UNARY_TANH) UNARY_CASE(UNARY_SIGMOID) UNARY_CASE(UNARY_SOFTPLUS) UNARY_CASE(UNARY_CLAMP)
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
    BINARY_CASE(BINARY_ADD) BINARY_CASE(BINARY_SUB) BINARY_CASE(BINARY_MUL) BINARY_CASE(BINARY_DIV) BINARY_CASE(BINARY_POW)
    BINARY_CASE(BINARY_MAXIMUM) BINARY_CASE(BINARY_MINIMUM) BINARY_CASE(BINARY_EQUAL) BINARY_CASE(BINARY_NOT_EQUAL) BINARY_CASE(BINARY_LESS)
    BINARY_CASE(BINARY_LESS_EQUAL) BINARY_CASE(BINARY_GREATER) BINARY_CASE(BINARY_GREATER_EQUAL)
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
