#include "flat_index_wrap.h"

#include <cstring>

#include "addon.h"
#include "args.h"
#include "errors.h"
#include "workers.h"

namespace semvec_binding {

using semvec::FlatIndex;
using semvec::SearchResults;

namespace {

Napi::Value results_to_js(Napi::Env env, const SearchResults& r) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Float64Array ids = Napi::Float64Array::New(env, r.ids.size());
  Napi::Float32Array scores = Napi::Float32Array::New(env, r.scores.size());
  for (size_t i = 0; i < r.ids.size(); ++i) ids[i] = static_cast<double>(r.ids[i]);
  if (!r.scores.empty()) std::memcpy(scores.Data(), r.scores.data(), r.scores.size() * sizeof(float));
  out.Set("k", Napi::Number::New(env, static_cast<double>(r.k)));
  out.Set("nq", Napi::Number::New(env, static_cast<double>(r.nq)));
  out.Set("ids", ids);
  out.Set("scores", scores);
  return out;
}

// Optional ids argument: undefined means sequential ids.
bool has_ids(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() > i && !info[i].IsUndefined() && !info[i].IsNull();
}

void check_ids_count(Napi::Env env, size_t ids, size_t rows) {
  if (ids != rows)
    throw_error(env, "ERR_INVALID_ARGUMENT",
                "expected one id per vector (" + std::to_string(rows) + "); received " +
                    std::to_string(ids) + " ids");
}

}  // namespace

Napi::Function FlatIndexWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(
      env, "NativeFlatIndex",
      {
          InstanceMethod<&FlatIndexWrap::Add>("add"),
          InstanceMethod<&FlatIndexWrap::AddAsync>("addAsync"),
          InstanceMethod<&FlatIndexWrap::Search>("search"),
          InstanceMethod<&FlatIndexWrap::SearchAsync>("searchAsync"),
          InstanceMethod<&FlatIndexWrap::Remove>("remove"),
          InstanceMethod<&FlatIndexWrap::Contains>("contains"),
          InstanceMethod<&FlatIndexWrap::Get>("get"),
          InstanceMethod<&FlatIndexWrap::Info>("info"),
          InstanceMethod<&FlatIndexWrap::Save>("save"),
          InstanceMethod<&FlatIndexWrap::SaveAsync>("saveAsync"),
          InstanceMethod<&FlatIndexWrap::Serialize>("serialize"),
          StaticMethod<&FlatIndexWrap::Load>("load"),
          StaticMethod<&FlatIndexWrap::LoadAsync>("loadAsync"),
          StaticMethod<&FlatIndexWrap::Deserialize>("deserialize"),
      });
  addon_data(env).flat_index_ctor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Value FlatIndexWrap::Wrap(Napi::Env env, std::shared_ptr<FlatIndex> index) {
  auto* holder = new std::shared_ptr<FlatIndex>(std::move(index));
  Napi::External<std::shared_ptr<FlatIndex>> ext = Napi::External<std::shared_ptr<FlatIndex>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<FlatIndex>* p) { delete p; });
  return addon_data(env).flat_index_ctor.New({ext});
}

FlatIndexWrap::FlatIndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FlatIndexWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() == 1 && info[0].IsExternal()) {
    index_ = *info[0].As<Napi::External<std::shared_ptr<FlatIndex>>>().Data();
    return;
  }
  size_t dim = count_arg(info, 0, "dim", 1, semvec::kMaxDim);
  semvec::Metric metric = metric_arg(info, 1);
  index_ = guard(env, [&] { return std::make_shared<FlatIndex>(dim, metric); });
}

// add(vectors: Float32Array, ids?: Float64Array)
Napi::Value FlatIndexWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View v = f32_arg(info, 0, "vectors");
  size_t n = rows_of(env, v, index_->dim(), "vectors");
  std::vector<uint64_t> ids;
  if (has_ids(info, 1)) {
    ids = ids_arg(info, 1);
    check_ids_count(env, ids.size(), n);
  }
  guard(env, [&] { index_->add(v.data, n, ids.empty() ? nullptr : ids.data()); });
  return env.Undefined();
}

Napi::Value FlatIndexWrap::AddAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View v = f32_arg(info, 0, "vectors");
  size_t n = rows_of(env, v, index_->dim(), "vectors");
  auto ids = std::make_shared<std::vector<uint64_t>>();
  if (has_ids(info, 1)) {
    *ids = ids_arg(info, 1);
    check_ids_count(env, ids->size(), n);
  }
  auto index = index_;
  return PromiseWorker::Start(
      env, [index, v, n, ids] { index->add(v.data, n, ids->empty() ? nullptr : ids->data()); },
      [](Napi::Env e) { return e.Undefined(); }, {info[0]});
}

