#include "encoder_wrap.h"

#include <string>
#include <vector>

#include "args.h"
#include "errors.h"
#include "workers.h"

namespace semvec_binding {

using semvec::Encoder;
using semvec::EncoderPooling;

namespace {

[[noreturn]] void bad(Napi::Env env, const std::string& message) { throw_error(env, "ERR_INVALID_ARGUMENT", message); }

Napi::Object object_field(Napi::Env env, Napi::Object o, const char* key, const std::string& name) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) bad(env, name + " must be an object");
  return v.As<Napi::Object>();
}

double number_field(Napi::Env env, Napi::Object o, const char* key, const std::string& name) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) bad(env, name + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

size_t count_field(Napi::Env env, Napi::Object o, const char* key, const std::string& name) {
  double v = number_field(env, o, key, name);
  if (!(v >= 0 && v <= kMaxSafeInteger) || std::floor(v) != v)
    bad(env, name + " must be a non-negative integer; received " + std::to_string(v));
  return static_cast<size_t>(v);
}

int32_t int_field(Napi::Env env, Napi::Object o, const char* key, const std::string& name) {
  double v = number_field(env, o, key, name);
  if (!(v >= -2147483648.0 && v <= 2147483647.0) || std::floor(v) != v)
    bad(env, name + " must be an integer; received " + std::to_string(v));
  return static_cast<int32_t>(v);
}

template <typename T>
struct View {
  const T* data = nullptr;
  size_t length = 0;
};

const char* typed_array_name(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "an Int8Array";
    case napi_uint8_array: return "a Uint8Array";
    case napi_int32_array: return "an Int32Array";
    case napi_uint32_array: return "a Uint32Array";
    case napi_float32_array: return "a Float32Array";
    default: return "a typed array";
  }
}

template <typename T>
View<T> typed_value(Napi::Env env, Napi::Value v, napi_typedarray_type type, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    bad(env, name + " must be " + typed_array_name(type));
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  const uint8_t* base = static_cast<const uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset();
  return {reinterpret_cast<const T*>(base), a.ElementLength()};
}

template <typename T>
View<T> typed_field(Napi::Env env, Napi::Object o, const char* key, napi_typedarray_type type, const std::string& name) {
  return typed_value<T>(env, o.Get(key), type, name);
}

semvec::EncoderNormSpec norm_field(Napi::Env env, Napi::Object o, const char* key, const std::string& name) {
  Napi::Object n = object_field(env, o, key, name);
  auto g = typed_field<float>(env, n, "gamma", napi_float32_array, name + ".gamma");
  auto b = typed_field<float>(env, n, "beta", napi_float32_array, name + ".beta");
  return {g.data, g.length, b.data, b.length};
}

semvec::EncoderLinearSpec linear_field(Napi::Env env, Napi::Object o, const char* key, const std::string& name) {
  Napi::Object l = object_field(env, o, key, name);
  auto w = typed_field<int8_t>(env, l, "weight", napi_int8_array, name + ".weight");
  auto s = typed_field<float>(env, l, "scale", napi_float32_array, name + ".scale");
  auto z = typed_field<int32_t>(env, l, "zeroPoint", napi_int32_array, name + ".zeroPoint");
  auto b = typed_field<float>(env, l, "bias", napi_float32_array, name + ".bias");
  return {w.data, w.length, s.data, s.length, z.data, z.length, b.data, b.length};
}

// { data: Float32Array } | { data: Uint8Array | Int8Array, scale, zeroPoint }
semvec::EncoderTableSpec table_field(Napi::Env env, Napi::Object o, const char* key, const std::string& name) {
  Napi::Object t = object_field(env, o, key, name);
  Napi::Value data = t.Get("data");
  semvec::EncoderTableSpec spec;
  napi_typedarray_type type = data.IsTypedArray() ? data.As<Napi::TypedArray>().TypedArrayType() : napi_float64_array;
  if (type == napi_float32_array) {
    auto v = typed_value<float>(env, data, type, name + ".data");
    spec.type = semvec::EncoderTableType::Float32;
    spec.data = v.data;
    spec.length = v.length;
  } else if (type == napi_uint8_array || type == napi_int8_array) {
    auto v = typed_value<uint8_t>(env, data, type, name + ".data");
    spec.type = type == napi_uint8_array ? semvec::EncoderTableType::Uint8 : semvec::EncoderTableType::Int8;
    spec.data = v.data;
    spec.length = v.length;
    spec.scale = static_cast<float>(number_field(env, t, "scale", name + ".scale"));
    spec.zero_point = int_field(env, t, "zeroPoint", name + ".zeroPoint");
  } else {
    bad(env, name + ".data must be a Float32Array, a Uint8Array or an Int8Array");
  }
  return spec;
}

