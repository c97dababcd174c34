// Coded errors of the native core. The binding maps each code to the
// JavaScript SemvecError with the same `code` string; nothing else in the
// core throws across its API.
#pragma once

#include <stdexcept>
#include <string>

namespace semvec {

enum class ErrorCode {
  InvalidArgument,
  DimensionMismatch,
  DuplicateId,
  NotFound,
  NotTrained,
  CorruptFile,
  UnsupportedVersion,
  WrongKind,
  ReadOnly,
  Io,
  Unsupported,
  Internal,
};

// Stable code string, e.g. "ERR_DIMENSION_MISMATCH".
const char* error_code_name(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }
  const char* code_name() const noexcept { return error_code_name(code_); }

 private:
  ErrorCode code_;
};

}  // namespace semvec
