#include "errors.h"

namespace semvec {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::InvalidArgument: return "ERR_INVALID_ARGUMENT";
    case ErrorCode::DimensionMismatch: return "ERR_DIMENSION_MISMATCH";
    case ErrorCode::DuplicateId: return "ERR_DUPLICATE_ID";
    case ErrorCode::NotFound: return "ERR_NOT_FOUND";
    case ErrorCode::NotTrained: return "ERR_NOT_TRAINED";
    case ErrorCode::CorruptFile: return "ERR_CORRUPT_FILE";
    case ErrorCode::UnsupportedVersion: return "ERR_UNSUPPORTED_VERSION";
    case ErrorCode::WrongKind: return "ERR_WRONG_INDEX_KIND";
    case ErrorCode::ReadOnly: return "ERR_READ_ONLY";
    case ErrorCode::Io: return "ERR_IO";
    case ErrorCode::Unsupported: return "ERR_UNSUPPORTED";
    case ErrorCode::Internal: return "ERR_INTERNAL";
  }
  return "ERR_INTERNAL";
}

}  // namespace semvec
