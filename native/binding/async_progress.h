// Progress of work running on a libuv worker, reported to a JavaScript
// callback (iteration, value) -> boolean | void.
//
// The worker thread calls Report(): the callback runs on the JavaScript thread
// through a thread-safe function while the worker waits for its answer. So
//   - every call has run before the work ends, hence before its promise
//     settles;
//   - the callback returning false stops the work early, as in a synchronous
//     call;
//   - the callback throwing aborts the work (Report throws ProgressAborted on
//     the worker, so nothing is changed) and the promise rejects with the
//     thrown value (PromiseWorker asks Rejection() when the work ends).
// The JavaScript thread never waits for the worker. If the environment is
// torn down while the worker waits, the pending call is answered "abort"
// without running JavaScript.
//
// Lifetime: made on the JavaScript thread; the thread-safe function is
// released exactly once, by the destructor, which runs on the JavaScript
// thread when the PromiseWorker holding the last reference is destroyed
// (after the work has ended, before the environment's cleanup hooks run).
#pragma once

#include <napi.h>

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>

#include "../core/kmeans.h"

namespace semvec_binding {

// Thrown on the worker thread by Report() when the callback threw (or can no
// longer run): unwinds the core so that the work changes nothing.
struct ProgressAborted : std::exception {
  const char* what() const noexcept override { return "progress callback failed"; }
};

class AsyncProgress {
 public:
  // A progress reporter for the function at argument i; null when that
  // argument is undefined or not a function. JavaScript thread.
  static std::shared_ptr<AsyncProgress> FromArg(const Napi::CallbackInfo& info, size_t i);

  AsyncProgress(const AsyncProgress&) = delete;
  AsyncProgress& operator=(const AsyncProgress&) = delete;
  ~AsyncProgress();

  // Worker thread: runs the callback with (iteration, value) and waits for
  // it. Returns false when it returned false; throws ProgressAborted when it
  // threw.
  bool Report(double iteration, double value);

  // JavaScript thread, once the work has ended: the value the callback threw,
  // if it threw.
  std::optional<Napi::Value> Rejection() const;

  // Sets params.progress to report to `progress` (if not null).
  static void Attach(semvec::KMeansParams& params, const std::shared_ptr<AsyncProgress>& progress);

 private:
  struct Call;
  static void CallJs(Napi::Env env, Napi::Function fn, AsyncProgress* self, Call* call);
  using Tsfn = Napi::TypedThreadSafeFunction<AsyncProgress, Call, CallJs>;

  AsyncProgress() = default;

  Tsfn tsfn_;
  // Set on the JavaScript thread by CallJs, read there by Rejection().
  std::optional<Napi::Error> thrown_;
};

}  // namespace semvec_binding
