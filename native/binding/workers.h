// Async work: a Promise-returning Napi::AsyncWorker. Inputs are captured on
// the JavaScript thread (typed arrays held by persistent references, so the
// memory stays valid without copying); Execute() runs on a libuv worker and
// makes no N-API calls; errors travel as data and become SemvecErrors on
// the JavaScript thread. Work that reports progress passes its
// AsyncProgress: if the progress callback threw, the promise rejects with
// what it threw.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <vector>

#include "async_progress.h"
#include "errors.h"

namespace semvec_binding {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<void()>;
  using Done = std::function<Napi::Value(Napi::Env)>;

  // Queues the work and returns its promise. `keep` values stay referenced
  // until the promise settles; so does `progress`, released with the worker.
  static Napi::Promise Start(Napi::Env env, Work work, Done done,
                             std::initializer_list<Napi::Value> keep = {},
                             std::shared_ptr<AsyncProgress> progress = nullptr) {
    auto* w = new PromiseWorker(env, std::move(work), std::move(done), keep, std::move(progress));
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
  }

 protected:
  void Execute() override {
    try {
      work_();
    } catch (...) {
      error_ = current_error();
      SetError(error_.message);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (RejectWithProgressError()) return;
    try {
      deferred_.Resolve(done_(env));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (...) {
      ErrorData d = current_error();
      deferred_.Reject(make_error(env, d.code, d.message).Value());
    }
  }

  void OnError(const Napi::Error&) override {
    if (RejectWithProgressError()) return;
    deferred_.Reject(make_error(Env(), error_.code, error_.message).Value());
  }

 private:
  PromiseWorker(Napi::Env env, Work work, Done done, std::initializer_list<Napi::Value> keep,
                std::shared_ptr<AsyncProgress> progress)
      : Napi::AsyncWorker(env, "semvec"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        done_(std::move(done)),
        progress_(std::move(progress)) {
    for (const Napi::Value& v : keep)
      if (v.IsObject()) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  // The progress callback's error wins over the work's outcome (the work was
  // aborted because of it).
  bool RejectWithProgressError() {
    if (!progress_) return false;
    std::optional<Napi::Value> thrown = progress_->Rejection();
    if (!thrown) return false;
    deferred_.Reject(*thrown);
    return true;
  }

  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  std::shared_ptr<AsyncProgress> progress_;
  ErrorData error_;
  std::vector<Napi::ObjectReference> keep_;
};

}  // namespace semvec_binding
