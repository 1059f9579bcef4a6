// RunApp: the command-line surface of matih-provisioner. Returns the process exit code:
// 0 all good; 2 bad usage, config or input; 3 a tenant of this run ended FAILED or ROLLED_BACK;
// 4 database unreachable; 1 anything else.
#pragma once

namespace matih::runner {

int RunApp(int argc, char** argv);

}  // namespace matih::runner
