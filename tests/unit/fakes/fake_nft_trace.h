// FakeNftTrace: canned nftables trace events behind the NftTraceOps seam, for tests of
// `snare trace --live`'s run and correlation.
//
// next() hands out `events` in order, then answers "nothing within the timeout" at once (or fails
// with `next_error`, which stands for a signal or a netlink error, once `fail_after` events were
// handed out). send() records the probe and returns `send_result`; subscribe() returns
// `subscribe_result`. catch_signals/release_signals count their calls; release_signals returns
// `signal`.
#pragma once

#include <cstddef>
#include <vector>

#include "kernel/nft_trace.h"

namespace snare::testing {

class FakeNftTrace : public NftTraceOps {
 public:
  std::vector<NftTraceEvent> events;
  std::vector<LiveProbe> sent;
  Status subscribe_result = Status::Ok();
  Status send_result = Status::Ok();
  std::string next_error;  // non-empty: next() fails with it after `fail_after` events
  size_t fail_after = 0;
  int signal = 0;
  int caught = 0, released = 0;
  bool subscribed = false;

  Status subscribe() override {
    subscribed = subscribe_result.ok();
    return subscribe_result;
  }
  Status send(const LiveProbe& probe) override {
    sent.push_back(probe);
    return send_result;
  }
  Status next(NftTraceEvent& event, int /*timeout_ms*/, bool& got) override {
    got = false;
    if (!next_error.empty() && next_ == fail_after) return Status::Fail(next_error);
    if (next_ >= events.size()) return Status::Ok();
    event = events[next_++];
    got = true;
    return Status::Ok();
  }
  void catch_signals() override { ++caught; }
  int release_signals() override {
    ++released;
    return signal;
  }

 private:
  size_t next_ = 0;
};

}  // namespace snare::testing
