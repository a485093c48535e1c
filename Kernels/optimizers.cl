// Fused optimizer updates (PyTorch's rules): output `which` (a state or the new
// parameter) from p, g, the state and the step t read from device memory, so an
// update never leaves the device; `which` < 0 writes every output over the input it
// replaces (the state and p: one pass for the whole step, as plans run it). Each
// work-item computes the step's scalars (bias corrections, momentum schedule) once and
// then updates its elements (FOR_EACH_ELEMENT of element_functions.cl: a contiguous run on
// CPUs, lane-interleaved on GPUs), each read before it is written.

__kernel void sgd_update(__global float *p, __global const float *g, __global float *b,
                         __global const float *t, __global float *y, const int which, const float lr,
                         const float momentum, const float dampening, const int nesterov, const int count, const int chunk, const int lanes) {
    const int first = t[0] == 1.0f;
    FOR_EACH_ELEMENT(i,
        float b2 = first ? g[i] : momentum * b[i] + (1.0f - dampening) * g[i];
        float direction = momentum == 0.0f ? g[i] : (nesterov ? g[i] + momentum * b2 : b2);
        if (which < 0) {
            b[i] = b2;
            p[i] -= lr * direction;
        } else {
            y[i] = which == 0 ? b2 : p[i] - lr * direction;
        }
    )
}

// The outputs of the Adam family's element i: output `which` (m′, v′ or p − step) into y, or
// (which < 0) all three over m, v and p.
inline void store_moments_step(const int which, const int i, __global float *p, __global float *m, __global float *v,
                               __global float *y, const float m2, const float v2, const float step) {
    if (which < 0) {
        m[i] = m2;
        v[i] = v2;
        p[i] -= step;
    } else {
        y[i] = which == 0 ? m2 : (which == 1 ? v2 : p[i] - step);
    }
}

__kernel void adam_update(__global float *p, __global const float *g, __global float *m,
                          __global float *v, __global const float *t, __global float *y, const int which,
                          const float lr, const float beta1, const float beta2, const float epsilon, const int count, const int chunk, const int lanes) {
    const float correction1 = 1.0f - pow(beta1, t[0]), correction2 = 1.0f - pow(beta2, t[0]);
    FOR_EACH_ELEMENT(i,
        float m2 = beta1 * m[i] + (1.0f - beta1) * g[i];
        float v2 = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        float step = lr * (m2 / correction1) / (sqrt(v2 / correction2) + epsilon);
        store_moments_step(which, i, p, m, v, y, m2, v2, step);
    )
}

// `product` is Π μ including step t.
__kernel void nadam_update(__global float *p, __global const float *g, __global float *m,
                           __global float *v, __global const float *t, __global const float *product,
                           __global float *y, const int which, const float lr, const float beta1, const float beta2,
                           const float epsilon, const float decay, const int count, const int chunk, const int lanes) {
    const float mu = beta1 * (1.0f - 0.5f * pow(0.96f, t[0] * decay));
    const float mu_next = beta1 * (1.0f - 0.5f * pow(0.96f, (t[0] + 1.0f) * decay));
    const float correction2 = 1.0f - pow(beta2, t[0]);
    const float gradient_weight = (1.0f - mu) / (1.0f - product[0]), momentum_weight = mu_next / (1.0f - product[0] * mu_next);
    FOR_EACH_ELEMENT(i,
        float m2 = beta1 * m[i] + (1.0f - beta1) * g[i];
        float v2 = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
        float step = lr * (gradient_weight * g[i] + momentum_weight * m2) / (sqrt(v2 / correction2) + epsilon);
        store_moments_step(which, i, p, m, v, y, m2, v2, step);
    )
}

__kernel void rmsprop_update(__global float *p, __global const float *g, __global float *v,
                             __global float *y, const int which, const float lr, const float alpha,
                             const float epsilon, const int count, const int chunk, const int lanes) {
    FOR_EACH_ELEMENT(i,
        float v2 = alpha * v[i] + (1.0f - alpha) * g[i] * g[i];
        if (which < 0) {
            v[i] = v2;
            p[i] -= lr * g[i] / (sqrt(v2) + epsilon);
        } else {
            y[i] = which == 0 ? v2 : p[i] - lr * g[i] / (sqrt(v2) + epsilon);
        }
    )
}
