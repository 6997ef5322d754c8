// Branch hints and small attributes used on the datapath.
#pragma once

#define SF_LIKELY(x) __builtin_expect(!!(x), 1)
#define SF_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SF_COLD [[gnu::cold, gnu::noinline]]
#define SF_ALWAYS_INLINE [[gnu::always_inline]] inline

namespace sf {
inline constexpr unsigned kCacheLine = 64;
}  // namespace sf
