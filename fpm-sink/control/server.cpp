#include "control/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "control/codec.hpp"

namespace fpm_sink::control {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// One client connection; owns itself through the shared_ptrs in its handlers
// so a client that vanishes mid-exchange simply drops the last reference.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(local::socket socket, std::shared_ptr<const ControlServer::Handler> handler)
      : socket_(std::move(socket)), handler_(std::move(handler)) {}

  void start() { read_length(); }

 private:
  void read_length() {
    asio::async_read(socket_, asio::buffer(len_), [self = shared_from_this()](auto ec, size_t) {
      if (ec) return;  // EOF after the last exchange, or the client went away
      const uint32_t size = decode_length(self->len_);
      if (size > kMaxRequestSize) {
        spdlog::warn("control.request.too_large size={}", size);
        self->reply(error_response("control.request.too_large",
                                   "request of " + std::to_string(size) + " bytes"),
                    /*then_close=*/true);
        return;
      }
      self->body_.resize(size);
      self->read_body();
    });
  }

  void read_body() {
    asio::async_read(socket_, asio::buffer(body_), [self = shared_from_this()](auto ec, size_t) {
      if (ec) return;
      Request req;
      if (!req.ParseFromArray(self->body_.data(), static_cast<int>(self->body_.size()))) {
        spdlog::warn("control.request.malformed size={}", self->body_.size());
        self->reply(error_response("control.request.malformed", "request did not parse"), true);
        return;
      }
      self->reply(dispatch(*self->handler_, req), false);
    });
  }

  void reply(const Response& resp, bool then_close) {
    auto encoded = encode_message(resp, kMaxResponseSize);
    if (!encoded) {
      spdlog::warn("{}", encoded.error().to_string());
      encoded = encode_message(error_response(encoded.error().id, encoded.error().message),
                               kMaxResponseSize);
    }
    out_ = std::move(encoded.value());
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), then_close](auto ec, size_t) {
                        self->out_.clear();
                        self->out_.shrink_to_fit();  // big replies must not linger
                        if (ec || then_close) return;
                        self->read_length();
                      });
  }

  local::socket socket_;
  std::shared_ptr<const ControlServer::Handler> handler_;
  std::array<uint8_t, kLengthSize> len_{};
  std::vector<uint8_t> body_;
  std::string out_;
};

// A socket file nobody listens on is left over from a crash: safe to replace.
// One that accepts a connection belongs to a live daemon: refuse to steal it.
Status clear_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return ok_status();
  if (!S_ISSOCK(st.st_mode)) {
    return fpm_sink::Error{"control.socket.not_socket", path + " exists and is not a socket"};
  }
  asio::io_context probe_io;
  local::socket probe(probe_io);
  boost::system::error_code ec;
  probe.connect(local::endpoint(path), ec);
  if (!ec) {
    return fpm_sink::Error{"control.socket.in_use", path + " is served by a running process"};
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
    return fpm_sink::Error{"control.socket.unlink", path + ": " + std::strerror(errno), errno};
  }
  spdlog::info("control.socket.stale_replaced path={}", path);
  return ok_status();
}

Status ensure_directory(const std::filesystem::path& dir) {
  std::error_code ec;
  if (dir.empty() || std::filesystem::exists(dir, ec)) return ok_status();
  std::filesystem::create_directories(dir, ec);
  if (ec) return fpm_sink::Error{"control.socket.mkdir", dir.string() + ": " + ec.message()};
  // Only the directory we created is ours to restrict.
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace, ec);
  if (ec) return fpm_sink::Error{"control.socket.mkdir", dir.string() + ": " + ec.message()};
  return ok_status();
}

}  // namespace

Response error_response(const std::string& id, const std::string& message) {
  Response r;
  r.mutable_error()->set_id(id);
  r.mutable_error()->set_message(message);
  return r;
}

Response dispatch(const ControlServer::Handler& handler, const Request& req) {
  try {
    return handler(req);
  } catch (const std::exception& e) {
    spdlog::error("control.handler.exception what={}", e.what());
    return error_response("control.internal", e.what());
  }
}

ControlServer::ControlServer(asio::io_context& io, Handler handler)
    : io_(io), handler_(std::make_shared<const Handler>(std::move(handler))), acceptor_(io) {}

ControlServer::~ControlServer() {
  close();
}

Status ControlServer::open(const std::string& path) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return fpm_sink::Error{"control.socket.path_too_long",
                           "'" + path + "' must be 1.." +
                               std::to_string(sizeof(sockaddr_un::sun_path) - 1) + " bytes"};
  }
  if (auto st = ensure_directory(std::filesystem::path(path).parent_path()); !st) return st;
  if (auto st = clear_stale_socket(path); !st) return st;

  boost::system::error_code ec;
  acceptor_.open(local(), ec);
  if (!ec) {
    // The socket is created by bind(): narrow the umask so it is never briefly world-usable.
    const mode_t old_mask = ::umask(0177);
    acceptor_.bind(local::endpoint(path), ec);
    ::umask(old_mask);
  }
  if (ec) {
    acceptor_.close();
    return fpm_sink::Error{"control.socket.bind", path + ": " + ec.message(), ec.value()};
  }
  bound_ = true;
  path_ = path;
  ::chmod(path.c_str(), 0600);
  acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    close();
    return fpm_sink::Error{"control.socket.listen", path + ": " + ec.message(), ec.value()};
  }
  spdlog::info("control.socket.listening path={}", path);
  accept_next();
  return ok_status();
}

void ControlServer::close() {
  boost::system::error_code ec;
  acceptor_.close(ec);
  if (bound_) {
    ::unlink(path_.c_str());
    bound_ = false;
  }
}

void ControlServer::accept_next() {
  acceptor_.async_accept([this](boost::system::error_code ec, local::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<Connection>(std::move(socket), handler_)->start();
    accept_next();
  });
}

}  // namespace fpm_sink::control
