// What the tests of plugins/data share: a StepHarness whose data.* settings point at the local
// stack (shared and dedicated tiers at the same servers, as the demo configures them), and small
// helpers to read the servers (JetStream, PostgreSQL) and the secret store directly.
#pragma once

#include <gtest/gtest.h>
#include <nats/nats.h>

#include <pqxx/pqxx>
#include <string>

#include "steps/step_harness.h"
#include "support/stack_env.h"

namespace matih::testing {

// A direct JetStream client of the tests (not the plugin's), on the stack's NATS server.
class JetStream {
 public:
  JetStream() {
    EXPECT_EQ(NATS_OK, natsConnection_ConnectTo(&nc_, StackEnv::Require("MATIH_NATS_URL").c_str()));
    EXPECT_EQ(NATS_OK, natsConnection_JetStream(&js_, nc_, nullptr));
  }
  ~JetStream() {
    natsSubscription_Destroy(advisories_);
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }
  // The stream's config as "subjects|max_bytes|max_age_s|storage|messages", or "absent".
  std::string Describe(const std::string& stream) {
    jsStreamInfo* si = nullptr;
    natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr);
    if (s == NATS_NOT_FOUND) return "absent";
    if (s != NATS_OK) return std::string("error ") + natsStatus_GetText(s);
    std::string out = std::string(si->Config->Subjects[0]) + "|" + std::to_string(si->Config->MaxBytes) +
                      "|" + std::to_string(si->Config->MaxAge / 1000000000) + "|" +
                      (si->Config->Storage == js_FileStorage ? "file" : "memory") + "|" +
                      std::to_string(si->State.Msgs);
    jsStreamInfo_Destroy(si);
    return out;
  }
  natsStatus Publish(const std::string& subject, const std::string& data) {
    jsPubAck* ack = nullptr;
    natsStatus s =
        js_Publish(&ack, js_, subject.c_str(), data.data(), static_cast<int>(data.size()), nullptr, nullptr);
    jsPubAck_Destroy(ack);
    return s;
  }
  std::string LastMessage(const std::string& stream, const std::string& subject) {
    natsMsg* msg = nullptr;
    if (js_GetLastMsg(&msg, js_, stream.c_str(), subject.c_str(), nullptr, nullptr) != NATS_OK)
      return "(none)";
    std::string out(natsMsg_GetData(msg), natsMsg_GetDataLength(msg));
    natsMsg_Destroy(msg);
    return out;
  }
  // Changes the stream's max_bytes by hand.
  natsStatus SetMaxBytes(const std::string& stream, int64_t max_bytes) {
    jsStreamInfo* si = nullptr;
    natsStatus s = js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr);
    if (s != NATS_OK) return s;
    si->Config->MaxBytes = max_bytes;
    jsStreamInfo* updated = nullptr;
    s = js_UpdateStream(&updated, js_, si->Config, nullptr, nullptr);
    jsStreamInfo_Destroy(updated);
    jsStreamInfo_Destroy(si);
    return s;
  }
  // Starts listening to the JetStream advisories of `stream` (created, updated, deleted).
  void WatchAdvisories(const std::string& stream) {
    natsSubscription_Destroy(advisories_);
    advisories_ = nullptr;
    const std::string subject = "$JS.EVENT.ADVISORY.STREAM.*." + stream;
    EXPECT_EQ(NATS_OK, natsConnection_SubscribeSync(&advisories_, nc_, subject.c_str()));
    EXPECT_EQ(NATS_OK, natsConnection_Flush(nc_));
  }
  // The advisories received since WatchAdvisories, waiting up to `wait_ms` for each.
  std::string Advisories(int wait_ms) {
    std::string out;
    natsMsg* msg = nullptr;
    while (natsSubscription_NextMsg(&msg, advisories_, wait_ms) == NATS_OK) {
      std::string subject = natsMsg_GetSubject(msg);
      out += (out.empty() ? "" : ",") + subject.substr(0, subject.rfind('.'));
      natsMsg_Destroy(msg);
    }
    return out;
  }
  // The stream's creation time (ns since the epoch), 0 when absent: a re-created stream gets a new one.
  int64_t Created(const std::string& stream) {
    jsStreamInfo* si = nullptr;
    if (js_GetStreamInfo(&si, js_, stream.c_str(), nullptr, nullptr) != NATS_OK) return 0;
    const int64_t created = si->Created;
    jsStreamInfo_Destroy(si);
    return created;
  }
  natsStatus Delete(const std::string& stream) {
    return js_DeleteStream(js_, stream.c_str(), nullptr, nullptr);
  }

 private:
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
  natsSubscription* advisories_ = nullptr;
};

class DataStepTest : public ::testing::Test {
 protected:
  DataStepTest();

  // A secret of matih-data for `tenant` ("" when absent).
  std::string Secret(const TestTenant& tenant, const std::string& name);
  // One value of one SQL query as the stack's superuser, in `database` ("" = postgres).
  std::string PgValue(const std::string& sql, const std::string& database = "");
  // Runs SQL as the superuser in `database` ("" = postgres).
  void PgExec(const std::string& sql, const std::string& database = "");
  // A libpq connection string for the stack's server as `user`/`password` in `database`.
  static std::string PgConninfo(const std::string& user, const std::string& password,
                                const std::string& database);

  // Expects `answer` to be an error of `status` whose message names the step and `target`.
  static void ExpectError(const runner::StepAnswer& answer, matih_status status, const std::string& step,
                          const std::string& target);

  // A URL on loopback where nothing listens.
  static std::string ClosedPortUrl(const std::string& scheme);

  StepHarness harness_;
};

}  // namespace matih::testing