// search(queries: Float32Array, k: number) -> { k, nq, ids, scores }
Napi::Value FlatIndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View q = f32_arg(info, 0, "queries");
  size_t nq = rows_of(env, q, index_->dim(), "queries");
  size_t k = count_arg(info, 1, "k", 1, 1e9);
  SearchResults r = guard(env, [&] { return index_->search(q.data, nq, k); });
  return results_to_js(env, r);
}

Napi::Value FlatIndexWrap::SearchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  F32View q = f32_arg(info, 0, "queries");
  size_t nq = rows_of(env, q, index_->dim(), "queries");
  size_t k = count_arg(info, 1, "k", 1, 1e9);
  auto index = index_;
  auto out = std::make_shared<SearchResults>();
  return PromiseWorker::Start(
      env, [index, q, nq, k, out] { *out = index->search(q.data, nq, k); },
      [out](Napi::Env e) { return results_to_js(e, *out); }, {info[0]});
}

Napi::Value FlatIndexWrap::Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<uint64_t> ids = ids_arg(info, 0);
  size_t removed = guard(env, [&] { return index_->remove(ids.data(), ids.size()); });
  return Napi::Number::New(env, static_cast<double>(removed));
}

Napi::Value FlatIndexWrap::Contains(const Napi::CallbackInfo& info) {
  double id = number_arg(info, 0, "id");
  if (!(id >= 0 && id <= kMaxSafeId) || std::floor(id) != id) return Napi::Boolean::New(info.Env(), false);
  return Napi::Boolean::New(info.Env(), index_->contains(static_cast<uint64_t>(id)));
}

Napi::Value FlatIndexWrap::Get(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t id = count_arg(info, 0, "id", 0, kMaxSafeId);
  Napi::Float32Array out = Napi::Float32Array::New(env, index_->dim());
  guard(env, [&] { index_->reconstruct(id, out.Data()); });
  return out;
}

Napi::Value FlatIndexWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("dim", Napi::Number::New(env, static_cast<double>(index_->dim())));
  o.Set("metric", Napi::String::New(env, semvec::metric_name(index_->metric())));
  o.Set("size", Napi::Number::New(env, static_cast<double>(index_->size())));
  o.Set("nextId", Napi::Number::New(env, static_cast<double>(index_->next_id())));
  o.Set("memoryUsage", Napi::Number::New(env, static_cast<double>(index_->memory_usage())));
  return o;
}

Napi::Value FlatIndexWrap::Save(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_arg(info, 0, "path");
  guard(env, [&] { index_->save(path); });
  return env.Undefined();
}

Napi::Value FlatIndexWrap::SaveAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_arg(info, 0, "path");
  auto index = index_;
  return PromiseWorker::Start(
      env, [index, path] { index->save(path); }, [](Napi::Env e) { return e.Undefined(); });
}

Napi::Value FlatIndexWrap::Serialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> buf;
  guard(env, [&] {
    index_->serialize([&](size_t size) {
      buf = Napi::Buffer<uint8_t>::New(env, size);
      return static_cast<void*>(buf.Data());
    });
  });
  return buf;
}

Napi::Value FlatIndexWrap::Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_arg(info, 0, "path");
  std::shared_ptr<FlatIndex> index = guard(env, [&] { return FlatIndex::load(path); });
  return Wrap(env, std::move(index));
}

Napi::Value FlatIndexWrap::LoadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = string_arg(info, 0, "path");
  auto out = std::make_shared<std::shared_ptr<FlatIndex>>();
  return PromiseWorker::Start(
      env, [path, out] { *out = FlatIndex::load(path); },
      [out](Napi::Env e) { return Wrap(e, *out); });
}

Napi::Value FlatIndexWrap::Deserialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw_error(env, "ERR_INVALID_ARGUMENT", "buffer must be a Uint8Array or Buffer");
  Napi::TypedArray a = info[0].As<Napi::TypedArray>();
  const uint8_t* data = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
  std::shared_ptr<FlatIndex> index =
      guard(env, [&] { return FlatIndex::deserialize(data, a.ByteLength()); });
  return Wrap(env, std::move(index));
}

}  // namespace semvec_binding
