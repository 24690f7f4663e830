// The daemon side of the control socket: a Unix stream socket (mode 0600)
// answering one Request with one Response per exchange. A broken or hostile
// client can only lose its own connection; nothing it sends reaches the
// handler unless it parsed as a Request.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <memory>
#include <string>

#include "common/result.hpp"
#include "control.pb.h"

namespace fpm_sink::control {

constexpr const char* kDefaultControlSocket = "/run/fpm-sink/control.sock";

class ControlServer {
 public:
  // Runs on the io_context thread; may throw, which becomes an error response.
  using Handler = std::function<Response(const Request&)>;

  ControlServer(boost::asio::io_context& io, Handler handler);
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

 private:
  void accept_next();

  boost::asio::io_context& io_;
  std::shared_ptr<const Handler> handler_;
  boost::asio::local::stream_protocol::acceptor acceptor_;
  std::string path_;
  bool bound_ = false;
};

// Runs handler on req, turning exceptions into an Error response.
Response dispatch(const ControlServer::Handler& handler, const Request& req);
Response error_response(const std::string& id, const std::string& message);

}  // namespace fpm_sink::control
