// The daemon side of the control socket: a Unix stream socket (mode 0600)
// answering each Request with one Response, or with a stream of parts for a
// reply too long to build in one go (a full routing table). A broken or
// hostile client can only lose its own connection; nothing it sends reaches
// the handler unless it parsed as a Request.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <variant>

#include "common/result.hpp"
#include "control.pb.h"
#include "control/slice_pacer.hpp"

namespace fpm_sink::control {

constexpr const char* kDefaultControlSocket = "/run/fpm-sink/control.sock";

// A reply built in slices on the io thread, between other handlers. The
// server asks for the next part only once the previous one is written, so a
// client that stops reading stops the production.
class ReplyStream {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~ReplyStream() = default;
  // Fills `part` with the next piece (possibly nothing yet), working until
  // about `deadline`. Returns false when this part is the last one. May throw,
  // which ends the reply with an error.
  virtual bool next(Clock::time_point deadline, Response* part) = 0;
};

using Reply = std::variant<Response, std::unique_ptr<ReplyStream>>;

struct ServerLimits {
  // Streamed replies in progress at once; one more gets control.busy. Bounds
  // what clients can make the daemon hold (a route dump keeps 24 bytes per route).
  size_t max_streams = 4;
  // A client that takes none of a pending reply for this long is dropped,
  // and everything its reply held with it.
  std::chrono::milliseconds stall_timeout{std::chrono::seconds(30)};
  PacerConfig pacing;
};

namespace detail {
struct ServerState;
}

class ControlServer {
 public:
  // Runs on the io_context thread; may throw, which becomes an error response.
  using Handler = std::function<Reply(const Request&)>;

  ControlServer(boost::asio::io_context& io, Handler handler, ServerLimits limits = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Creates a missing parent directory (0700), replaces a stale socket file,
  // binds with mode 0600 and starts accepting. Errors: control.socket.path_too_long,
  // control.socket.not_socket, control.socket.in_use, control.socket.mkdir,
  // control.socket.bind, control.socket.listen.
  Status open(const std::string& path);
  // Stops accepting and removes the socket file (only if open() created it).
  void close();

  const std::string& path() const { return path_; }
  // Streamed replies in progress, and encoded reply bytes waiting for their
  // clients to read them (what slow clients cost right now).
  size_t active_streams() const;
  size_t buffered_bytes() const;

 private:
  void accept_next();

  boost::asio::io_context& io_;
  std::shared_ptr<detail::ServerState> state_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
  bool bound_ = false;
};

// Runs handler on req, turning exceptions into an Error response.
Reply dispatch(const ControlServer::Handler& handler, const Request& req);
Response error_response(const std::string& id, const std::string& message);

}  // namespace fpm_sink::control
