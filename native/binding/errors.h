// The one place where core errors become JavaScript errors. JavaScript hands
// its error factory to setErrorFactory() at load, so native errors arrive as
// SemvecError (with `code`) like the ones thrown in TypeScript.
#pragma once

#include <napi.h>

#include <string>

namespace semvec_binding {

struct ErrorData {
  std::string code;
  std::string message;
};

Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message);

[[noreturn]] void throw_error(Napi::Env env, const std::string& code, const std::string& message);

// Converts the exception being handled into ErrorData; call inside catch(...).
ErrorData current_error();

// Runs fn; a core, allocation or other C++ error is rethrown as a JS error.
template <typename F>
auto guard(Napi::Env env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    ErrorData e = current_error();
    throw_error(env, e.code, e.message);
  }
}

void set_error_factory(const Napi::CallbackInfo& info);

}  // namespace semvec_binding
