#include "control/server.hpp"

#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <array>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "control/codec.hpp"

namespace fpm_sink::control {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace detail {

// What the server shares with its connections, which can outlive it by a few
// handlers.
struct ServerState {
  ControlServer::Handler handler;
  ServerLimits limits;
  size_t streams = 0;   // connections with a ReplyStream in progress
  size_t buffered = 0;  // bytes of encoded replies not yet taken by their clients
};

}  // namespace detail

namespace {

// One client connection; owns itself through the shared_ptrs in its handlers
// so a client that vanishes mid-exchange simply drops the last reference, and
// with it any reply stream in progress.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(local::socket socket, std::shared_ptr<detail::ServerState> state)
      : socket_(std::move(socket)),
        state_(std::move(state)),
        stall_timer_(socket_.get_executor()) {}
  ~Connection() {
    end_stream();
    release_out();
  }

  void start() { read_length(); }

 private:
  using Clock = ReplyStream::Clock;
  enum class After { ReadNext, Close, NextPart };

  void read_length() {
    asio::async_read(socket_, asio::buffer(len_), [self = shared_from_this()](auto ec, size_t) {
      if (ec) return;  // EOF after the last exchange, or the client went away
      const uint32_t size = decode_length(self->len_);
      if (size > kMaxRequestSize) {
        spdlog::warn("control.request.too_large size={}", size);
        self->send(error_response("control.request.too_large",
                                  "request of " + std::to_string(size) + " bytes"),
                   After::Close);
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
        self->send(error_response("control.request.malformed", "request did not parse"),
                   After::Close);
        return;
      }
      self->serve(dispatch(self->state_->handler, req), req.accept_parts());
    });
  }

  void serve(Reply reply, bool accept_parts) {
    if (auto* resp = std::get_if<Response>(&reply)) return send(*resp, After::ReadNext);
    if (state_->streams >= state_->limits.max_streams) {
      spdlog::warn("control.busy streams={}", state_->streams);
      return send(error_response("control.busy", std::to_string(state_->streams) +
                                                     " long replies in progress, try again"),
                  After::ReadNext);
    }
    stream_ = std::move(std::get<std::unique_ptr<ReplyStream>>(reply));
    ++state_->streams;
    accept_parts_ = accept_parts;
    yield_then_produce();
  }

  // Goes to the back of the io queue; how long that took is how busy the
  // rest of the daemon is, which sets the length of the next slice.
  void yield_then_produce() {
    asio::post(socket_.get_executor(), [self = shared_from_this(), posted = Clock::now()] {
      self->produce(Clock::now() - posted);
    });
  }

  void produce(Clock::duration waited) {
    const auto start = Clock::now();
    Response part;
    bool more = false;
    try {
      more = stream_->next(start + slice_length(waited, state_->limits.pacing), &part);
    } catch (const std::exception& e) {
      spdlog::error("control.handler.exception what={}", e.what());
      end_stream();
      merged_ = Response{};
      return send(error_response("control.internal", e.what()), After::ReadNext);
    }
    if (!more) end_stream();
    if (!accept_parts_) {
      // An older client wants one Response: built in slices all the same, sent whole.
      merged_.MergeFrom(part);
      if (more) return yield_then_produce();
      const Response whole = std::move(merged_);
      merged_ = Response{};
      return send(whole, After::ReadNext);
    }
    if (more && part.ByteSizeLong() == 0) return yield_then_produce();  // nothing to say yet
    part.set_more(more);
    send(part, more ? After::NextPart : After::ReadNext);
  }

  void end_stream() {
    if (!stream_) return;
    stream_.reset();
    --state_->streams;
  }

  // One encoded Response in flight at a time: the only output a client that
  // stops reading can make this connection hold.
  void send(const Response& resp, After after) {
    auto encoded = encode_message(resp, kMaxResponseSize);
    if (!encoded) {
      spdlog::warn("{}", encoded.error().to_string());
      encoded = encode_message(error_response(encoded.error().id, encoded.error().message),
                               kMaxResponseSize);
    }
    out_ = std::move(encoded.value());
    state_->buffered += out_.size();
    stall_timer_.expires_after(state_->limits.stall_timeout);
    stall_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      spdlog::warn("control.client.stalled timeout_ms={}",
                   self->state_->limits.stall_timeout.count());
      boost::system::error_code ignored;
      self->socket_.close(ignored);  // fails the write, which drops the connection
    });
    asio::async_write(socket_, asio::buffer(out_),
                      [self = shared_from_this(), after](auto ec, size_t) {
                        self->stall_timer_.cancel();
                        self->release_out();
                        if (ec) return;
                        switch (after) {
                          case After::ReadNext:
                            return self->read_length();
                          case After::NextPart:
                            return self->yield_then_produce();
                          case After::Close:
                            return;
                        }
                      });
  }

  void release_out() {
    state_->buffered -= out_.size();
    out_.clear();
    out_.shrink_to_fit();  // big replies must not linger
  }

  local::socket socket_;
  std::shared_ptr<detail::ServerState> state_;
  asio::steady_timer stall_timer_;
  std::array<uint8_t, kLengthSize> len_{};
  std::vector<uint8_t> body_;
  std::string out_;
  std::unique_ptr<ReplyStream> stream_;
  bool accept_parts_ = false;
  Response merged_;  // the parts so far, for a client that does not accept parts
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

Reply dispatch(const ControlServer::Handler& handler, const Request& req) {
  try {
    return handler(req);
  } catch (const std::exception& e) {
    spdlog::error("control.handler.exception what={}", e.what());
    return error_response("control.internal", e.what());
  }
}

ControlServer::ControlServer(asio::io_context& io, Handler handler, ServerLimits limits)
    : io_(io),
      state_(std::make_shared<detail::ServerState>(
          detail::ServerState{std::move(handler), limits, 0, 0})),
      acceptor_(io) {}

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

size_t ControlServer::active_streams() const {
  return state_->streams;
}

size_t ControlServer::buffered_bytes() const {
  return state_->buffered;
}

void ControlServer::accept_next() {
  acceptor_.async_accept([this](boost::system::error_code ec, local::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) std::make_shared<Connection>(std::move(socket), state_)->start();
    accept_next();
  });
}

}  // namespace fpm_sink::control
