// k-means for JavaScript: kmeans() and kmeansAsync(), and the conversions
// shared with IVF training.
#pragma once

#include <napi.h>

#include <memory>

#include "../core/kmeans.h"

namespace semvec_binding {

// Reads { k?, iterations, seed, spherical, maxPointsPerCentroid, init } (validated in TS).
semvec::KMeansParams kmeans_params(const Napi::CallbackInfo& info, size_t i);

Napi::Value kmeans_result_to_js(Napi::Env env, const semvec::KMeansResult& r, bool with_data);

// A progress callback for work on another thread: forwards (iteration,
// inertia) to a JS function through a thread-safe function. Null if no
// function was given.
struct AsyncProgress;
std::shared_ptr<AsyncProgress> async_progress(const Napi::CallbackInfo& info, size_t i);
void attach_progress(semvec::KMeansParams& params, std::shared_ptr<AsyncProgress> progress);
void release_progress(const std::shared_ptr<AsyncProgress>& progress);

// A synchronous progress callback: calls the JS function in place; its
// returning false stops the iterations.
void attach_sync_progress(semvec::KMeansParams& params, const Napi::CallbackInfo& info, size_t i);

Napi::Value KMeans(const Napi::CallbackInfo& info);
Napi::Value KMeansAsync(const Napi::CallbackInfo& info);

}  // namespace semvec_binding
