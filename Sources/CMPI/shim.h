// Open MPI's C API. Its handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, MPI_IN_PLACE) are
// macros over addresses of library globals, which Swift cannot import: these wrappers
// name the few calls genocl makes.
#include <mpi.h>

static inline int genocl_mpi_init(void) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return MPI_SUCCESS;
    int provided = 0;
    // All-reduces run on a thread of their own beside the training thread, one call at a
    // time; an abort after an error may come from the training thread meanwhile.
    return MPI_Init_thread(NULL, NULL, MPI_THREAD_MULTIPLE, &provided);
}

static inline int genocl_mpi_finalize(void) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    return finalized ? MPI_SUCCESS : MPI_Finalize();
}

static inline int genocl_mpi_rank(void) {
    int rank = -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}

static inline int genocl_mpi_size(void) {
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

/// Errors are returned, not fatal, so that genocl can name the rank and stop cleanly.
static inline int genocl_mpi_return_errors(void) { return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN); }

static inline int genocl_mpi_allreduce_sum(float *values, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, values, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}

static inline int genocl_mpi_abort(int code) { return MPI_Abort(MPI_COMM_WORLD, code); }

static inline void genocl_mpi_error_string(int code, char *text, int capacity) {
    int length = 0;
    if (capacity < MPI_MAX_ERROR_STRING) { text[0] = 0; return; }
    MPI_Error_string(code, text, &length);
}