semvec::EncoderSpec encoder_spec(Napi::Env env, Napi::Value value) {
  if (!value.IsObject()) bad(env, "spec must be an object");
  Napi::Object o = value.As<Napi::Object>();
  semvec::EncoderSpec s;
  s.hidden = count_field(env, o, "hidden", "spec.hidden");
  s.heads = count_field(env, o, "heads", "spec.heads");
  s.intermediate = count_field(env, o, "intermediate", "spec.intermediate");
  s.layer_norm_eps = static_cast<float>(number_field(env, o, "layerNormEps", "spec.layerNormEps"));
  Napi::Value gelu = o.Get("gelu");
  std::string g = gelu.IsString() ? gelu.As<Napi::String>().Utf8Value() : "";
  if (g == "erf") {
    s.gelu = semvec::EncoderGelu::Erf;
  } else if (g == "tanh") {
    s.gelu = semvec::EncoderGelu::Tanh;
  } else {
    bad(env, "spec.gelu must be 'erf' or 'tanh'" + (gelu.IsString() ? "; received '" + g + "'" : std::string()));
  }
  s.word = table_field(env, o, "word", "spec.word");
  s.position = table_field(env, o, "position", "spec.position");
  if (!o.Get("tokenType").IsUndefined()) {
    s.has_token_type = true;
    s.token_type = table_field(env, o, "tokenType", "spec.tokenType");
  }
  s.embedding_norm = norm_field(env, o, "embeddingNorm", "spec.embeddingNorm");
  Napi::Value layers = o.Get("layers");
  if (!layers.IsArray()) bad(env, "spec.layers must be an array");
  Napi::Array arr = layers.As<Napi::Array>();
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    const std::string p = "spec.layers[" + std::to_string(i) + "]";
    Napi::Value lv = arr.Get(i);
    if (!lv.IsObject()) bad(env, p + " must be an object");
    Napi::Object l = lv.As<Napi::Object>();
    semvec::EncoderLayerSpec layer;
    layer.query = linear_field(env, l, "query", p + ".query");
    layer.key = linear_field(env, l, "key", p + ".key");
    layer.value = linear_field(env, l, "value", p + ".value");
    layer.output = linear_field(env, l, "output", p + ".output");
    layer.attention_norm = norm_field(env, l, "attentionNorm", p + ".attentionNorm");
    layer.intermediate = linear_field(env, l, "intermediate", p + ".intermediate");
    layer.ffn_output = linear_field(env, l, "ffnOutput", p + ".ffnOutput");
    layer.output_norm = norm_field(env, l, "outputNorm", p + ".outputNorm");
    s.layers.push_back(layer);
  }
  return s;
}

// encode's arguments, copied (they are small) so async work needs no
// reference to JavaScript memory.
struct EncodeArgs {
  std::vector<int32_t> ids, type_ids;
  bool has_types = false;
  std::vector<uint32_t> lengths;
  EncoderPooling pooling = EncoderPooling::Mean;
};

EncodeArgs encode_args(const Napi::CallbackInfo& info, size_t hidden) {
  Napi::Env env = info.Env();
  EncodeArgs a;
  auto ids = typed_value<int32_t>(env, info[0], napi_int32_array, "ids");
  a.ids.assign(ids.data, ids.data + ids.length);
  if (info.Length() > 1 && !info[1].IsNull() && !info[1].IsUndefined()) {
    auto t = typed_value<int32_t>(env, info[1], napi_int32_array, "typeIds");
    if (t.length != ids.length)
      throw_error(env, "ERR_DIMENSION_MISMATCH",
                  "typeIds must have one value per id (" + std::to_string(ids.length) + "); received " +
                      std::to_string(t.length));
    a.type_ids.assign(t.data, t.data + t.length);
    a.has_types = true;
  }
  auto lengths = typed_value<uint32_t>(env, info.Length() > 2 ? info[2] : env.Undefined(), napi_uint32_array, "lengths");
  a.lengths.assign(lengths.data, lengths.data + lengths.length);
  std::string pooling = string_arg(info, 3, "pooling");
  if (pooling == "mean") {
    a.pooling = EncoderPooling::Mean;
  } else if (pooling == "cls") {
    a.pooling = EncoderPooling::Cls;
  } else {
    bad(env, "pooling must be 'mean' or 'cls'; received '" + pooling + "'");
  }
  if (hidden != 0 && a.lengths.size() > kMaxArrayLength / hidden)
    bad(env, std::to_string(a.lengths.size()) + " sequences of " + std::to_string(hidden) +
                 " values are more than a Float32Array holds; encode them in batches");
  return a;
}

