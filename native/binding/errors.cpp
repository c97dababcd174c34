#include "errors.h"

#include <new>

#include "../core/errors.h"
#include "addon.h"

namespace semvec_binding {

void set_error_factory(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsFunction())
    throw_error(info.Env(), "ERR_INVALID_ARGUMENT", "setErrorFactory expects a function");
  addon_data(info.Env()).error_factory = Napi::Persistent(info[0].As<Napi::Function>());
}

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::FunctionReference& factory = addon_data(env).error_factory;
  if (!factory.IsEmpty()) {
    Napi::Value v = factory.Call({Napi::String::New(env, code), Napi::String::New(env, message)});
    if (v.IsObject()) return Napi::Error(env, v);
  }
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

void throw_error(Napi::Env env, const std::string& code, const std::string& message) {
  throw make_error(env, code, message);
}

ErrorData current_error() {
  try {
    throw;
  } catch (const semvec::Error& e) {
    return {e.code_name(), e.what()};
  } catch (const std::bad_alloc&) {
    return {"ERR_OUT_OF_MEMORY", "out of memory"};
  } catch (const std::exception& e) {
    return {"ERR_INTERNAL", std::string("internal error: ") + e.what()};
  } catch (...) {
    return {"ERR_INTERNAL", "internal error"};
  }
}

}  // namespace semvec_binding
