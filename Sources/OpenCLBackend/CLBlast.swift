// GEMM through CLBlast (the baseline, and the GEMM of GPUs where its tuning is good):
// row-major SGEMM with element offsets on the backend's queue, its event profiled.
import CCLBlast
import COpenCL
import OpenCLRuntime

extension OpenCLBackend {
    func clblastGEMM(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, a: (CLBuffer, Int), b: (CLBuffer, Int), c: (CLBuffer, Int), beta: Float
    ) throws {
        var commandQueue: cl_command_queue? = queue.queue
        var event: cl_event?
        let status = CLBlastSgemm(
            CLBlastLayoutRowMajor, transposeA ? CLBlastTransposeYes : CLBlastTransposeNo,
            transposeB ? CLBlastTransposeYes : CLBlastTransposeNo,
            m, n, k, 1, a.0.mem, a.1, transposeA ? m : k, b.0.mem, b.1, transposeB ? k : n, beta, c.0.mem, c.1, n,
            &commandQueue, &event)
        guard status == CLBlastSuccess else {
            throw OpenCLError("CLBlastSgemm", status.rawValue, "GEMM \(m)×\(n)×\(k) failed (CLBlast status \(status.rawValue))")
        }
        if let event {
            if let profiler { profiler.record("clblast_sgemm", event, flops: 2 * Double(m * n * k)) } else { clReleaseEvent(event) }
        }
    }
}
