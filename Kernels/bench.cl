// Device measurements for `genocl bench`: the fp32 multiply-add rate with
// independent float8 accumulators (no memory traffic), the device's practical peak.

__kernel void fma_peak(__global float *out, const float b, const int iterations) {
    float8 a0 = (float8)(get_global_id(0)), a1 = a0 + 1.0f, a2 = a0 + 2.0f, a3 = a0 + 3.0f;
    float8 a4 = a0 + 4.0f, a5 = a0 + 5.0f, a6 = a0 + 6.0f, a7 = a0 + 7.0f;
    const float8 c = (float8)(1e-7f);
    for (int i = 0; i < iterations; i++) {
        a0 = mad(a0, b, c); a1 = mad(a1, b, c); a2 = mad(a2, b, c); a3 = mad(a3, b, c);
        a4 = mad(a4, b, c); a5 = mad(a5, b, c); a6 = mad(a6, b, c); a7 = mad(a7, b, c);
    }
    float8 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
    out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7;
}
