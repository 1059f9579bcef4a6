#include "cli/app.h"

#include <cstdio>

namespace matih::runner {

int RunApp(int, char**) {
  std::fprintf(stderr, "matih-provisioner: not wired yet\n");
  return 1;
}

}  // namespace matih::runner
