// Methods shared by the index wrappers (FlatIndexWrap, IvfIndexWrap): the
// argument handling and async plumbing is the same for every index kind.
// Index is the core class; the wrapper owns a std::shared_ptr<Index> so async
// work keeps the index alive.
#pragma once

#include <napi.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "../core/search_results.h"
#include "args.h"
#include "errors.h"
#include "workers.h"

namespace semvec_binding {

inline Napi::Value results_to_js(Napi::Env env, const semvec::SearchResults& r) {
  Napi::Object out = Napi::Object::New(env);
  Napi::Float64Array ids = Napi::Float64Array::New(env, r.ids.size());
  Napi::Float32Array scores = Napi::Float32Array::New(env, r.scores.size());
  for (size_t i = 0; i < r.ids.size(); ++i) ids[i] = static_cast<double>(r.ids[i]);
  if (!r.scores.empty()) std::memcpy(scores.Data(), r.scores.data(), r.scores.size() * sizeof(float));
  out.Set("k", Napi::Number::New(env, static_cast<double>(r.k)));
  out.Set("nq", Napi::Number::New(env, static_cast<double>(r.nq)));
  out.Set("ids", ids);
  out.Set("scores", scores);
  if (!r.counts.empty()) {
    Napi::Uint32Array counts = Napi::Uint32Array::New(env, r.counts.size());
    std::memcpy(counts.Data(), r.counts.data(), r.counts.size() * sizeof(uint32_t));
    out.Set("counts", counts);
  }
  return out;
}

// Optional allow-list argument (Float64Array of ids) at position i.
inline std::shared_ptr<std::vector<uint64_t>> allow_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return nullptr;
  return std::make_shared<std::vector<uint64_t>>(ids_arg(info, i));
}

// The arguments every index's search takes: queries (0), k (1) and an
// optional allow-list (2), parsed once for the sync and async methods.
struct SearchArgs {
  F32View queries;
  size_t nq = 0;
  size_t k = 0;
  std::shared_ptr<std::vector<uint64_t>> allow;  // null: any id

  // The allow-list as the core takes it: nullptr for none; a valid pointer
  // for an empty list (nothing allowed).
  const uint64_t* allow_data() const {
    static const uint64_t none = 0;
    return allow ? (allow->empty() ? &none : allow->data()) : nullptr;
  }
  size_t allow_size() const { return allow ? allow->size() : 0; }
};

// `async`: the queries are read after the call returns (f32_arg_fixed).
inline SearchArgs search_args(const Napi::CallbackInfo& info, size_t dim, bool async) {
  SearchArgs a;
  a.queries = async ? f32_arg_fixed(info, 0, "queries") : f32_arg(info, 0, "queries");
  a.nq = rows_of(info.Env(), a.queries, dim, "queries");
  a.k = k_arg(info, 1);
  a.allow = allow_arg(info, 2);
  return a;
}

// search(queries, ...) on the calling thread, or on a worker (searchAsync:
// the queries stay referenced until the promise settles). run(index)
// returns the core's SearchResults.
template <typename Index, typename Run>
Napi::Value index_search(const Napi::CallbackInfo& info, const std::shared_ptr<Index>& index, bool async,
                         Run run) {
  Napi::Env env = info.Env();
  if (!async) return results_to_js(env, guard(env, [&] { return run(*index); }));
  auto out = std::make_shared<semvec::SearchResults>();
  return PromiseWorker::Start(
      env, [index, run, out] { *out = run(*index); }, [out](Napi::Env e) { return results_to_js(e, *out); },
      {info[0]});
}

// Vectors and optional ids of an add call, checked against the index.
struct AddArgs {
  F32View vectors;
  size_t n = 0;
  std::shared_ptr<std::vector<uint64_t>> ids = std::make_shared<std::vector<uint64_t>>();
  const uint64_t* ids_or_null() const { return ids->empty() ? nullptr : ids->data(); }
};

// `async`: the vectors are read after the call returns (f32_arg_fixed).
inline AddArgs add_args(const Napi::CallbackInfo& info, size_t dim, bool async) {
  AddArgs a;
  a.vectors = async ? f32_arg_fixed(info, 0, "vectors") : f32_arg(info, 0, "vectors");
  a.n = rows_of(info.Env(), a.vectors, dim, "vectors");
  if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) {
    *a.ids = ids_arg(info, 1);
    if (a.ids->size() != a.n)
      throw_error(info.Env(), "ERR_INVALID_ARGUMENT",
                  "expected one id per vector (" + std::to_string(a.n) + "); received " +
                      std::to_string(a.ids->size()) + " ids");
  }
  return a;
}

template <typename Index>
Napi::Value index_add(const Napi::CallbackInfo& info, Index& index) {
  AddArgs a = add_args(info, index.dim(), false);
  guard(info.Env(), [&] { index.add(a.vectors.data, a.n, a.ids_or_null()); });
  return info.Env().Undefined();
}

template <typename Index>
Napi::Value index_add_async(const Napi::CallbackInfo& info, std::shared_ptr<Index> index) {
  AddArgs a = add_args(info, index->dim(), true);
  return PromiseWorker::Start(
      info.Env(), [index, a] { index->add(a.vectors.data, a.n, a.ids_or_null()); },
      [](Napi::Env e) { return e.Undefined(); }, {info[0]});
}

