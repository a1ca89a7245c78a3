#ifndef ACOL_CHDF5_PROBE_H
#define ACOL_CHDF5_PROBE_H
/* The child-process probe of files without a valid checksum block (Sources/ACOLHDF5/SafeOpen.swift,
   docs/file-format.md "Damaged files without a checksum").

   acol_probe_run forks; the child opens the file with libhdf5 and does what acol's readers and
   inspector do (structure walk along hard links, every attribute read, every dataset opened, its
   chunk index walked and its first rows read), then _exit()s. The parent waits with a timeout and
   returns how the child ended. The child runs only C code (libc and libhdf5: no Swift runtime,
   whose locks another thread may have held at fork time), with the crash signals at their default
   action, no core file and a bounded address space. The parent calls it while holding acol's
   libhdf5 lock, so no other thread is inside libhdf5 at the fork. */
#include <hdf5.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#define ACOL_PROBE_MAX_DEPTH 64
#define ACOL_PROBE_MAX_OBJECTS 131072u

typedef struct {
    haddr_t *seen;          /* open-addressing set of visited object addresses */
    size_t capacity;        /* power of two */
    size_t count;
    size_t budget;          /* bytes of data the probe may still read */
    size_t per_dataset;     /* bytes read at most from one dataset or attribute */
    int depth;
    int out_of_memory;      /* libhdf5 reported a failed allocation (the child's memory is bounded) */
} acol_probe_ctx;

static inline herr_t acol_probe_error_entry(unsigned n, const H5E_error2_t *e, void *data) {
    (void)n;
    if (e && (e->maj_num == H5E_RESOURCE || e->min_num == H5E_CANTALLOC || e->min_num == H5E_NOSPACE))
        *(int *)data = 1;
    return 0;
}

/* After a failed libhdf5 call: remembers whether it failed for want of memory, clears the stack.
   The parent has no such bound, so a file that needs absurd memory is refused, not read. */
static inline void acol_probe_failed(acol_probe_ctx *c) {
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, acol_probe_error_entry, &c->out_of_memory);
    H5Eclear2(H5E_DEFAULT);
}

/* 1 when `addr` was not seen before (and is now), 0 when it was or the set is full. */
static inline int acol_probe_visit(acol_probe_ctx *c, haddr_t addr) {
    if (c->count >= ACOL_PROBE_MAX_OBJECTS) return 0;
    size_t mask = c->capacity - 1;
    size_t i = (size_t)((addr * 0x9E3779B97F4A7C15ull) >> 17) & mask;
    while (c->seen[i] != HADDR_UNDEF) {
        if (c->seen[i] == addr) return 0;
        i = (i + 1) & mask;
    }
    c->seen[i] = addr;
    c->count++;
    return 1;
}

/* Reads (part of) an attribute or dataset the way acol's readers do: numbers in their native
   type, strings (variable or fixed length) as C strings. Other classes are not read. */
