// The Boost.Beast CniAgent (see cni_agent.h): HTTP/1.1 over a unix socket.
#include <fmt/format.h>

#include <boost/asio/local/stream_protocol.hpp>

#include "cni/beast_http.h"
#include "cni/cni_agent.h"

namespace snare::cni {
namespace {

namespace asio = boost::asio;
using namespace web;
using unix_socket = asio::local::stream_protocol;

class BeastCniAgent : public CniAgent {
 public:
  AgentResponse post(const std::string& socket_path, const std::string& path,
                     const std::string& body, std::chrono::milliseconds timeout) override {
    // The host part is not used for routing (the socket is); istio's client sends "unix" too.
    const std::string url = "http://unix" + path;
    try {
      return exchange(socket_path, url, path, body, timeout);
    } catch (const std::exception& e) {
      // A socket path longer than a sockaddr_un holds, no memory.
      return {0, "", fmt::format("Post \"{}\" (socket {}): {}", url, socket_path, e.what())};
    }
  }

 private:
  static AgentResponse exchange(const std::string& socket_path, const std::string& url,
                                const std::string& path, const std::string& body,
                                std::chrono::milliseconds timeout) {
    asio::io_context io;
    Request req{http::verb::post, path, 11};
    req.set(http::field::host, "unix");
    req.set(http::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
    // Only the status counts; the body is the agent's error text, kept up to the cap.
    Parser parser;
    parser.body_limit(kMaxAgentBodyBytes);
    boost::beast::flat_buffer buf;
    Ending end;
    unix_socket::socket s(io);
    const unix_socket::endpoint at(socket_path);
    s.async_connect(at, [&](error_code ec) {
      if (ec) return void(end = Ending{ec, "connect"});
      send_and_read(s, req, buf, parser, [&end](Ending e) { end = e; });
    });
    const bool in_time = run_within(io, timeout, [&] {
      error_code ignored;
      s.close(ignored);
    });
    AgentResponse r;
    const bool capped = end.ec == http::error::body_limit && parser.is_header_done();
    if (!in_time)
      r.transport_error = fmt::format("Post \"{}\" (socket {}): {}: no answer within {} ms", url,
                                      socket_path, end.step, static_cast<long>(timeout.count()));
    else if (end.ec && !capped)
      r.transport_error = fmt::format("Post \"{}\" (socket {}): {}: {}", url, socket_path, end.step,
                                      end.ec.message());
    else
      r.status = parser.get().result_int();
    if (r.transport_error.empty()) r.body = parser.get().body().substr(0, kMaxAgentBodyBytes);
    return r;
  }
};

}  // namespace

std::unique_ptr<CniAgent> make_cni_agent() { return std::make_unique<BeastCniAgent>(); }

}  // namespace snare::cni
