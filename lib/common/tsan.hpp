// ThreadSanitizer cannot see rte_ring's memory barriers; ring wrappers tell it
// about the hand-off explicitly (no-ops in other builds).
#pragma once

#if defined(__SANITIZE_THREAD__)
#define SF_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SF_TSAN 1
#endif
#endif

#ifdef SF_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
inline void sf_tsan_acquire(void* addr) noexcept { __tsan_acquire(addr); }
inline void sf_tsan_release(void* addr) noexcept { __tsan_release(addr); }
#else
inline void sf_tsan_acquire(void*) noexcept {}
inline void sf_tsan_release(void*) noexcept {}
#endif
