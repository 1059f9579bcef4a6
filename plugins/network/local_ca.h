// LocalCa: the stack's certificate authority (a CA certificate and its key, PEM files created by
// scripts/stack) issuing and checking the tenants' leaf certificates with the OpenSSL library.
// Stands in locally for cert-manager's DNS-01 issuer; production certificates come from the
// cluster's issuer (the Certificate object of step 42).
//
// Issue writes a fresh P-256 key (mode 0600, written to a temporary file and renamed; its content
// is never logged or returned) and a certificate for the given DNS names. Inspect reads a leaf
// pair back and says what is wrong with it, if anything. Errors: PermanentError naming the file
// (never its content). Stateless; safe from any thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace matih::plugins::network {

struct LeafFiles {
  std::string cert_file, key_file;
};

struct LeafState {
  bool exists = false;    // both files are there
  std::string problem;    // "" when the pair is valid, from this CA, for exactly these names
  long days_left = 0;     // until notAfter, rounded down
  std::string not_after;  // "2027-03-01T15:04:05Z"
  std::string serial;     // hex
  std::string cert_pem;   // the certificate (public)
};

class LocalCa {
 public:
  LocalCa(std::string ca_cert_file, std::string ca_key_file);

  // Issues a certificate for `dns_names` (the first is the subject's CN) valid `days` days.
  void Issue(const LeafFiles& files, const std::vector<std::string>& dns_names, int days) const;
  // The state of an issued pair, checked against this CA, `dns_names` and `renew_days`.
  LeafState Inspect(const LeafFiles& files, const std::vector<std::string>& dns_names, int renew_days) const;

  const std::string& ca_cert_file() const { return ca_cert_file_; }

 private:
  std::string ca_cert_file_, ca_key_file_;
};

}  // namespace matih::plugins::network
