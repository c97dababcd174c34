// How an index compares vectors. The values are stored in index files (the
// header's metric field, file_format.h): never renumber them.
#pragma once

#include <cstdint>

namespace semvec {

enum class Metric : uint32_t { InnerProduct = 0, Cosine = 1, L2 = 2 };

// "ip", "cosine" or "l2": the names the API and the CLI use.
const char* metric_name(Metric metric);

// Returns metric, or throws Error(InvalidArgument) for a value that names no
// metric.
Metric check_metric(Metric metric);

}  // namespace semvec
