#include "metric.h"

#include "errors.h"

namespace semvec {

const char* metric_name(Metric metric) {
  switch (metric) {
    case Metric::InnerProduct: return "ip";
    case Metric::Cosine: return "cosine";
    case Metric::L2: return "l2";
  }
  return "unknown";
}

Metric check_metric(Metric metric) {
  if (static_cast<uint32_t>(metric) > 2) throw Error(ErrorCode::InvalidArgument, "unknown metric");
  return metric;
}

}  // namespace semvec
