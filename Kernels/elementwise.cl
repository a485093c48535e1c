// Elementwise family (activations included): one work-item per element of
// contiguous, equal-shaped operands. `op` selects the function; the codes are
// `UnaryOp.code` / `BinaryOp.code` in Sources/OpenCLBackend/Elementwise.swift.
// Full-precision built-ins (not native_*) keep results within a few ulp of the
// CPU reference.

__kernel void fill_forward(__global float *y, const float value, const int count) {
    int i = get_global_id(0);
    if (i < count) y[i] = value;
}

__kernel void unary_forward(__global const float *x, __global float *y, const int op,
                            const float p0, const float p1, const int count) {
    int i = get_global_id(0);
    if (i >= count) return;
    float v = x[i], r;
    switch (op) {
    case 0: r = -v; break;
    case 1: r = exp(v); break;
    case 2: r = log(v); break;
    case 3: r = sqrt(v); break;
    case 4: r = 1.0f / sqrt(v); break;
    case 5: r = v * v; break;
    case 6: r = fabs(v); break;
    case 7: r = v > 0.0f ? 1.0f : (v < 0.0f ? -1.0f : v); break;
    case 8: r = v > 0.0f ? v : 0.0f; break;
    case 9: r = v > 0.0f ? v : v * p0; break;
    case 10: r = tanh(v); break;
    case 11: r = v >= 0.0f ? 1.0f / (1.0f + exp(-v)) : exp(v) / (1.0f + exp(v)); break;
    case 12: r = fmax(v, 0.0f) + log1p(exp(-fabs(v))); break;
    case 13: r = fmin(fmax(v, p0), p1); break;
    default: r = NAN;
    }
    y[i] = r;
}

__kernel void binary_forward(__global const float *a, __global const float *b, __global float *y,
                             const int op, const int count) {
    int i = get_global_id(0);
    if (i >= count) return;
    float u = a[i], v = b[i], r;
    switch (op) {
    case 0: r = u + v; break;
    case 1: r = u - v; break;
    case 2: r = u * v; break;
    case 3: r = u / v; break;
    case 4: r = pow(u, v); break;
    case 5: r = (isnan(u) || isnan(v)) ? NAN : fmax(u, v); break;
    case 6: r = (isnan(u) || isnan(v)) ? NAN : fmin(u, v); break;
    case 7: r = u == v ? 1.0f : 0.0f; break;
    case 8: r = u != v ? 1.0f : 0.0f; break;
    case 9: r = u < v ? 1.0f : 0.0f; break;
    case 10: r = u <= v ? 1.0f : 0.0f; break;
    case 11: r = u > v ? 1.0f : 0.0f; break;
    case 12: r = u >= v ? 1.0f : 0.0f; break;
    default: r = NAN;
    }
    y[i] = r;
}

__kernel void select_forward(__global const float *c, __global const float *a, __global const float *b,
                             __global float *y, const int count) {
    int i = get_global_id(0);
    if (i < count) y[i] = c[i] != 0.0f ? a[i] : b[i];
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