static inline void acol_probe_read(hid_t obj, int is_attr, acol_probe_ctx *c) {
    hid_t ftype = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t fspace = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mtype = -1, mspace = -1;
    void *buf = NULL;
    if (ftype < 0 || fspace < 0) goto done;
    if (!is_attr) {
        /* Data kept outside the file (a virtual dataset's sources, external raw storage) is not
           read here: acol refuses such datasets when it opens them, and reading them could block
           on whatever they name (a FIFO, a device). */
        hid_t dcpl = H5Dget_create_plist(obj);
        if (dcpl < 0) goto done;
        int outside = H5Pget_layout(dcpl) == H5D_VIRTUAL || H5Pget_external_count(dcpl) != 0;
        H5Pclose(dcpl);
        if (outside) goto done;
    }
    H5T_class_t cls = H5Tget_class(ftype);
    int vlen_string = 0;
    if (cls == H5T_STRING) {
        mtype = H5Tcopy(H5T_C_S1);
        if (mtype < 0) goto done;
        if (H5Tis_variable_str(ftype) > 0) {
            vlen_string = 1;
            H5Tset_size(mtype, H5T_VARIABLE);
            H5Tset_cset(mtype, H5T_CSET_UTF8);
        } else {
            size_t size = H5Tget_size(ftype);
            if (size == 0 || size > (1u << 20)) goto done;
            H5Tset_size(mtype, size + 1);
            H5Tset_strpad(mtype, H5T_STR_NULLTERM);
        }
    } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
        mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
    } else {
        goto done;
    }
    if (mtype < 0) goto done;
    size_t esize = H5Tget_size(mtype);
    if (esize == 0) goto done;
    H5S_class_t scls = H5Sget_simple_extent_type(fspace);
    if (scls == H5S_NULL) goto done;
    hsize_t dims[H5S_MAX_RANK];
    int rank = scls == H5S_SCALAR ? 0 : H5Sget_simple_extent_ndims(fspace);
    if (rank < 0 || rank > H5S_MAX_RANK) goto done;
    if (rank > 0 && H5Sget_simple_extent_dims(fspace, dims, NULL) < 0) goto done;
    /* Elements of one row (everything but the first dimension), then rows that fit the limits. */
    uint64_t row = 1;
    for (int i = 1; i < rank; i++) {
        if (__builtin_mul_overflow(row, (uint64_t)dims[i], &row)) goto done;
    }
    uint64_t row_bytes;
    if (__builtin_mul_overflow(row, (uint64_t)esize, &row_bytes) || row_bytes == 0) goto done;
    size_t limit = c->per_dataset < c->budget ? c->per_dataset : c->budget;
    uint64_t rows = rank == 0 ? 1 : (uint64_t)dims[0];
    if (rows == 0) goto done;
    if (row_bytes > limit) goto done;
    if (rows > limit / row_bytes) rows = limit / row_bytes;
    if (is_attr && rank > 0 && rows < dims[0]) goto done;   /* attributes are read whole or not at all */
    size_t bytes = (size_t)(rows * row_bytes);
    buf = calloc(1, bytes);
    if (!buf) goto done;
    c->budget -= bytes;
    if (is_attr) {
        if (H5Aread(obj, mtype, buf) < 0) acol_probe_failed(c);
        else if (vlen_string) H5Dvlen_reclaim(mtype, fspace, H5P_DEFAULT, buf);
    } else {
        hid_t sel = H5Scopy(fspace);
        if (sel < 0) goto done;
        if (rank > 0) {
            hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
            count[0] = (hsize_t)rows;
            for (int i = 1; i < rank; i++) count[i] = dims[i];
            mspace = H5Screate_simple(rank, count, NULL);
            if (mspace < 0 || H5Sselect_hyperslab(sel, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
                H5Sclose(sel);
                goto done;
            }
        } else {
            mspace = H5Screate(H5S_SCALAR);
        }
        if (H5Dread(obj, mtype, mspace, sel, H5P_DEFAULT, buf) < 0) acol_probe_failed(c);
        else if (vlen_string) H5Dvlen_reclaim(mtype, mspace, H5P_DEFAULT, buf);
        H5Sclose(sel);
    }
done:
    free(buf);
    if (mspace >= 0) H5Sclose(mspace);
    if (mtype >= 0) H5Tclose(mtype);
    if (fspace >= 0) H5Sclose(fspace);
    if (ftype >= 0) H5Tclose(ftype);
}

static inline herr_t acol_probe_attribute(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
    (void)info;
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a >= 0) {
        acol_probe_read(a, 1, (acol_probe_ctx *)data);
        H5Aclose(a);
    } else {
        acol_probe_failed((acol_probe_ctx *)data);
    }
    return 0;
}

static inline void acol_probe_attributes(hid_t obj, acol_probe_ctx *c) {
    hsize_t idx = 0;
    if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, acol_probe_attribute, c) < 0) acol_probe_failed(c);
}

static inline herr_t acol_probe_link(hid_t g, const char *name, const H5L_info_t *info, void *data);

static inline void acol_probe_group(hid_t g, acol_probe_ctx *c) {
    acol_probe_attributes(g, c);
    if (c->depth >= ACOL_PROBE_MAX_DEPTH) return;
    c->depth++;
    hsize_t idx = 0;
    if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, acol_probe_link, c) < 0) acol_probe_failed(c);
    c->depth--;
}

static inline herr_t acol_probe_link(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    acol_probe_ctx *c = (acol_probe_ctx *)data;
    if (!info || info->type != H5L_TYPE_HARD) return 0;   /* acol follows hard links only */
    if (H5Lexists(g, name, H5P_DEFAULT) <= 0) return 0;
    H5O_info_t oi;
    if (H5Oget_info_by_name2(g, name, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) { acol_probe_failed(c); return 0; }
    if (!acol_probe_visit(c, oi.addr)) return 0;
    if (oi.type == H5O_TYPE_GROUP) {
        hid_t sub = H5Gopen2(g, name, H5P_DEFAULT);
        if (sub >= 0) { acol_probe_group(sub, c); H5Gclose(sub); } else acol_probe_failed(c);
    } else if (oi.type == H5O_TYPE_DATASET) {
        hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
        if (d >= 0) {
            acol_probe_attributes(d, c);
            (void)H5Dget_storage_size(d);   /* walks the chunk index */
            acol_probe_read(d, 0, c);
            H5Dclose(d);
        } else {
            acol_probe_failed(c);
        }
    } else if (oi.type == H5O_TYPE_NAMED_DATATYPE) {
        hid_t t = H5Topen2(g, name, H5P_DEFAULT);
        if (t >= 0) H5Tclose(t);
    }
    return 0;
}

/* The child's work: 0 when libhdf5 went through the file (whatever it reported), 2 when it is
   not HDF5 or cannot be opened (acol's reader reports that cleanly), 4 when libhdf5 failed for
   want of memory (ACOL_PROBE_OUT_OF_MEMORY). */
#define ACOL_PROBE_OUT_OF_MEMORY 4
static inline int acol_probe_file(const char *path, size_t budget, size_t per_dataset) {
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (H5Fis_hdf5(path) <= 0) return 2;
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) return 2;
    acol_probe_ctx c;
    c.capacity = 2 * (size_t)ACOL_PROBE_MAX_OBJECTS;
    c.seen = (haddr_t *)malloc(c.capacity * sizeof(haddr_t));
    if (!c.seen) return 3;
    for (size_t i = 0; i < c.capacity; i++) c.seen[i] = HADDR_UNDEF;
    c.count = 0; c.budget = budget; c.per_dataset = per_dataset; c.depth = 0; c.out_of_memory = 0;
    H5O_info_t oi;
    if (H5Oget_info2(f, &oi, H5O_INFO_BASIC) >= 0) (void)acol_probe_visit(&c, oi.addr);
    acol_probe_group(f, &c);
    H5Fclose(f);
    return c.out_of_memory ? ACOL_PROBE_OUT_OF_MEMORY : 0;
}

