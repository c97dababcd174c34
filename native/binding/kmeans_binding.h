// k-means for JavaScript: kmeans() and kmeansAsync(), and the conversions
// shared with IVF training.
#pragma once

#include <napi.h>

#include "../core/kmeans.h"

namespace semvec_binding {

// Reads { k?, iterations?, seed?, spherical?, maxPointsPerCentroid?, init? }
// (validated in TS); an option not given keeps its value in `defaults`.
semvec::KMeansParams kmeans_params(const Napi::CallbackInfo& info, size_t i,
                                   const semvec::KMeansParams& defaults);

Napi::Value kmeans_result_to_js(Napi::Env env, const semvec::KMeansResult& r, bool with_data);

// A synchronous progress callback: calls the JS function in place; its
// returning false stops the iterations, its throwing abandons them (the call
// throws that error). Async calls use AsyncProgress.
void attach_sync_progress(semvec::KMeansParams& params, const Napi::CallbackInfo& info, size_t i);

Napi::Value KMeans(const Napi::CallbackInfo& info);
Napi::Value KMeansAsync(const Napi::CallbackInfo& info);

}  // namespace semvec_binding
