// alloc_counter.cpp: the malloc family, counted (alloc_counter.h).
#include "support/alloc_counter.h"

#include <link.h>

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_COUNTER_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_COUNTER_OFF 1
#endif
#endif

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>

extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void __libc_free(void *);
}

namespace {
thread_local bool counting = false;
thread_local alloc_counter::Counts counts;

// The loaded segments of libopenblas, found once by start().
struct Range {
    uintptr_t begin, end;
};
Range blas_code[8];
int n_blas_code = -1;

int find_blas(struct dl_phdr_info *info, size_t, void *) {
    if (!info->dlpi_name || !std::strstr(info->dlpi_name, "libopenblas")) return 0;
    for (int i = 0; i < info->dlpi_phnum && n_blas_code < 8; i++) {
        const ElfW(Phdr) &ph = info->dlpi_phdr[i];
        if (ph.p_type != PT_LOAD) continue;
        uintptr_t b = info->dlpi_addr + ph.p_vaddr;
        blas_code[n_blas_code++] = {b, b + ph.p_memsz};
    }
    return 0;
}

bool from_blas(void *caller) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(caller);
    for (int i = 0; i < n_blas_code; i++)
        if (a >= blas_code[i].begin && a < blas_code[i].end) return true;
    return false;
}

inline void count(void *caller) {
    if (!counting) return;
    if (from_blas(caller)) counts.blas++;
    else counts.ours++;
}
}  // namespace

namespace alloc_counter {
#ifdef ALLOC_COUNTER_OFF
bool available() { return false; }
#else
bool available() { return true; }
#endif
void start() {
    if (n_blas_code < 0) {
        n_blas_code = 0;
        dl_iterate_phdr(find_blas, nullptr);
    }
    counts = Counts();
    counting = true;
}
Counts stop() {
    counting = false;
    return counts;
}
}  // namespace alloc_counter

#ifndef ALLOC_COUNTER_OFF
extern "C" {
void *malloc(size_t n) noexcept {
    count(__builtin_return_address(0));
    return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) noexcept {
    count(__builtin_return_address(0));
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) noexcept {
    count(__builtin_return_address(0));
    return __libc_realloc(p, n);
}
void *memalign(size_t align, size_t n) noexcept {
    count(__builtin_return_address(0));
    return __libc_memalign(align, n);
}
void *aligned_alloc(size_t align, size_t n) noexcept {
    count(__builtin_return_address(0));
    return __libc_memalign(align, n);
}
int posix_memalign(void **out, size_t align, size_t n) noexcept {
    count(__builtin_return_address(0));
    void *p = __libc_memalign(align, n);
    if (!p) return ENOMEM;
    *out = p;
    return 0;
}
void free(void *p) noexcept { __libc_free(p); }
}
#endif
