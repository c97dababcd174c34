// A minimal test harness for the core: TEST registers a case; main.cpp runs
// them and prints one "PASS name" / "FAIL name: why" line each, which
// test/native/core.test.ts turns into one vitest case each.
#pragma once

#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "errors.h"

namespace harness {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, fn}); }
};

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

template <typename... A>
[[noreturn]] void fail(const char* file, int line, const A&... parts) {
  std::ostringstream os;
  os << file << ":" << line << ": ";
  (os << ... << parts);
  throw Failure(os.str());
}

}  // namespace harness

#define HARNESS_CAT2(a, b) a##b
#define HARNESS_CAT(a, b) HARNESS_CAT2(a, b)
#define TEST(name)                                                                  \
  static void HARNESS_CAT(test_fn_, __LINE__)();                                    \
  static harness::Register HARNESS_CAT(test_reg_, __LINE__)(name, HARNESS_CAT(test_fn_, __LINE__)); \
  static void HARNESS_CAT(test_fn_, __LINE__)()

#define CHECK(cond) \
  do { if (!(cond)) harness::fail(__FILE__, __LINE__, "CHECK(" #cond ") failed"); } while (0)

#define CHECK_EQ(a, b)                                                                     \
  do {                                                                                     \
    auto va_ = (a);                                                                        \
    auto vb_ = (b);                                                                        \
    if (!(va_ == vb_)) harness::fail(__FILE__, __LINE__, #a " == " #b ": ", va_, " vs ", vb_); \
  } while (0)

// |a - b| <= tol * max(1, |b|)
#define CHECK_NEAR(a, b, tol)                                                               \
  do {                                                                                      \
    double va_ = (a), vb_ = (b);                                                            \
    if (!(std::fabs(va_ - vb_) <= (tol) * std::max(1.0, std::fabs(vb_))))                   \
      harness::fail(__FILE__, __LINE__, #a " ~ " #b ": ", va_, " vs ", vb_, " (tol ", (tol), ")"); \
  } while (0)

#define CHECK_THROWS_CODE(expr, expected_code)                                              \
  do {                                                                                      \
    bool threw_ = false;                                                                    \
    try {                                                                                   \
      expr;                                                                                 \
    } catch (const semvec::Error& e_) {                                                     \
      threw_ = true;                                                                        \
      if (e_.code() != (expected_code))                                                     \
        harness::fail(__FILE__, __LINE__, #expr " threw ", e_.code_name(), ": ", e_.what()); \
    }                                                                                       \
    if (!threw_) harness::fail(__FILE__, __LINE__, #expr " did not throw");                 \
  } while (0)

// As CHECK_THROWS_CODE, and the message contains `needle`.
#define CHECK_THROWS_MSG(expr, expected_code, needle)                                       \
  do {                                                                                      \
    bool threw_ = false;                                                                    \
    try {                                                                                   \
      expr;                                                                                 \
    } catch (const semvec::Error& e_) {                                                     \
      threw_ = true;                                                                        \
      if (e_.code() != (expected_code) || std::string(e_.what()).find(needle) == std::string::npos) \
        harness::fail(__FILE__, __LINE__, #expr " threw ", e_.code_name(), ": ", e_.what(), \
                      " (expected a message with '", needle, "')");                         \
    }                                                                                       \
    if (!threw_) harness::fail(__FILE__, __LINE__, #expr " did not throw");                 \
  } while (0)