std::unique_ptr<float[]> run_encode(const Encoder& e, const EncodeArgs& a) {
  std::unique_ptr<float[]> out(new float[a.lengths.size() * e.hidden() + 1]);
  e.encode(a.ids.data(), a.has_types ? a.type_ids.data() : nullptr, a.ids.size(), a.lengths.data(), a.lengths.size(),
           a.pooling, out.get());
  return out;
}

}  // namespace

Napi::Function EncoderWrap::Define(Napi::Env env) {
  return DefineClass(env, "NativeEncoder",
                     {
                         InstanceMethod<&EncoderWrap::Encode>("encode"),
                         InstanceMethod<&EncoderWrap::EncodeAsync>("encodeAsync"),
                         InstanceMethod<&EncoderWrap::MemoryUsage>("memoryUsage"),
                         InstanceMethod<&EncoderWrap::Release>("release"),
                         InstanceAccessor<&EncoderWrap::Hidden>("hidden"),
                         InstanceAccessor<&EncoderWrap::Layers>("layers"),
                         InstanceAccessor<&EncoderWrap::MaxPositions>("maxPositions"),
                         InstanceAccessor<&EncoderWrap::Vocab>("vocab"),
                     });
}

EncoderWrap::EncoderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EncoderWrap>(info) {
  Napi::Env env = info.Env();
  semvec::EncoderSpec spec = encoder_spec(env, info.Length() > 0 ? info[0] : env.Undefined());
  size_t threads = optional_count_arg(info, 1, "threads", 0, 1024).value_or(0);
  encoder_ = guard(env, [&] { return std::make_shared<Encoder>(spec, threads); });
  hidden_ = encoder_->hidden();
  layers_ = encoder_->layers();
  max_positions_ = encoder_->max_positions();
  vocab_ = encoder_->vocab();
}

const std::shared_ptr<Encoder>& EncoderWrap::live(Napi::Env env) const {
  if (!encoder_) throw_error(env, "ERR_CLOSED", "the encoder was released");
  return encoder_;
}

// encode(ids, typeIds | null, lengths, pooling) -> Float32Array(sequences * hidden)
Napi::Value EncoderWrap::Encode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::shared_ptr<Encoder>& e = live(env);
  EncodeArgs a = encode_args(info, e->hidden());
  return guard(env, [&] { return owned_f32_array(env, run_encode(*e, a), a.lengths.size() * e->hidden()); });
}

Napi::Value EncoderWrap::EncodeAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<Encoder> e = live(env);
  auto a = std::make_shared<EncodeArgs>(encode_args(info, e->hidden()));
  auto out = std::make_shared<std::unique_ptr<float[]>>();
  return PromiseWorker::Start(
      env, [e, a, out] { *out = run_encode(*e, *a); },
      [e, a, out](Napi::Env env) -> Napi::Value {
        return owned_f32_array(env, std::move(*out), a->lengths.size() * e->hidden());
      });
}

Napi::Value EncoderWrap::Hidden(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(hidden_)); }
Napi::Value EncoderWrap::Layers(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(layers_)); }
Napi::Value EncoderWrap::MaxPositions(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(max_positions_));
}
Napi::Value EncoderWrap::Vocab(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(vocab_)); }

Napi::Value EncoderWrap::MemoryUsage(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), encoder_ ? double(encoder_->memory_usage()) : 0.0);
}

// Drops this wrapper's reference: the encoder goes once running async work
// holding its own reference finishes. Later calls throw ERR_CLOSED.
Napi::Value EncoderWrap::Release(const Napi::CallbackInfo& info) {
  encoder_.reset();
  return info.Env().Undefined();
}

}  // namespace semvec_binding
