// CRC-32C (Castagnoli), the checksum of every file semvec writes. Uses the
// SSE 4.2 crc32 instruction when the CPU has it, a table otherwise; both give
// identical values (crc32c("123456789") == 0xE3069283).
#pragma once

#include <cstddef>
#include <cstdint>

namespace semvec {

// Extends `crc` (0 for a fresh checksum) with n bytes of data.
uint32_t crc32c_extend(uint32_t crc, const void* data, size_t n);

inline uint32_t crc32c(const void* data, size_t n) { return crc32c_extend(0, data, n); }

// The table version, always available; exposed for tests.
uint32_t crc32c_extend_portable(uint32_t crc, const void* data, size_t n);

}  // namespace semvec
