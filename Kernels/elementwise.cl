// Elementwise family (activations included) over contiguous, equal-shaped operands.
// `op` selects the function; the codes are `UnaryOp.code` / `BinaryOp.code` in
// Sources/OpenCLBackend/Elementwise.swift.
// Full-precision built-ins (not native_*) keep results within a few ulp of the
// CPU reference.

// Work-item w updates `chunk` elements: runs of `lanes` adjacent work-items interleave
// over one contiguous block of lanes · chunk elements. The host (ElementSpread) picks
// lanes = 1 on CPUs — each work-item a contiguous run, which the compiler vectorizes —
// and lanes = the work-group size on GPUs (coalesced). Kernels switch on their op once,
// outside the loop, so that each case's loop is vectorized. (Also used by optim.cl.)
#define FOR_EACH_ELEMENT(i)                                                                      \
    const int w_ = get_global_id(0), first_ = (w_ / lanes) * lanes * chunk + w_ % lanes;          \
    for (int j_ = 0, i = first_; j_ < chunk && i < count; j_++, i += lanes)

__kernel void fill_forward(__global float *y, const float value, const int count, const int chunk, const int lanes) {
    FOR_EACH_ELEMENT(i) y[i] = value;
}

#define UNARY_CASE(CODE, EXPRESSION)                       \
    case CODE: {                                           \
        FOR_EACH_ELEMENT(i) {                              \
            const float v = x[i];                          \
            y[i] = (EXPRESSION);                           \
        }                                                  \
        break;                                             \
    }

__kernel void unary_forward(__global const float *x, __global float *y, const int op,
                            const float p0, const float p1, const int count, const int chunk, const int lanes) {
    switch (op) {
    UNARY_CASE(0, -v)
    UNARY_CASE(1, exp(v))
    UNARY_CASE(2, log(v))
    UNARY_CASE(3, sqrt(v))
    UNARY_CASE(4, 1.0f / sqrt(v))
    UNARY_CASE(5, v * v)
    UNARY_CASE(6, fabs(v))
    UNARY_CASE(7, v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : v))
    UNARY_CASE(8, v > 0.0f ? v : 0.0f)
    UNARY_CASE(9, v > 0.0f ? v : v * p0)
    UNARY_CASE(10, tanh(v))
    UNARY_CASE(11, v >= 0.0f ? 1.0f / (1.0f + exp(-v)) : exp(v) / (1.0f + exp(v)))
    UNARY_CASE(12, fmax(v, 0.0f) + log1p(exp(-fabs(v))))
    UNARY_CASE(13, fmin(fmax(v, p0), p1))
    default: { FOR_EACH_ELEMENT(i) y[i] = NAN; }
    }
}

#define BINARY_CASE(CODE, EXPRESSION)                      \
    case CODE: {                                           \
        FOR_EACH_ELEMENT(i) {                              \
            const float u = a[i], v = b[i];                \
            y[i] = (EXPRESSION);                           \
        }                                                  \
        break;                                             \
    }

__kernel void binary_forward(__global const float *a, __global const float *b, __global float *y,
                             const int op, const int count, const int chunk, const int lanes) {
    switch (op) {
    BINARY_CASE(0, u + v)
    BINARY_CASE(1, u - v)
    BINARY_CASE(2, u * v)
    BINARY_CASE(3, u / v)
    BINARY_CASE(4, pow(u, v))
    BINARY_CASE(5, (isnan(u) || isnan(v)) ? NAN : fmax(u, v))
    BINARY_CASE(6, (isnan(u) || isnan(v)) ? NAN : fmin(u, v))
    BINARY_CASE(7, u == v ? 1.0f : 0.0f)
    BINARY_CASE(8, u != v ? 1.0f : 0.0f)
    BINARY_CASE(9, u < v ? 1.0f : 0.0f)
    BINARY_CASE(10, u <= v ? 1.0f : 0.0f)
    BINARY_CASE(11, u > v ? 1.0f : 0.0f)
    BINARY_CASE(12, u >= v ? 1.0f : 0.0f)
    default: { FOR_EACH_ELEMENT(i) y[i] = NAN; }
    }
}

__kernel void select_forward(__global const float *c, __global const float *a, __global const float *b,
                             __global float *y, const int count, const int chunk, const int lanes) {
    FOR_EACH_ELEMENT(i) y[i] = c[i] != 0.0f ? a[i] : b[i];
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
