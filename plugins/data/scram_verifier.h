// SCRAM-SHA-256 password verifiers as PostgreSQL stores them (RFC 5802, RFC 7677):
// "SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", base64.
//
// The plugin sets a role's password by sending the verifier, never the plaintext, so the
// password cannot reach the server's statement log or an error message; and it checks a role's
// stored verifier against the password in the secret store without logging in (the stack's
// PostgreSQL trusts loopback, so a login would prove nothing). Passwords are plain ASCII (the
// plugin generates them), for which SASLprep changes nothing. Safe to call from any thread.
#pragma once

#include <string>
#include <string_view>

namespace matih::plugins::data {

// A verifier of `password` with a fresh random 16-byte salt and 4096 iterations.
std::string ScramSha256Verifier(std::string_view password);
// True when `verifier` (a stored rolpassword) was made from `password`; false for any other
// text, including an MD5 hash or a malformed verifier. Compares in constant time.
bool ScramVerifierMatches(std::string_view verifier, std::string_view password);

}  // namespace matih::plugins::data
