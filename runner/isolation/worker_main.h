// The plugin worker: `matih-provisioner __plugin-worker --fd N --progress-fd 4
// [--memory-limit BYTES]`, exec'd by the runner's WorkerPool (never run by hand). It caps its
// address space (RLIMIT_AS), loads the plugins named in the first frame with the ordinary
// PluginHost (file, permission, pin and ELF checks included, so a broken file is a refusal here,
// never a signal in the runner), then serves batches of step calls, one call at a time, over the
// socket on fd N (protocol.h) until the runner closes it, marking the call it runs in the
// progress page. Host services a plugin uses during a call are served locally from the call's
// copy (tenant, params, outputs, settings, deadline) or proxied to the runner (secrets); the
// cancel flag is raised by SIGUSR1; log lines go to the inherited stderr in the runner's format.
// The worker leaves with _exit, so plugin static destructors never run under plugin threads,
// and it leaves on its own when the runner that spawned it is gone.
//
// Runs single-threaded (plus a watchdog thread that only checks the parent).
#pragma once

namespace matih::runner::isolation {

// The hidden subcommand's name: argv[1] of a worker.
inline constexpr const char* kWorkerCommand = "__plugin-worker";

// argv as given to the executable (argv[1] == kWorkerCommand). Returns only on a usage error.
int RunPluginWorker(int argc, char** argv);

}  // namespace matih::runner::isolation
