#include "ivf_index_wrap.h"

#include <optional>

#include "addon.h"
#include "args.h"
#include "async_progress.h"
#include "errors.h"
#include "index_methods.h"
#include "kmeans_binding.h"
#include "workers.h"

namespace semvec_binding {

using semvec::IvfIndex;
using semvec::SearchResults;

Napi::Function IvfIndexWrap::Define(Napi::Env env) {
  Napi::Function ctor = DefineClass(env, "NativeIvfIndex",
                                    CommonMethods({
                                        InstanceMethod<&IvfIndexWrap::Train>("train"),
                                        InstanceMethod<&IvfIndexWrap::TrainAsync>("trainAsync"),
                                        InstanceMethod<&IvfIndexWrap::Search>("search"),
                                        InstanceMethod<&IvfIndexWrap::SearchAsync>("searchAsync"),
                                        InstanceMethod<&IvfIndexWrap::Info>("info"),
                                        InstanceMethod<&IvfIndexWrap::Nprobe>("nprobe"),
                                        InstanceMethod<&IvfIndexWrap::SetNprobe>("setNprobe"),
                                        InstanceMethod<&IvfIndexWrap::Rerank>("rerank"),
                                        InstanceMethod<&IvfIndexWrap::SetRerank>("setRerank"),
                                        InstanceMethod<&IvfIndexWrap::IsTrained>("isTrained"),
                                        InstanceMethod<&IvfIndexWrap::ListSizes>("listSizes"),
                                        InstanceMethod<&IvfIndexWrap::Centroids>("centroids"),
                                        InstanceMethod<&IvfIndexWrap::EmptyLike>("emptyLike"),
                                    }));
  addon_data(env).ivf_index_ctor = Napi::Persistent(ctor);
  return ctor;
}

Napi::Value IvfIndexWrap::Wrap(Napi::Env env, std::shared_ptr<IvfIndex> index) {
  return wrap_existing(env, addon_data(env).ivf_index_ctor, std::move(index));
}

namespace {

constexpr double kMaxRerank = static_cast<double>(semvec::kMaxRerank);
constexpr double kMaxNlist = static_cast<double>(semvec::kMaxNlist);

semvec::IvfEncoding encoding_arg(const Napi::CallbackInfo& info, size_t i) {
  std::string e = string_arg(info, i, "encoding");
  if (e == "f32") return semvec::IvfEncoding::F32;
  if (e == "sq8") return semvec::IvfEncoding::Sq8;
  throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "encoding must be 'f32' or 'sq8'; received '" + e + "'");
}

// search(queries, k, allow?, nprobe?, rerank?): undefined nprobe and rerank
// are the index's own.
struct IvfSearchArgs : SearchArgs {
  semvec::IvfSearchParams params() const { return {nprobe, rerank, allow_data(), allow_size()}; }
  std::optional<size_t> nprobe;
  std::optional<size_t> rerank;
};

IvfSearchArgs ivf_search_args(const Napi::CallbackInfo& info, size_t dim, bool async) {
  IvfSearchArgs a;
  static_cast<SearchArgs&>(a) = search_args(info, dim, async);
  a.nprobe = optional_count_arg(info, 3, "nprobe", 1, kMaxNlist);
  a.rerank = optional_count_arg(info, 4, "rerank", 0, kMaxRerank);
  return a;
}

// train(vectors, options, progress?): the vectors and the k-means options.
struct TrainArgs {
  F32View vectors;
  size_t n = 0;
  semvec::KMeansParams params;
};

TrainArgs train_args(const Napi::CallbackInfo& info, size_t dim, bool async) {
  TrainArgs a;
  a.vectors = async ? f32_arg_fixed(info, 0, "vectors") : f32_arg(info, 0, "vectors");
  a.n = rows_of(info.Env(), a.vectors, dim, "vectors");
  a.params = kmeans_params(info, 1, IvfIndex::training_defaults());
  return a;
}

}  // namespace

// new IvfIndex(dim, metric, nlist, nprobe?, encoding, rerank?): an
// undefined nprobe is default_nprobe(nlist), an undefined rerank
// kDefaultRerank.
IvfIndexWrap::IvfIndexWrap(const Napi::CallbackInfo& info) : IndexWrap(info) {
  if (index_) return;
  size_t dim = count_arg(info, 0, "dim", 1, semvec::kMaxDim);
  semvec::Metric metric = metric_arg(info, 1);
  size_t nlist = count_arg(info, 2, "nlist", 1, kMaxNlist);
  size_t nprobe = optional_count_arg(info, 3, "nprobe", 1, kMaxNlist).value_or(semvec::default_nprobe(nlist));
  semvec::IvfEncoding encoding = encoding_arg(info, 4);
  size_t rerank = optional_count_arg(info, 5, "rerank", 0, kMaxRerank).value_or(semvec::kDefaultRerank);
  index_ = guard(info.Env(), [&] {
    return std::make_shared<IvfIndex>(dim, metric, nlist, nprobe, encoding, rerank);
  });
}

