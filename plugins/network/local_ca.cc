#include "network/local_ca.h"

#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <matih/step.hpp>
#include <memory>

namespace matih::plugins::network {
namespace {

template <typename T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { F(p); }
};
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION, X509_EXTENSION_free>>;

void FreeNames(GENERAL_NAMES* names) { GENERAL_NAMES_free(names); }
using NamesPtr = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES, FreeNames>>;

X509Ptr ReadCert(const std::string& file, const char* what) {
  BioPtr bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) throw PermanentError(std::string("cannot read ") + what + " " + file);
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) throw PermanentError(std::string(what) + " " + file + " is not a PEM certificate");
  return cert;
}

KeyPtr ReadKey(const std::string& file, const char* what) {
  BioPtr bio(BIO_new_file(file.c_str(), "r"));
  if (!bio) throw PermanentError(std::string("cannot read ") + what + " " + file);
  KeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) throw PermanentError(std::string(what) + " " + file + " is not a PEM private key");
  return key;
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, n > 0 ? static_cast<size_t>(n) : 0);
}

// Writes `text` to `path` atomically with `mode` (0600 for keys: the temporary file has it from
// its creation, so the key is never readable by others, not even for a moment).
void WriteFileAtomically(const std::string& path, const std::string& text, mode_t mode) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  const std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) throw PermanentError("cannot write " + tmp);
  ::fchmod(fd, mode);
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      throw PermanentError("cannot write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) throw PermanentError("cannot write " + tmp);
  if (::rename(tmp.c_str(), path.c_str()) != 0) throw PermanentError("cannot rename " + tmp + " to " + path);
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX v3{};
  X509V3_set_ctx(&v3, issuer, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &v3, nid, value.c_str()));
  if (!ext || !X509_add_ext(cert, ext.get(), -1))
    throw PermanentError("could not add the extension " + std::string(OBJ_nid2sn(nid)) + " to a certificate");
}

std::string TimeText(const ASN1_TIME* t) {
  struct tm tm {};
  if (!ASN1_TIME_to_tm(t, &tm)) return "";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<std::string> DnsNamesOf(X509* cert) {
  std::vector<std::string> out;
  NamesPtr names(static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  if (!names) return out;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type != GEN_DNS) continue;
    const auto* s = n->d.dNSName;
    out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

LocalCa::LocalCa(std::string ca_cert_file, std::string ca_key_file)
    : ca_cert_file_(std::move(ca_cert_file)), ca_key_file_(std::move(ca_key_file)) {}

void LocalCa::Issue(const LeafFiles& files, const std::vector<std::string>& dns_names, int days) const {
  if (dns_names.empty()) throw InvalidArgument("a certificate needs at least one DNS name");
  X509Ptr ca = ReadCert(ca_cert_file_, "CA certificate (setting network.ca_cert_file)");
  KeyPtr ca_key = ReadKey(ca_key_file_, "CA key (setting network.ca_key_file)");
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1)
    throw PermanentError("CA key " + ca_key_file_ + " does not belong to CA certificate " + ca_cert_file_);

  KeyPtr key(EVP_EC_gen("P-256"));
  if (!key) throw PermanentError("could not generate a P-256 key");
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), 2);
  BnPtr serial(BN_new());
  BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY);
  BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300);
  X509_time_adj_ex(X509_getm_notAfter(cert.get()), days, 0, nullptr);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(dns_names.front().c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(ca.get()));
  X509_set_pubkey(cert.get(), key.get());
  std::string san;
  for (const auto& n : dns_names) san += (san.empty() ? "DNS:" : ",DNS:") + n;
  AddExtension(cert.get(), ca.get(), NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(cert.get(), ca.get(), NID_key_usage, "critical,digitalSignature,keyEncipherment");
  AddExtension(cert.get(), ca.get(), NID_ext_key_usage, "serverAuth");
  AddExtension(cert.get(), ca.get(), NID_subject_alt_name, san);
  AddExtension(cert.get(), ca.get(), NID_subject_key_identifier, "hash");
  AddExtension(cert.get(), ca.get(), NID_authority_key_identifier, "keyid:always");
  if (X509_sign(cert.get(), ca_key.get(), EVP_sha256()) <= 0)
    throw PermanentError("could not sign a certificate");

  BioPtr key_bio(BIO_new(BIO_s_mem())), cert_bio(BIO_new(BIO_s_mem()));
  if (!PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) ||
      !PEM_write_bio_X509(cert_bio.get(), cert.get()))
    throw PermanentError("could not encode a certificate");
  std::string key_pem = BioText(key_bio.get());
  WriteFileAtomically(files.key_file, key_pem, 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  WriteFileAtomically(files.cert_file, BioText(cert_bio.get()), 0644);
}

LeafState LocalCa::Inspect(const LeafFiles& files, const std::vector<std::string>& dns_names,
                           int renew_days) const {
  LeafState state;
  std::error_code ec;
  if (!std::filesystem::exists(files.cert_file, ec) || !std::filesystem::exists(files.key_file, ec)) {
    state.problem = "certificate or key file missing";
    return state;
  }
  state.exists = true;
  X509Ptr ca = ReadCert(ca_cert_file_, "CA certificate (setting network.ca_cert_file)");
  X509Ptr cert;
  KeyPtr key;
  try {
    cert = ReadCert(files.cert_file, "certificate");
    key = ReadKey(files.key_file, "key");
  } catch (const PermanentError& e) {
    state.problem = e.what();
    return state;
  }
  BioPtr pem(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(pem.get(), cert.get());
  state.cert_pem = BioText(pem.get());
  BnPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr));
  if (char* hex = serial ? BN_bn2hex(serial.get()) : nullptr) {
    state.serial = hex;
    OPENSSL_free(hex);
  }
  state.not_after = TimeText(X509_get0_notAfter(cert.get()));
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert.get()))) state.days_left = days;

  struct stat st {};
  if (::stat(files.key_file.c_str(), &st) == 0 && (st.st_mode & 0077) != 0)
    state.problem = "key file " + files.key_file + " is readable by others";
  else if (X509_check_private_key(cert.get(), key.get()) != 1)
    state.problem = "the key does not belong to the certificate";
  else if (X509_check_issued(ca.get(), cert.get()) != X509_V_OK ||
           X509_verify(cert.get(), X509_get0_pubkey(ca.get())) != 1)
    state.problem = "the certificate was not issued by the CA " + ca_cert_file_;
  else if (std::vector<std::string> want = dns_names;
           std::sort(want.begin(), want.end()), DnsNamesOf(cert.get()) != want)
    state.problem = "the certificate does not name exactly the tenant's hosts";
  else if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0)
    state.problem = "the certificate is not valid yet";
  else if (state.days_left < renew_days)
    state.problem = "the certificate expires in " + std::to_string(state.days_left) + " days (" +
                    state.not_after + "), renewal is due under " + std::to_string(renew_days);
  return state;
}

}  // namespace matih::plugins::network
