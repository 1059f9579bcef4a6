// RunInProcessGroup: runs one program as a child in a process group of its own, reads its stdout
// and stderr line by line through pipes, and ends the whole group (SIGTERM, then SIGKILL after a
// grace period) when the caller asks it to stop (the step's deadline, the runner's cancel).
// Terraform's provisioners and providers are children of terraform; killing the group ends them
// too, so nothing outlives a cancelled step.
//
// The child gets exactly `env` as its environment (nothing inherited) and `cwd` as its working
// directory. Safe to call from any thread; each call owns its child and pipes.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace matih::plugins::terraform {

struct ProcessOptions {
  std::string program;            // absolute path
  std::vector<std::string> args;  // without argv[0]
  std::vector<std::string> env;   // "KEY=value"
  std::string cwd;
  std::chrono::system_clock::time_point deadline;
  std::chrono::milliseconds grace{10000};
  // Called about every 100 ms; a non-empty answer (the reason) ends the group.
  std::function<std::string()> should_stop;
  // Called for each line of output (stderr lines prefixed by the caller's choice: `is_stderr`).
  std::function<void(const std::string& line, bool is_stderr)> on_line;
};

struct ProcessResult {
  int exit_code = -1;   // the exit status, or 128 + signal when the child was killed
  std::string stopped;  // why the group was ended ("deadline", "cancelled"), or empty
  long long pgid = 0;   // the child's process group (= its pid), for tests and logs
};

// Runs the program to its end (or until stopped). Throws std::system_error when it cannot start.
ProcessResult RunInProcessGroup(const ProcessOptions& options);

}  // namespace matih::plugins::terraform