// train(vectors, options, progress?) -> { history, iterations, trainingPoints }
Napi::Value IvfIndexWrap::Train(const Napi::CallbackInfo& info) {
  TrainArgs a = train_args(info, index_->dim(), false);
  attach_sync_progress(a.params, info, 2);
  semvec::KMeansResult r = guard(info.Env(), [&] { return index_->train(a.vectors.data, a.n, a.params); });
  return kmeans_result_to_js(info.Env(), r, false);
}

Napi::Value IvfIndexWrap::TrainAsync(const Napi::CallbackInfo& info) {
  TrainArgs a = train_args(info, index_->dim(), true);
  auto progress = AsyncProgress::FromArg(info, 2);
  AsyncProgress::Attach(a.params, progress);
  auto index = index_;
  auto out = std::make_shared<semvec::KMeansResult>();
  return PromiseWorker::Start(
      info.Env(), [index, a, out] { *out = index->train(a.vectors.data, a.n, a.params); },
      [out](Napi::Env e) { return kmeans_result_to_js(e, *out, false); }, {info[0]}, progress);
}

// search(queries, k, allow?, nprobe?, rerank?) -> { k, nq, ids, scores, counts }
Napi::Value IvfIndexWrap::Search(const Napi::CallbackInfo& info) { return SearchOn(info, false); }

Napi::Value IvfIndexWrap::SearchAsync(const Napi::CallbackInfo& info) { return SearchOn(info, true); }

Napi::Value IvfIndexWrap::SearchOn(const Napi::CallbackInfo& info, bool async) {
  IvfSearchArgs a = ivf_search_args(info, index_->dim(), async);
  return index_search(info, index_, async, [a](const IvfIndex& index) {
    return index.search(a.queries.data, a.nq, a.k, a.params());
  });
}

// info() -> { dim, metric, nlist, encoding }: fixed at construction.
Napi::Value IvfIndexWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = BaseInfo(env);
  o.Set("nlist", Napi::Number::New(env, static_cast<double>(index_->nlist())));
  o.Set("encoding", Napi::String::New(env, semvec::ivf_encoding_name(index_->encoding())));
  return o;
}

Napi::Value IvfIndexWrap::Nprobe(const Napi::CallbackInfo& info) { return count(info, index_->nprobe()); }

Napi::Value IvfIndexWrap::Rerank(const Napi::CallbackInfo& info) { return count(info, index_->rerank()); }

Napi::Value IvfIndexWrap::IsTrained(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), index_->is_trained());
}

Napi::Value IvfIndexWrap::SetNprobe(const Napi::CallbackInfo& info) {
  size_t nprobe = count_arg(info, 0, "nprobe", 0, kMaxNlist);
  guard(info.Env(), [&] { index_->set_nprobe(nprobe); });
  return info.Env().Undefined();
}

Napi::Value IvfIndexWrap::SetRerank(const Napi::CallbackInfo& info) {
  size_t rerank = count_arg(info, 0, "rerank", 0, kMaxRerank);
  guard(info.Env(), [&] { index_->set_rerank(rerank); });
  return info.Env().Undefined();
}

Napi::Value IvfIndexWrap::ListSizes(const Napi::CallbackInfo& info) {
  std::vector<size_t> sizes = index_->list_sizes();
  Napi::Float64Array out = Napi::Float64Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out[i] = static_cast<double>(sizes[i]);
  return out;
}

Napi::Value IvfIndexWrap::Centroids(const Napi::CallbackInfo& info) {
  std::vector<float> c = index_->centroids();
  Napi::Float32Array out = Napi::Float32Array::New(info.Env(), c.size());
  if (!c.empty()) std::memcpy(out.Data(), c.data(), c.size() * sizeof(float));
  return out;
}

// emptyLike() -> a new owned, empty IvfIndex with this one's settings and centroids.
Napi::Value IvfIndexWrap::EmptyLike(const Napi::CallbackInfo& info) {
  std::shared_ptr<IvfIndex> like = guard(info.Env(), [&] { return index_->empty_like(); });
  return Wrap(info.Env(), std::move(like));
}

}  // namespace semvec_binding