template <typename Index>
Napi::Value index_remove(const Napi::CallbackInfo& info, Index& index) {
  std::vector<uint64_t> ids = ids_arg(info, 0);
  size_t removed = guard(info.Env(), [&] { return index.remove(ids.data(), ids.size()); });
  return Napi::Number::New(info.Env(), static_cast<double>(removed));
}

template <typename Index>
Napi::Value index_remove_async(const Napi::CallbackInfo& info, std::shared_ptr<Index> index) {
  auto ids = std::make_shared<std::vector<uint64_t>>(ids_arg(info, 0));
  auto removed = std::make_shared<size_t>(0);
  return PromiseWorker::Start(
      info.Env(), [index, ids, removed] { *removed = index->remove(ids->data(), ids->size()); },
      [removed](Napi::Env e) { return Napi::Number::New(e, static_cast<double>(*removed)); });
}

template <typename Index>
Napi::Value index_contains(const Napi::CallbackInfo& info, const Index& index) {
  double id = number_arg(info, 0, "id");
  bool valid = id >= 0 && id <= kMaxSafeInteger && std::floor(id) == id;
  return Napi::Boolean::New(info.Env(), valid && index.contains(static_cast<uint64_t>(id)));
}

template <typename Index>
Napi::Value index_get(const Napi::CallbackInfo& info, const Index& index) {
  size_t id = count_arg(info, 0, "id", 0, kMaxSafeInteger);
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), index.dim());
  guard(info.Env(), [&] { index.reconstruct(id, out.Data()); });
  return out;
}

template <typename Index>
Napi::Value index_save(const Napi::CallbackInfo& info, const Index& index) {
  std::string path = string_arg(info, 0, "path");
  guard(info.Env(), [&] { index.save(path); });
  return info.Env().Undefined();
}

template <typename Index>
Napi::Value index_save_async(const Napi::CallbackInfo& info, std::shared_ptr<Index> index) {
  std::string path = string_arg(info, 0, "path");
  return PromiseWorker::Start(
      info.Env(), [index, path] { index->save(path); }, [](Napi::Env e) { return e.Undefined(); });
}

template <typename Index>
Napi::Value index_serialize(const Napi::CallbackInfo& info, const Index& index) {
  Napi::Env env = info.Env();
  Napi::Buffer<uint8_t> buf;
  guard(env, [&] {
    index.serialize([&](size_t size) {
      buf = Napi::Buffer<uint8_t>::New(env, size);
      return static_cast<void*>(buf.Data());
    });
  });
  return buf;
}

// Static loaders; Wrap(env, shared_ptr<Index>) makes the JS object.
template <typename Index, typename Wrapper>
Napi::Value index_load(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  std::shared_ptr<Index> index = guard(info.Env(), [&] { return Index::load(path); });
  return Wrapper::Wrap(info.Env(), std::move(index));
}

template <typename Index, typename Wrapper>
Napi::Value index_load_async(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  auto out = std::make_shared<std::shared_ptr<Index>>();
  return PromiseWorker::Start(
      info.Env(), [path, out] { *out = Index::load(path); },
      [out](Napi::Env e) { return Wrapper::Wrap(e, *out); });
}

// Static openers: open(path, verify) maps a format-3 file read-only.
template <typename Index, typename Wrapper>
Napi::Value index_open(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  bool verify = bool_arg(info, 1, "verify");
  std::shared_ptr<Index> index = guard(info.Env(), [&] { return Index::open(path, verify); });
  return Wrapper::Wrap(info.Env(), std::move(index));
}

template <typename Index, typename Wrapper>
Napi::Value index_open_async(const Napi::CallbackInfo& info) {
  std::string path = string_arg(info, 0, "path");
  bool verify = bool_arg(info, 1, "verify");
  auto out = std::make_shared<std::shared_ptr<Index>>();
  return PromiseWorker::Start(
      info.Env(), [path, verify, out] { *out = Index::open(path, verify); },
      [out](Napi::Env e) { return Wrapper::Wrap(e, *out); });
}

template <typename Index, typename Wrapper>
Napi::Value index_deserialize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw_error(env, "ERR_INVALID_ARGUMENT", "buffer must be a Uint8Array or Buffer");
  Napi::TypedArray a = info[0].As<Napi::TypedArray>();
  const uint8_t* data = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
  std::shared_ptr<Index> index = guard(env, [&] { return Index::deserialize(data, a.ByteLength()); });
  return Wrapper::Wrap(env, std::move(index));
}

// Wraps an existing core index in a new JS object of the class `ctor`.
template <typename Index>
Napi::Value wrap_existing(Napi::Env env, Napi::FunctionReference& ctor, std::shared_ptr<Index> index) {
  auto* holder = new std::shared_ptr<Index>(std::move(index));
  auto ext = Napi::External<std::shared_ptr<Index>>::New(
      env, holder, [](Napi::Env, std::shared_ptr<Index>* p) { delete p; });
  return ctor.New({ext});
}

// In a wrapper constructor: the index handed over by wrap_existing, if any.
template <typename Index>
std::shared_ptr<Index> from_external(const Napi::CallbackInfo& info) {
  if (info.Length() == 1 && info[0].IsExternal())
    return *info[0].As<Napi::External<std::shared_ptr<Index>>>().Data();
  return nullptr;
}

}  // namespace semvec_binding
