// Random family: Philox 4×32-10 keyed by the op's seed, counting (element index,
// plan step), with the transforms specified in Sources/CPUReference/Random.swift.
// One work-item per element.

inline uint4 philox4x32(uint4 c, uint2 k) {
    _Pragma("unroll") for (int round = 0; round < 10; round++) {
        uint hi0 = mul_hi(0xD2511F53u, c.x), lo0 = 0xD2511F53u * c.x;
        uint hi1 = mul_hi(0xCD9E8D57u, c.z), lo1 = 0xCD9E8D57u * c.z;
        c = (uint4)(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
        k += (uint2)(0x9E3779B9u, 0xBB67AE85u);
    }
    return c;
}

inline float uniform01(uint r) { return ((float)(r >> 8) + 0.5f) * 0x1p-24f; }

// Giles' single-precision inverse error function.
inline float erfinv_approx(float x) {
    float w = -log((1.0f - x) * (1.0f + x)), p;
    if (w < 5.0f) {
        w -= 2.5f;
        p = 2.81022636e-08f;
        p = 3.43273939e-07f + p * w; p = -3.5233877e-06f + p * w; p = -4.39150654e-06f + p * w;
        p = 0.00021858087f + p * w; p = -0.00125372503f + p * w; p = -0.00417768164f + p * w;
        p = 0.246640727f + p * w; p = 1.50140941f + p * w;
    } else {
        w = sqrt(w) - 3.0f;
        p = -0.000200214257f;
        p = 0.000100950558f + p * w; p = 0.00134934322f + p * w; p = -0.00367342844f + p * w;
        p = 0.00573950773f + p * w; p = -0.0076224613f + p * w; p = 0.00943887047f + p * w;
        p = 1.00167406f + p * w; p = 2.83297682f + p * w;
    }
    return p * x;
}

inline float normal_cdf(float z) { return 0.5f * (1.0f + erf(z / sqrt(2.0f))); }

// distribution: 0 uniform(p0, p1), 1 normal(mean p0, std p1), 2 truncated normal(p0, p1) on [p2, p3].
__kernel void random_forward(__global float *y, const int count, const int distribution,
                             const float p0, const float p1, const float p2, const float p3,
                             const uint seed_lo, const uint seed_hi, const uint step_lo, const uint step_hi,
                             const uint offset_lo, const uint offset_hi) {
    int i = get_global_id(0);
    if (i >= count) return;
    // Element i of the stream from `offset` (a data-parallel replica's share of a batch).
    ulong n = (((ulong)offset_hi << 32) | offset_lo) + (ulong)i;
    uint4 r = philox4x32((uint4)((uint)n, (uint)(n >> 32), step_lo, step_hi), (uint2)(seed_lo, seed_hi));
    float v;
    if (distribution == 0) {
        v = p0 + (p1 - p0) * uniform01(r.x);
    } else if (distribution == 1) {
        v = p0 + p1 * sqrt(-2.0f * log(uniform01(r.x))) * cos(2.0f * M_PI_F * uniform01(r.y));
    } else {
        float a = normal_cdf((p2 - p0) / p1), b = normal_cdf((p3 - p0) / p1);
        float u = a + (b - a) * uniform01(r.x);
        v = fmin(fmax(p0 + p1 * sqrt(2.0f) * erfinv_approx(2.0f * u - 1.0f), p2), p3);
    }
    y[i] = v;
}
