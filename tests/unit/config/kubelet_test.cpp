// istio-cni's kubelet UID lookup and ambient-host's fill-in, over FakeHostFacts.
#include <catch2/catch.hpp>

#include "config/fill_config.h"
#include "fakes/fake_host_facts.h"

TEST_CASE("kubelet's UID is found as istio-cni finds it") {
  snare::testing::FakeHostFacts sys;
  using namespace std::string_literals;
  auto proc = [&](const std::string& pid, const std::string& comm, const std::string& cmdline,
                  const std::string& uid) {
    sys.dirs["/proc"].push_back(pid);
    sys.files["/proc/" + pid + "/comm"] = comm + "\n";
    sys.files["/proc/" + pid + "/cmdline"] = cmdline;
    sys.files["/proc/" + pid + "/status"] =
        "Name:\t" + comm + "\nUid:\t" + uid + "\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
  };
  sys.dirs["/proc"] = {"self", "sys"};
  CHECK(!snare::find_kubelet_uid(sys).has_value());
  proc("7", "systemd", "/sbin/init\0"s, "0");
  proc("12", "kubelet-x", "/usr/bin/kubelet\0"s, "5");      // comm must be exact
  proc("20", "kubelet", "/opt/bin/agent\0--flag\0"s, "6");  // no argument names kubelet
  proc("31", "kubelite", "/snap/kubelite\0--KUBELET-args=x\0"s, "1000");
  proc("40", "kubelet", "/usr/bin/kubelet\0"s, "7");
  CHECK(snare::find_kubelet_uid(sys) == std::optional<uint32_t>(1000));

  snare::Config cfg;
  cfg.command = snare::Command::ambient_host;
  cfg.native_nftables = true;
  REQUIRE(snare::fill_ambient_config(cfg, sys).ok());
  CHECK(cfg.ambient.kubelet_uid == std::optional<uint32_t>(1000));
  cfg.ambient.kubelet_uid = 42;  // given: kept
  REQUIRE(snare::fill_ambient_config(cfg, sys).ok());
  CHECK(cfg.ambient.kubelet_uid == std::optional<uint32_t>(42));
  snare::testing::FakeHostFacts none;
  cfg.ambient.kubelet_uid.reset();
  snare::Status s = snare::fill_ambient_config(cfg, none);
  CHECK(!s.ok());
  CHECK_THAT(s.error, Catch::Contains("--kubelet-uid"));
}
