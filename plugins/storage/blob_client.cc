#include "storage/blob_client.h"

#include <ctime>
#include <matih/step.hpp>

#include "storage/blob_xml.h"

namespace matih::plugins::storage {
namespace {

std::string HttpDate() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string Header(const HttpResponse& r, const std::string& name) {
  auto it = r.headers.find(name);
  return it == r.headers.end() ? std::string() : it->second;
}

std::map<std::string, std::string> MetadataFromHeaders(const HttpResponse& r) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : r.headers)
    if (name.rfind("x-ms-meta-", 0) == 0) out[name.substr(10)] = value;
  return out;
}

}  // namespace

BlobClient::BlobClient(std::string endpoint_template, AccountKey key, std::chrono::milliseconds timeout,
                       std::string what_for)
    : key_(std::move(key)), what_for_(std::move(what_for)), http_(TlsOptions{}, timeout) {
  account_url_ = std::move(endpoint_template);
  for (auto at = account_url_.find("{account}"); at != std::string::npos; at = account_url_.find("{account}"))
    account_url_.replace(at, 9, key_.account);
  while (!account_url_.empty() && account_url_.back() == '/') account_url_.pop_back();
  auto scheme = account_url_.find("://");
  if (scheme == std::string::npos)
    throw InvalidArgument("setting targets.storage.blob_endpoint must be an http(s) URL, not '" +
                          account_url_ + "'");
  auto slash = account_url_.find('/', scheme + 3);
  base_path_ = slash == std::string::npos ? "" : account_url_.substr(slash);
}

HttpResponse BlobClient::Send(const std::string& method, const std::string& container,
                              const std::map<std::string, std::string>& query,
                              std::vector<std::string> headers, const std::string& body) const {
  const std::string path = base_path_ + "/" + container;
  std::string url = account_url_.substr(0, account_url_.size() - base_path_.size()) + path;
  char sep = '?';
  for (const auto& [k, v] : query) {
    url += sep + k + "=" + HttpClient::Escape(v);
    sep = '&';
  }
  headers.push_back("x-ms-date: " + HttpDate());
  headers.push_back(std::string("x-ms-version: ") + kApiVersion);
  if (method == "PUT" || method == "POST") {
    headers.push_back(body.empty() ? "Content-Type: application/octet-stream"
                                   : "Content-Type: application/xml");
    headers.push_back("Content-Length: " + std::to_string(body.size()));
  }
  const std::string to_sign = CanonicalRequestString(method, headers, key_.account, path, query);
  headers.push_back("Authorization: SharedKey " + key_.account + ":" + SignWithKey(key_.key_base64, to_sign));
  HttpRequest request;
  request.method = method;
  request.url = url;
  request.headers = std::move(headers);
  request.body = body;
  try {
    return http_.Send(request);
  } catch (const TransientError& e) {
    throw TransientError("storage account " + key_.account + " (" + what_for_ +
                         ") is unreachable: " + e.what());
  }
}

void BlobClient::Fail(const std::string& action, const HttpResponse& r) const {
  std::string code = Header(r, "x-ms-error-code");
  if (code.empty() && !r.body.empty()) {
    try {
      code = ParseXml(r.body, "an error answer").ChildText("Code");
    } catch (const std::exception&) {
    }
  }
  const std::string message = "storage account " + key_.account + " (" + what_for_ + "): " + action +
                              " answered HTTP " + std::to_string(r.status) + (code.empty() ? "" : " " + code);
  if (IsTransientHttpStatus(r.status)) throw TransientError(message);
  if (r.status == 412) throw Error(MATIH_STATUS_ABORTED, message + " (changed concurrently; will retry)");
  if (r.status == 403 || r.status == 401)
    throw PermanentError(message + " (is the account key right?)", MATIH_STATUS_PERMISSION_DENIED);
  throw PermanentError(message);
}

void BlobClient::CheckAccess() const {
  auto r = Send("GET", "", {{"comp", "list"}, {"maxresults", "1"}}, {});
  if (r.status != 200) Fail("list containers", r);
}

std::vector<ContainerInfo> BlobClient::ListContainers(const std::string& prefix) const {
  std::vector<ContainerInfo> out;
  std::string marker;
  for (int page = 0; page < 1000; ++page) {
    std::map<std::string, std::string> query = {
        {"comp", "list"}, {"include", "metadata"}, {"prefix", prefix}};
    if (!marker.empty()) query["marker"] = marker;
    auto r = Send("GET", "", query, {});
    if (r.status != 200) Fail("list containers", r);
    XmlElement doc = ParseXml(r.body, "the container list of account " + key_.account);
    if (const XmlElement* containers = doc.Child("Containers")) {
      for (const XmlElement* c : containers->Children("Container")) {
        ContainerInfo info;
        info.name = c->ChildText("Name");
        if (const XmlElement* props = c->Child("Properties")) {
          info.etag = props->ChildText("Etag");
          info.last_modified = props->ChildText("Last-Modified");
          info.public_access = props->ChildText("PublicAccess");
        }
        if (const XmlElement* meta = c->Child("Metadata"))
          for (const auto& m : meta->children) {
            std::string name = m.name;
            for (auto& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
            info.metadata[name] = m.text;
          }
        out.push_back(std::move(info));
      }
    }
    marker = doc.ChildText("NextMarker");
    if (marker.empty()) return out;
  }
  throw PermanentError("storage account " + key_.account + ": the container list does not end");
}

std::optional<ContainerInfo> BlobClient::GetContainer(const std::string& name) const {
  auto r = Send("GET", name, {{"restype", "container"}}, {});
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) Fail("get container " + name, r);
  ContainerInfo info;
  info.name = name;
  info.metadata = MetadataFromHeaders(r);
  info.etag = Header(r, "etag");
  info.last_modified = Header(r, "last-modified");
  info.public_access = Header(r, "x-ms-blob-public-access");
  return info;
}

