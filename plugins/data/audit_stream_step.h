// data.audit_stream (step 45, enable-audit-logging): the tenant's audit stream and its audit
// settings in the control plane.
//   - JetStream stream "audit-<slug>" on subjects "audit.<slug>.>" on the tier's NATS server
//     (setting data.<shared|dedicated>.nats_url), limits retention per tier (stream_config.h);
//   - a row in control_plane.audit_settings (setting controlplane.database_url): tenant_id,
//     stream, subjects, max_age_seconds, max_bytes, updated_at; the table is created on first
//     apply (IF NOT EXISTS, under the control-plane DDL advisory lock, owned by
//     matih_control_plane) and the row goes with the tenant's record (ON DELETE CASCADE).
//
// Params (catalog):
//   retention  required  {<tier>: {max_bytes: n, max_age_seconds: n}} for every tier
//   storage    optional  file (default) | memory
// observe: ABSENT without the stream; DRIFTED when the stream's config or the settings row differ
// (a short diff). apply converges both (the same config again writes nothing), then publishes one
// event on audit.<slug>.provisioner.verify and reads it back from the stream: a stream that does
// not keep events fails the step. apply needs the tenant's control-plane record (step 3).
// remove deletes the stream, its events and the row; fine when absent.
// Outputs: stream, subjects, set by apply and by an observe that finds stream and row in sync. The
// kind is adoptable: the stream is named by the slug and the row keyed by the tenant's id, and
// apply again makes nothing twice (it writes one more verification event, never a second stream
// or row). Safe to call from any thread.
#pragma once

#include <matih/step.hpp>

namespace matih::plugins::data {

class AuditStreamStep final : public Step {
 public:
  Observation observe(Context& ctx) override;
  void apply(Context& ctx) override;
  void remove(Context& ctx) override;
  void validate_params(std::string_view params_json) override;
};

}  // namespace matih::plugins::data
