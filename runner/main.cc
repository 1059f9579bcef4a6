// matih-provisioner: wiring only. Parses the command line, builds the objects, runs a command.
// `__plugin-worker` (hidden) is this binary serving step calls for the runner that exec'd it
// (runner/isolation/worker_main.h); it never reaches the command-line parser.
#include <cstring>

#include "cli/app.h"
#include "isolation/worker_main.h"

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], matih::runner::isolation::kWorkerCommand) == 0)
    return matih::runner::isolation::RunPluginWorker(argc, argv);
  return matih::runner::RunApp(argc, argv);
}
