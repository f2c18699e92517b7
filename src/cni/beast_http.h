// What the plugin's two HTTP clients share (beast_kube_api.cpp, beast_cni_agent.cpp): Boost.Beast's
// HTTP/1.1 on an asio stream, every step asynchronous on one io_context, so that one deadline
// bounds connecting, the TLS handshake, sending and reading together.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <string>

namespace snare::cni::web {

namespace http = boost::beast::http;
using boost::beast::error_code;
using Request = http::request<http::string_body>;
using Parser = http::response_parser<http::string_body>;

// How an exchange ended: no error when the answer was read whole; else the error and the step it
// happened in ("connect", "TLS handshake", "send the request", "read the answer").
struct Ending {
  error_code ec;
  const char* step = "";
};

// Runs `io` until its operations are done or `timeout` has passed; then `stop()` (which closes
// the sockets, so every pending operation ends with an error) and what is left is drained.
// False when the time ran out.
template <class Stop>
bool run_within(boost::asio::io_context& io, std::chrono::milliseconds timeout, Stop stop) {
  io.run_for(timeout);
  if (io.stopped()) return true;
  stop();
  io.restart();
  io.run();
  return false;
}

// Sends `req` on the connected `stream` and reads the answer into `parser`; then `done(Ending)`.
template <class Stream, class Done>
void send_and_read(Stream& stream, Request& req, boost::beast::flat_buffer& buf, Parser& parser,
                   Done done) {
  http::async_write(stream, req, [&stream, &buf, &parser, done](error_code ec, size_t) {
    if (ec) return done(Ending{ec, "send the request"});
    http::async_read(stream, buf, parser, [done](error_code ec2, size_t) {
      done(ec2 ? Ending{ec2, "read the answer"} : Ending{});
    });
  });
}

}  // namespace snare::cni::web
