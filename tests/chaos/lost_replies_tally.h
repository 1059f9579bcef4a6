// LostRepliesTally: the figures of the lost-replies scenario, shared by the test processes.
//
// ctest runs each test in its own process, so every case writes its own record
// (var/chaos/lost_replies.d/<case>.json) and then rewrites the sum, var/chaos/lost_replies.json:
//   {"scenario":"lost-replies","runs":N,"converged":N,"duplicates":N,"lost":N,"crashes":N}
// A case first records itself as a crash and overwrites that with its outcome when it ends, so a
// process that dies in the middle still shows up. Writers serialize on a lock file (flock), so
// processes running at once never lose each other's records. Safe from any thread.
#pragma once

#include <string>

namespace matih::testing {

struct LostReplyOutcome {
  int runs = 1;
  int converged = 0;
  int duplicates = 0;  // more than one object on the target afterwards
  int lost = 0;        // no object on the target afterwards
  int crashes = 0;     // the case never finished, or the plugin answered INTERNAL
  std::string detail;  // one line: what happened, for the record
};

class LostRepliesTally {
 public:
  // `dir` holds lost_replies.json and lost_replies.d/ (created when missing).
  explicit LostRepliesTally(std::string dir);
  // Writes the record of `name` (a file name: letters, digits, '-', '_', '.') and the new sum.
  void Record(const std::string& name, const LostReplyOutcome& outcome) const;
  // The sum as JSON (what lost_replies.json holds).
  std::string Summary() const;

 private:
  std::string dir_;
};

}  // namespace matih::testing
