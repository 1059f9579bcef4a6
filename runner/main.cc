// matih-provisioner: wiring only. Parses the command line, builds the objects, runs a command.
#include "cli/app.h"

int main(int argc, char** argv) { return matih::runner::RunApp(argc, argv); }