namespace {
std::vector<std::string> MetadataHeaders(const std::map<std::string, std::string>& metadata) {
  std::vector<std::string> headers;
  for (const auto& [k, v] : metadata) headers.push_back("x-ms-meta-" + k + ": " + v);
  return headers;
}
}  // namespace

bool BlobClient::CreateContainer(const std::string& name,
                                 const std::map<std::string, std::string>& metadata) const {
  auto r = Send("PUT", name, {{"restype", "container"}}, MetadataHeaders(metadata));
  if (r.status == 201) return true;
  if (r.status == 409) return false;
  Fail("create container " + name, r);
}

void BlobClient::SetMetadata(const std::string& name,
                             const std::map<std::string, std::string>& metadata) const {
  auto r = Send("PUT", name, {{"restype", "container"}, {"comp", "metadata"}}, MetadataHeaders(metadata));
  if (r.status != 200) Fail("set metadata of container " + name, r);
}

bool BlobClient::DeleteContainer(const std::string& name) const {
  auto r = Send("DELETE", name, {{"restype", "container"}}, {});
  if (r.status == 202) return true;
  if (r.status == 404) return false;
  Fail("delete container " + name, r);
}

std::optional<ContainerAcl> BlobClient::GetAcl(const std::string& name) const {
  auto r = Send("GET", name, {{"restype", "container"}, {"comp", "acl"}}, {});
  if (r.status == 404) return std::nullopt;
  if (r.status != 200) Fail("get the access policies of container " + name, r);
  ContainerAcl acl;
  acl.public_access = Header(r, "x-ms-blob-public-access");
  acl.last_modified = Header(r, "last-modified");
  if (r.body.find('<') == std::string::npos) return acl;  // no policies: an empty body
  XmlElement doc = ParseXml(r.body, "the access policies of container " + name);
  for (const XmlElement* si : doc.Children("SignedIdentifier")) {
    AccessPolicy p;
    p.id = si->ChildText("Id");
    if (const XmlElement* ap = si->Child("AccessPolicy")) {
      p.start = ap->ChildText("Start");
      p.expiry = ap->ChildText("Expiry");
      p.permission = ap->ChildText("Permission");
    }
    acl.policies.push_back(std::move(p));
  }
  return acl;
}

void BlobClient::SetAcl(const std::string& name, const std::vector<AccessPolicy>& policies,
                        const std::string& if_unmodified_since) const {
  std::string body = "<?xml version=\"1.0\" encoding=\"utf-8\"?><SignedIdentifiers>";
  for (const auto& p : policies) {
    body += "<SignedIdentifier><Id>" + XmlEscape(p.id) + "</Id><AccessPolicy>";
    if (!p.start.empty()) body += "<Start>" + XmlEscape(p.start) + "</Start>";
    if (!p.expiry.empty()) body += "<Expiry>" + XmlEscape(p.expiry) + "</Expiry>";
    if (!p.permission.empty()) body += "<Permission>" + XmlEscape(p.permission) + "</Permission>";
    body += "</AccessPolicy></SignedIdentifier>";
  }
  body += "</SignedIdentifiers>";
  std::vector<std::string> headers;
  if (!if_unmodified_since.empty()) headers.push_back("If-Unmodified-Since: " + if_unmodified_since);
  auto r = Send("PUT", name, {{"restype", "container"}, {"comp", "acl"}}, headers, body);
  if (r.status != 200) Fail("set the access policies of container " + name, r);
}

long BlobClient::ListBlobsWithSas(const std::string& container, const std::string& sas_token) const {
  HttpRequest request;
  request.url = account_url_ + "/" + container + "?restype=container&comp=list&maxresults=1&" + sas_token;
  request.headers = {std::string("x-ms-version: ") + kApiVersion, "x-ms-date: " + HttpDate()};
  try {
    return http_.Send(request).status;
  } catch (const TransientError&) {
    // The URL carries the SAS: never repeat it in a message.
    throw TransientError("storage account " + key_.account + " (" + what_for_ + ") is unreachable");
  }
}

std::optional<long long> ParseIsoTime(const std::string& text) {
  std::tm tm{};
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::nullopt;
  return static_cast<long long>(timegm(&tm));
}

std::string IsoTime(long long unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace matih::plugins::storage
