// The plugin's kubeconfig (see kubeconfig.h).
#include "cni/kubeconfig.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <optional>
#include <sstream>

namespace snare::cni {
namespace {

// The entry of `list` (clusters, users, contexts) named `name`: its inner map; nullopt when no
// entry has that name (a default YAML::Node is a defined null, so it cannot say "absent").
std::optional<YAML::Node> named(const YAML::Node& list, const std::string& key,
                                const std::string& name) {
  if (list && list.IsSequence())
    for (const YAML::Node& item : list)
      if (item.IsMap() && item["name"] && item["name"].as<std::string>() == name) return item[key];
  return std::nullopt;
}

std::string text_of(const YAML::Node& n, const char* key) {
  return n && n[key] ? n[key].as<std::string>() : std::string();
}

// A *-data field: base64 of PEM.
Status decode_data(const YAML::Node& n, const char* key, std::string& out) {
  const std::string b64 = text_of(n, key);
  if (b64.empty()) return Status::Ok();
  // yaml-cpp 0.7's decoder indexes its table with the (signed) byte: a byte above 0x7f reads far
  // outside it and crashes. Only base64's alphabet and spaces go in.
  if (b64.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= "
                            "\t\r\n") != std::string::npos)
    return Status::Fail(fmt::format("{} is not base64", key));
  std::vector<unsigned char> raw = YAML::DecodeBase64(b64);
  if (raw.empty()) return Status::Fail(fmt::format("{} is not base64", key));
  out.assign(raw.begin(), raw.end());
  return Status::Ok();
}

Status read_file(const std::string& path, std::string& out) {
  std::ifstream f(path);
  if (!f) return Status::Fail(fmt::format("cannot read {}: {}", path, errno_text(errno)));
  std::stringstream s;
  s << f.rdbuf();
  out = s.str();
  return Status::Ok();
}

Status read_user(const YAML::Node& user, KubeConfig& out) {
  if (user && (user["exec"] || user["auth-provider"]))
    return Status::Fail(
        "the user authenticates with an exec plugin or auth provider, which snare "
        "does not run; use a token (istio-cni writes one)");
  out.token = text_of(user, "token");
  if (out.token.empty() && !text_of(user, "tokenFile").empty()) {
    if (Status s = read_file(text_of(user, "tokenFile"), out.token); !s.ok()) return s;
    while (!out.token.empty() && (out.token.back() == '\n' || out.token.back() == '\r'))
      out.token.pop_back();
  }
  if (Status s = decode_data(user, "client-certificate-data", out.client_cert_pem); !s.ok())
    return s;
  return decode_data(user, "client-key-data", out.client_key_pem);
}

}  // namespace

Status parse_kubeconfig(const std::string& text, const std::string& path, KubeConfig& out) {
  auto fail = [&](const std::string& why) {
    return Status::Fail(fmt::format("kubeconfig {}: {}", path, why));
  };
  try {
    YAML::Node root = YAML::Load(text);
    const std::string ctx_name = text_of(root, "current-context");
    if (ctx_name.empty()) return fail("no current-context");
    const auto ctx_entry = named(root["contexts"], "context", ctx_name);
    if (!ctx_entry)
      return fail(fmt::format(
          "current-context \"{}\" is not among the kubeconfig's contexts (check its `contexts:` "
          "list, or let istio-cni's agent rewrite the file)",
          ctx_name));
    const YAML::Node ctx = *ctx_entry;
    const auto cluster_entry = named(root["clusters"], "cluster", text_of(ctx, "cluster"));
    if (!cluster_entry)
      return fail(
          fmt::format("context \"{}\" names cluster \"{}\", which is not among the "
                      "kubeconfig's clusters",
                      ctx_name, text_of(ctx, "cluster")));
    const YAML::Node cluster = *cluster_entry;
    out.server = text_of(cluster, "server");
    if (out.server.empty()) return fail("the cluster has no server");
    out.ca_file = text_of(cluster, "certificate-authority");
    out.insecure_skip_tls_verify =
        cluster["insecure-skip-tls-verify"] && cluster["insecure-skip-tls-verify"].as<bool>();
    if (Status s = decode_data(cluster, "certificate-authority-data", out.ca_pem); !s.ok())
      return fail(s.error);
    const auto user = named(root["users"], "user", text_of(ctx, "user"));
    if (Status s = read_user(user ? *user : YAML::Node(), out); !s.ok()) return fail(s.error);
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("not a kubeconfig ({})", e.what()));
  }
  return Status::Ok();
}

Status load_kubeconfig(const std::string& path, KubeConfig& out) {
  std::string text;
  if (Status s = read_file(path, text); !s.ok()) return s;
  return parse_kubeconfig(text, path, out);
}

}  // namespace snare::cni
