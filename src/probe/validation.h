// Validation: proof that the live rules capture traffic (istio's `--run-validation`).
//
// As istio does: listen on 127.0.0.1 (or ::1) at the outbound and inbound capture ports, connect
// as the proxy uid/gid to 127.0.0.6:<probe_port> (::6), and pass when a listener sees that
// original destination. Nothing listens on 127.0.0.6:<probe_port>, so only working nat OUTPUT
// rules can make the probe arrive. Better than istio: the probe runs in a child process that
// reports what each attempt saw, so a failure names its stage (refused, timed out, reached the
// wrong listener, wrong original destination), and the live rules are printed with their packet
// counters when the caller can read them.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

namespace snare {

struct ValidationOptions {
  uint16_t probe_port = 15002;              // --iptables-probe-port
  std::chrono::milliseconds timeout{5000};  // --probe-timeout
  uint16_t proxy_port = 15001;              // -p
  uint16_t inbound_port = 15006;            // -z
  uid_t uid = 1337;                         // the probe runs as this identity
  gid_t gid = 1337;
  bool ipv6 = false;  // probe [::6] from [::1] instead of 127.0.0.6 from 127.0.0.1
  // On failure, prints the live rules with their counters (null: nothing to print).
  std::function<void()> print_rules;
};

// Returns 0 when validation passes, 126 when it fails (istio's exit code, which the istio-cni
// repair controller watches for).
int run_validation(const ValidationOptions& options);

namespace validation {

// What the probe saw, for naming the failed stage (exposed for unit tests).
struct Observations {
  int attempts = 0;
  int refused = 0;    // ECONNREFUSED
  int timed_out = 0;  // no answer to the SYN within the attempt
  int other_errors = 0;
  int last_errno = 0;
  int connected_elsewhere = 0;  // the connect succeeded but none of our listeners accepted it
  int wrong_dst = 0;            // a listener accepted a connection with another destination
  std::string wrong_dst_seen;   // the last such destination
  std::string wrong_dst_source;
};

// One sentence naming the stage that failed.
std::string failure_stage(const Observations& seen, const std::string& probe,
                          const std::string& listeners);

}  // namespace validation
}  // namespace snare
