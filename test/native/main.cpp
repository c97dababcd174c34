// Runs the core tests. Usage: semvec_core_tests [--list] [name...]
#include <cstdio>
#include <cstring>
#include <string>

#include "harness.h"

int main(int argc, char** argv) {
  auto& cases = harness::registry();
  if (argc > 1 && std::strcmp(argv[1], "--list") == 0) {
    for (auto& c : cases) std::printf("%s\n", c.name);
    return 0;
  }
  int passed = 0, failed = 0;
  for (auto& c : cases) {
    bool selected = argc == 1;
    for (int i = 1; i < argc; ++i) selected = selected || c.name == std::string(argv[i]);
    if (!selected) continue;
    try {
      c.fn();
      std::printf("PASS %s\n", c.name);
      ++passed;
    } catch (const std::exception& e) {
      std::printf("FAIL %s: %s\n", c.name, e.what());
      ++failed;
    }
    std::fflush(stdout);
  }
  std::printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
