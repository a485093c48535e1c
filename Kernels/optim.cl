// Fused optimizer updates (PyTorch's rules): one work-item per parameter element
// computes output `which` (a state or the new parameter) from p, g, the state and
// the step t read from device memory, so an update never leaves the device.

__kernel void sgd_update(__global const float *p, __global const float *g, __global const float *b,
                         __global const float *t, __global float *y, const int which, const float lr,
                         const float momentum, const float dampening, const int nesterov, const int count) {
    int i = get_global_id(0);
    if (i >= count) return;
    float b2 = t[0] == 1.0f ? g[i] : momentum * b[i] + (1.0f - dampening) * g[i];
    float direction = momentum == 0.0f ? g[i] : (nesterov ? g[i] + momentum * b2 : b2);
    y[i] = which == 0 ? b2 : p[i] - lr * direction;
}

__kernel void adam_update(__global const float *p, __global const float *g, __global const float *m,
                          __global const float *v, __global const float *t, __global float *y, const int which,
                          const float lr, const float beta1, const float beta2, const float epsilon, const int count) {
    int i = get_global_id(0);
    if (i >= count) return;
    float m2 = beta1 * m[i] + (1.0f - beta1) * g[i];
    float v2 = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    float step = lr * (m2 / (1.0f - pow(beta1, t[0]))) / (sqrt(v2 / (1.0f - pow(beta2, t[0]))) + epsilon);
    y[i] = which == 0 ? m2 : (which == 1 ? v2 : p[i] - step);
}

// `product` is Π μ including step t.
__kernel void nadam_update(__global const float *p, __global const float *g, __global const float *m,
                           __global const float *v, __global const float *t, __global const float *product,
                           __global float *y, const int which, const float lr, const float beta1, const float beta2,
                           const float epsilon, const float decay, const int count) {
    int i = get_global_id(0);
    if (i >= count) return;
    float mu = beta1 * (1.0f - 0.5f * pow(0.96f, t[0] * decay));
    float mu_next = beta1 * (1.0f - 0.5f * pow(0.96f, (t[0] + 1.0f) * decay));
    float m2 = beta1 * m[i] + (1.0f - beta1) * g[i];
    float v2 = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    float denominator = sqrt(v2 / (1.0f - pow(beta2, t[0]))) + epsilon;
    float step = lr * ((1.0f - mu) / (1.0f - product[0]) * g[i] + mu_next / (1.0f - product[0] * mu_next) * m2) / denominator;
    y[i] = which == 0 ? m2 : (which == 1 ? v2 : p[i] - step);
}

__kernel void rmsprop_update(__global const float *p, __global const float *g, __global const float *v,
                             __global float *y, const int which, const float lr, const float alpha,
                             const float epsilon, const int count) {
    int i = get_global_id(0);
    if (i >= count) return;
    float v2 = alpha * v[i] + (1.0f - alpha) * g[i] * g[i];
    y[i] = which == 0 ? v2 : p[i] - lr * g[i] / (sqrt(v2) + epsilon);
}
