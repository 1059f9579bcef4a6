// SecretScanner: searches a set of texts ("places": log lines, audit rows, command outputs, git
// objects, server logs) for a set of secret values, as the secrets scan of issue 16 does.
//
// Each secret is searched for as it is, base64-encoded (standard and URL alphabets, what a
// Kubernetes Secret or a Basic header would hold) and percent-encoded (what a URL would hold).
// Values shorter than kMinLength are not searched (they would match by chance) and are counted
// as skipped. Not thread-safe; one scanner per test.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace matih::testing {

class SecretScanner {
 public:
  static constexpr size_t kMinLength = 8;

  struct Hit {
    std::string secret;    // the secret's name (never its value)
    std::string place;     // the place's label
    std::string encoding;  // "raw", "base64", "base64url", "percent"
  };

  // `name` identifies the secret in reports (e.g. "tenant acme: matih-data/redis/password").
  void AddSecret(const std::string& name, const std::string& value);
  void AddPlace(const std::string& label, std::string text);

  std::vector<Hit> Scan() const;

  size_t secrets() const { return secrets_.size(); }
  size_t skipped() const { return skipped_; }
  size_t places() const { return places_.size(); }
  size_t bytes() const;

  static std::string Base64(const std::string& in, bool url_alphabet);
  static std::string PercentEncode(const std::string& in);

 private:
  std::map<std::string, std::string> secrets_;  // value -> name (one name per distinct value)
  std::vector<std::pair<std::string, std::string>> places_;
  size_t skipped_ = 0;
};

}  // namespace matih::testing
