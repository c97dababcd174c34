#include "async_progress.h"

namespace semvec_binding {

// One report: lives on the worker's stack while it waits for the answer.
struct AsyncProgress::Call {
  double iteration = 0;
  double value = 0;
  enum class Answer { Pending, Continue, Stop, Abort };
  std::mutex mutex;
  std::condition_variable answered;
  Answer answer = Answer::Pending;

  // JavaScript thread. Notifies under the lock: once the worker sees the
  // answer it may destroy this object, so nothing may touch it afterwards.
  void Set(Answer a) {
    std::lock_guard<std::mutex> lock(mutex);
    answer = a;
    answered.notify_one();
  }
};

std::shared_ptr<AsyncProgress> AsyncProgress::FromArg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsFunction()) return nullptr;
  std::shared_ptr<AsyncProgress> p(new AsyncProgress());
  // Unbounded queue (a worker has at most one call queued), one thread.
  p->tsfn_ = Tsfn::New(info.Env(), info[i].As<Napi::Function>(), "semvec-progress", 0, 1, p.get());
  return p;
}

AsyncProgress::~AsyncProgress() {
  if (tsfn_) tsfn_.Release();
}

void AsyncProgress::CallJs(Napi::Env env, Napi::Function fn, AsyncProgress* self, Call* call) {
  // env is null when the environment is being torn down: no JavaScript runs.
  if (env == nullptr || fn.IsEmpty()) return call->Set(Call::Answer::Abort);
  Call::Answer answer = Call::Answer::Abort;
  try {
    Napi::Value r = fn.Call({Napi::Number::New(env, call->iteration), Napi::Number::New(env, call->value)});
    answer = r.IsBoolean() && !r.As<Napi::Boolean>().Value() ? Call::Answer::Stop : Call::Answer::Continue;
  } catch (Napi::Error& e) {
    // The callback threw (or JavaScript can no longer run): keep the first
    // error for the promise; the exception is cleared, nothing escapes.
    if (!self->thrown_) self->thrown_.emplace(std::move(e));
  } catch (...) {
  }
  call->Set(answer);
}

bool AsyncProgress::Report(double iteration, double value) {
  Call call;
  call.iteration = iteration;
  call.value = value;
  // Fails only when the function is closing (environment teardown).
  if (tsfn_.BlockingCall(&call) != napi_ok) throw ProgressAborted();
  std::unique_lock<std::mutex> lock(call.mutex);
  call.answered.wait(lock, [&] { return call.answer != Call::Answer::Pending; });
  if (call.answer == Call::Answer::Abort) throw ProgressAborted();
  return call.answer == Call::Answer::Continue;
}

std::optional<Napi::Value> AsyncProgress::Rejection() const {
  if (!thrown_) return std::nullopt;
  return thrown_->Value();
}

void AsyncProgress::Attach(semvec::KMeansParams& params, const std::shared_ptr<AsyncProgress>& progress) {
  if (!progress) return;
  params.progress = [progress](size_t iteration, double inertia) {
    return progress->Report(static_cast<double>(iteration), inertia);
  };
}

}  // namespace semvec_binding
