// Metrics reach a Pushgateway, a textfile and /metrics, and carry no tenant label.
#include "telemetry/metrics.h"

#include <curl/curl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "runner/runner_fixture.h"
#include "support/stack_env.h"

namespace matih::testing {
namespace {

size_t Append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string HttpGet(const std::string& url) {
  std::string body;
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
  CURLcode rc = curl_easy_perform(curl);
  curl_easy_cleanup(curl);
  EXPECT_EQ(rc, CURLE_OK) << url;
  return body;
}

class MetricsTest : public RunnerFixture {};

TEST_F(MetricsTest, ARunCountsStepsTenantsAndRetriesWithoutTenantLabels) {
  UseCatalog({{"gamma", "{fail: transient, fail_times: 1}"}});
  Add("acme");
  Add("other");
  RunOk();
  std::string text = metrics_.Text();
  EXPECT_NE(text.find("matih_provisioner_step_runs_total{outcome=\"applied\",phase=\"1\",step=\"gamma\"} 2"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("matih_provisioner_step_retries_total{step=\"gamma\"} 2"), std::string::npos);
  EXPECT_NE(text.find("matih_provisioner_tenants_processed_total{outcome=\"active\"} 2"), std::string::npos);
  EXPECT_NE(text.find("matih_provisioner_step_duration_seconds_bucket"), std::string::npos);
  EXPECT_EQ(text.find("acme"), std::string::npos) << "a tenant reached a label";
}

TEST_F(MetricsTest, PushReachesThePushgateway) {
  std::string gateway = StackEnv::Require("MATIH_PUSHGATEWAY_URL");
  std::random_device rd;
  std::string job = "matih_test_" + std::to_string(rd());
  metrics_.RunFinished(1.5, true);
  Status s = metrics_.Push(gateway, job, "test-instance");
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::string scraped = HttpGet(gateway + "/metrics");
  EXPECT_NE(scraped.find("matih_provisioner_run_duration_seconds{instance=\"test-instance\",job=\"" + job +
                         "\"} 1.5"),
            std::string::npos);
}

TEST_F(MetricsTest, PushToANonGatewayIsAnErrorNotACrash) {
  Status s = metrics_.Push("http://127.0.0.1:1", "job", "i");
  EXPECT_FALSE(s.ok());
  EXPECT_FALSE(metrics_.Push("not a url", "job", "i").ok());
}

TEST_F(MetricsTest, TextfileIsWrittenAtomicallyForNodeExporter) {
  auto path =
      std::filesystem::temp_directory_path() / ("matih-metrics-" + std::to_string(::getpid()) + ".prom");
  metrics_.RunFinished(2.0, false);
  ASSERT_TRUE(metrics_.WriteTextfile(path.string()).ok());
  std::ifstream in(path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_NE(text.find("matih_provisioner_last_run_timestamp_seconds"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove(path);
}

TEST_F(MetricsTest, ServesMetricsDuringTheRun) {
  ASSERT_TRUE(metrics_.Serve("127.0.0.1:0").ok());
  ASSERT_GT(metrics_.served_port(), 0);
  metrics_.Rollback();
  std::string body = HttpGet("http://127.0.0.1:" + std::to_string(metrics_.served_port()) + "/metrics");
  EXPECT_NE(body.find("matih_provisioner_rollbacks_total 1"), std::string::npos) << body;
}

}  // namespace
}  // namespace matih::testing