/* Bounds the child's address space to what it has plus `extra` bytes (Linux; elsewhere nothing),
   so that an absurd allocation fails in the child instead of exhausting the machine. */
static inline void acol_probe_limit_memory(uint64_t extra) {
    int fd = open("/proc/self/statm", O_RDONLY);
    if (fd < 0) return;
    char text[64];
    ssize_t n = read(fd, text, sizeof text - 1);
    close(fd);
    if (n <= 0) return;
    text[n] = 0;
    uint64_t pages = strtoull(text, NULL, 10);
    long page = sysconf(_SC_PAGESIZE);
    if (pages == 0 || page <= 0) return;
    struct rlimit r;
    r.rlim_cur = r.rlim_max = (rlim_t)(pages * (uint64_t)page + extra);
    setrlimit(RLIMIT_AS, &r);
}

/* Results of acol_probe_run besides 0...255 (the child's exit status). */
#define ACOL_PROBE_SIGNALED 256      /* + the signal number */
#define ACOL_PROBE_TIMED_OUT 1024
#define ACOL_PROBE_FORK_FAILED (-1)

/* mode: 0 probe the file; 1 the child crashes (SIGSEGV); 2 the child hangs (tests). */
static inline int acol_probe_run(const char *path, int mode, unsigned timeout_ms, size_t budget,
                                 size_t per_dataset, uint64_t extra_memory) {
    /* The child holds the write end of a pipe until it ends: the parent's poll() wakes at once. */
    int fds[2];
    if (pipe(fds) != 0) return ACOL_PROBE_FORK_FAILED;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);   /* other threads' exec'd children must not hold it */
    pid_t pid = fork();
    if (pid < 0) { close(fds[0]); close(fds[1]); return ACOL_PROBE_FORK_FAILED; }
    if (pid == 0) {
        close(fds[0]);
        /* Child: default crash handlers (not the parent's, e.g. Swift's backtracer), no core. */
        int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGALRM};
        for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) signal(sigs[i], SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct rlimit core = {0, 0};
        setrlimit(RLIMIT_CORE, &core);
        /* What a crash prints (glibc's "double free or corruption") is not acol's message: the
           parent reports the child's end in one line. */
        int quiet = open("/dev/null", O_WRONLY);
        if (quiet >= 0) { dup2(quiet, STDERR_FILENO); close(quiet); }
        alarm(timeout_ms / 1000 + 2);   /* in case the parent is gone */
        acol_probe_limit_memory(extra_memory);
        if (mode == 1) raise(SIGSEGV);
        if (mode == 2) for (;;) pause();
        _exit(acol_probe_file(path, budget, per_dataset));
    }
    close(fds[1]);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long elapsed_ms = (long long)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
        if (elapsed_ms >= (long long)timeout_ms) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
            close(fds[0]);
            return ACOL_PROBE_TIMED_OUT;
        }
        struct pollfd p = {fds[0], POLLIN, 0};
        int r = poll(&p, 1, (int)((long long)timeout_ms - elapsed_ms));
        if (r < 0 && errno == EINTR) continue;
        if (r == 0) continue;   /* the deadline: checked above */
        char c;
        if (r > 0 && read(fds[0], &c, 1) > 0) continue;   /* nothing is written; ignore */
        break;   /* end of file (or an error): the child has ended */
    }
    close(fds[0]);
    pid_t w;
    while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR) {}
    if (w != pid) return 0;   /* reaped elsewhere: nothing is known against the file */
    if (WIFSIGNALED(status)) return ACOL_PROBE_SIGNALED + WTERMSIG(status);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 0;
}
#endif
