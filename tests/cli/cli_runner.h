// CliRunner: runs the real matih-provisioner binary as a child process, for the CLI tests.
//
// The child gets exactly the environment the test gives it (plus PATH), never the test
// process's own MATIH_* variables, so every test states the settings it depends on. Standard
// output and standard error are captured separately. A child that runs longer than the timeout
// is killed and reported as such, so a hung command fails its test instead of the whole suite.
// Safe to use from one test thread at a time.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace matih::testing {

struct CliResult {
  int exit_code = -1;      // the child's exit status; -1 when it did not exit normally
  bool timed_out = false;  // killed after the timeout
  std::string out;         // everything written to stdout
  std::string err;         // everything written to stderr
  std::string command;     // the command line, for failure messages
};

using CliEnv = std::map<std::string, std::string>;

class CliRunner {
 public:
  explicit CliRunner(std::string binary) : binary_(std::move(binary)) {}

  // Runs `binary args...` in `cwd` (empty: the current directory) with `env` as its whole
  // environment (PATH is added when missing).
  CliResult Run(const std::vector<std::string>& args, const CliEnv& env = {}, const std::string& cwd = "",
                std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;

 private:
  std::string binary_;
};

// For gtest messages: the command, exit code and both streams.
std::string Describe(const CliResult& r);

}  // namespace matih::testing
