// Device measurements for `genocl bench`: the fp32 multiply-add rate with
// independent float8 accumulators (no memory traffic), the device's practical peak
// (MULADD as in the GEMM kernels: fused where the device has FMA).

// MULADD comes from the build options (the backend's buildOptions); mad without them.
#ifndef MULADD
#define MULADD mad
#endif

__kernel void fma_peak(__global float *out, const float b, const int iterations) {
    // Twelve chains: enough to cover the FMA latency (eight read 64 instead of 78 GFLOP/s
    // on a 2-core EPYC with work-groups of 64).
    float8 a0 = (float8)(get_global_id(0)), a1 = a0 + 1.0f, a2 = a0 + 2.0f, a3 = a0 + 3.0f;
    float8 a4 = a0 + 4.0f, a5 = a0 + 5.0f, a6 = a0 + 6.0f, a7 = a0 + 7.0f;
    float8 a8 = a0 + 8.0f, a9 = a0 + 9.0f, a10 = a0 + 10.0f, a11 = a0 + 11.0f;
    const float8 c = (float8)(1e-7f);
    for (int i = 0; i < iterations; i++) {
        a0 = MULADD(a0, b, c); a1 = MULADD(a1, b, c); a2 = MULADD(a2, b, c); a3 = MULADD(a3, b, c);
        a4 = MULADD(a4, b, c); a5 = MULADD(a5, b, c); a6 = MULADD(a6, b, c); a7 = MULADD(a7, b, c);
        a8 = MULADD(a8, b, c); a9 = MULADD(a9, b, c); a10 = MULADD(a10, b, c); a11 = MULADD(a11, b, c);
    }
    float8 s = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
    out[get_global_id(0)] = s.s0 + s.s1 + s.s2 + s.s3 + s.s4 + s.s5 + s.s6 + s.s7;
}
