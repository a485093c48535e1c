// The elementwise functions and loop, shared by elementwise.cl, optimizers.cl and the fused
// elementwise kernels that plans generate (Sources/OpenCLBackend/FusedKernels.swift), which
// are compiled with this file alone. Op codes: the UNARY_* and BINARY_* names below. Full-precision built-ins (not native_*) keep
// results within a few ulp of the CPU reference.

// Work-item w updates `chunk` elements: runs of `lanes` adjacent work-items interleave
// over one contiguous block of lanes · chunk elements. The host (ElementSpread) picks
// lanes = 1 on CPUs — each work-item a contiguous run, walked by a loop of its own that the
// compiler vectorizes (the strided loop's two exit tests kept PoCL from vectorizing it) — and
// lanes = the work-group size on GPUs (coalesced). Used as FOR_EACH_ELEMENT(i, body).
// Kernels switch on their op once, outside the loop, so that each case's loop is
// vectorized. (Also used by optimizers.cl.)
#define FOR_EACH_ELEMENT(i, ...)                                                                   \
    if (lanes == 1) {                                                                              \
        const int first_ = get_global_id(0) * chunk, end_ = min(first_ + chunk, count);            \
        for (int i = first_; i < end_; i++) { __VA_ARGS__ }                                        \
    } else {                                                                                       \
        const int w_ = get_global_id(0), first_ = (w_ / lanes) * lanes * chunk + w_ % lanes;        \
        for (int j_ = 0, i = first_; j_ < chunk && i < count; j_++, i += lanes) { __VA_ARGS__ }    \
    }

// Op codes, named alike in Swift (`UnaryKernelCode`, `BinaryKernelCode` in
// Sources/OpenCLBackend/Elementwise.swift; a test checks that the two lists agree).
#define UNARY_NEG 0
#define UNARY_EXP 1
#define UNARY_LOG 2
#define UNARY_SQRT 3
#define UNARY_RSQRT 4
#define UNARY_SQUARE 5
#define UNARY_ABS 6
#define UNARY_SIGN 7
#define UNARY_RELU 8
#define UNARY_LEAKY_RELU 9
#define UNARY_TANH 10
#define UNARY_SIGMOID 11
#define UNARY_SOFTPLUS 12
#define UNARY_CLAMP 13
#define BINARY_ADD 0
#define BINARY_SUB 1
#define BINARY_MUL 2
#define BINARY_DIV 3
#define BINARY_POW 4
#define BINARY_MAXIMUM 5
#define BINARY_MINIMUM 6
#define BINARY_EQUAL 7
#define BINARY_NOT_EQUAL 8
#define BINARY_LESS 9
#define BINARY_LESS_EQUAL 10
#define BINARY_GREATER 11
#define BINARY_GREATER_EQUAL 12

// The functions by op code. Kernels call them with a literal code, which the compiler folds;
// fused and unfused ops compute alike.
inline float unary_op(const int op, const float v, const float p0, const float p1) {
    switch (op) {
    case UNARY_NEG: return -v;
    case UNARY_EXP: return exp(v);
    case UNARY_LOG: return log(v);
    case UNARY_SQRT: return sqrt(v);
    case UNARY_RSQRT: return 1.0f / sqrt(v);
    case UNARY_SQUARE: return v * v;
    case UNARY_ABS: return fabs(v);
    case UNARY_SIGN: return v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : v);
    case UNARY_RELU: return v > 0.0f ? v : 0.0f;
    case UNARY_LEAKY_RELU: return v > 0.0f ? v : v * p0;
    case UNARY_TANH: return tanh(v);
    case UNARY_SIGMOID: return v >= 0.0f ? 1.0f / (1.0f + exp(-v)) : exp(v) / (1.0f + exp(v));
    case UNARY_SOFTPLUS: return fmax(v, 0.0f) + log1p(exp(-fabs(v)));
    case UNARY_CLAMP: return fmin(fmax(v, p0), p1);
    default: return NAN;
    }
}

inline float binary_op(const int op, const float u, const float v) {
    switch (op) {
    case BINARY_ADD: return u + v;
    case BINARY_SUB: return u - v;
    case BINARY_MUL: return u * v;
    case BINARY_DIV: return u / v;
    case BINARY_POW: return pow(u, v);
    case BINARY_MAXIMUM: return (isnan(u) || isnan(v)) ? NAN : fmax(u, v);
    case BINARY_MINIMUM: return (isnan(u) || isnan(v)) ? NAN : fmin(u, v);
    case BINARY_EQUAL: return u == v ? 1.0f : 0.0f;
    case BINARY_NOT_EQUAL: return u != v ? 1.0f : 0.0f;
    case BINARY_LESS: return u < v ? 1.0f : 0.0f;
    case BINARY_LESS_EQUAL: return u <= v ? 1.0f : 0.0f;
    case BINARY_GREATER: return u > v ? 1.0f : 0.0f;
    case BINARY_GREATER_EQUAL: return u >= v ? 1.0f : 0.0f;
    default: return NAN;
    }
}
