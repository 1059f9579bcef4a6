#include "notify/sent_mail_lookup.h"

#include <matih/step.hpp>
#include <nlohmann/json.hpp>

#include "common/http_client.h"

namespace matih::plugins::notify {
namespace {

std::string Bare(std::string id) {
  if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
  return id;
}

}  // namespace

bool MailboxHasMessage(const std::string& api_url, const std::string& message_id) {
  const auto response = HttpClient({}, std::chrono::seconds(10)).Send({"GET", api_url + "/email", {}, {}});
  if (IsTransientHttpStatus(response.status))
    throw TransientError("mailbox API " + api_url + " answered " + std::to_string(response.status));
  if (response.status != 200)
    throw PermanentError("mailbox API " + api_url + "/email answered " + std::to_string(response.status));
  const auto list = nlohmann::json::parse(response.body, nullptr, false);
  if (!list.is_array()) throw PermanentError("mailbox API " + api_url + "/email did not answer a JSON list");
  const std::string want = Bare(message_id);
  for (const auto& mail : list)
    if (mail.is_object() && mail.contains("messageId") && mail["messageId"].is_string() &&
        Bare(mail["messageId"].get<std::string>()) == want)
      return true;
  return false;
}

}  // namespace matih::plugins::notify
