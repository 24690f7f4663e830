#include "control/client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <vector>

#include "control/codec.hpp"

namespace fpm_sink::control {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// Async operations on a private io_context give every wait one deadline,
// which blocking socket calls cannot.
class Exchange {
 public:
  Exchange(const std::string& path, std::string request, const PartHandler& on_part,
           std::chrono::milliseconds timeout)
      : path_(path), request_(std::move(request)), on_part_(on_part), timeout_(timeout) {}

  Status run() {
    arm_deadline();
    socket_.async_connect(local::endpoint(path_), [this](auto ec) {
      if (ec) return fail("control.client.connect", path_ + ": " + ec.message(), ec.value());
      asio::async_write(socket_, asio::buffer(request_), [this](auto ec, size_t) {
        if (ec) return fail("control.client.io", "write: " + ec.message());
        read_length();
      });
    });
    io_.run();
    return status_.value_or(ok_status());
  }

 private:
  void arm_deadline() {
    deadline_.expires_after(timeout_);
    deadline_.async_wait([this](const boost::system::error_code& ec) {
      if (ec) return;  // re-armed or finished
      fail("control.client.timeout",
           "no response from " + path_ + " within " + std::to_string(timeout_.count()) + " ms");
    });
  }

  void read_length() {
    asio::async_read(socket_, asio::buffer(len_), [this](auto ec, size_t) {
      if (ec) return fail("control.client.io", "read: " + ec.message());
      const uint32_t size = decode_length(len_);
      if (size > kMaxResponseSize)
        return fail("control.client.too_large", std::to_string(size) + " bytes");
      body_.resize(size);
      asio::async_read(socket_, asio::buffer(body_), [this](auto ec, size_t) {
        if (ec) return fail("control.client.io", "read: " + ec.message());
        Response resp;
        if (!resp.ParseFromArray(body_.data(), static_cast<int>(body_.size())))
          return fail("control.client.malformed", "response did not parse");
        const bool more = resp.more();
        on_part_(std::move(resp));
        if (!more) return finish(ok_status());
        arm_deadline();
        read_length();
      });
    });
  }

  void fail(const char* id, std::string message, int err = 0) {
    finish(fpm_sink::Error{id, std::move(message), err});
  }

  void finish(Status st) {
    if (!status_) status_.emplace(std::move(st));
    deadline_.cancel();
    io_.stop();
  }

  asio::io_context io_;
  local::socket socket_{io_};
  asio::steady_timer deadline_{io_};
  std::string path_;
  std::string request_;
  const PartHandler& on_part_;
  std::chrono::milliseconds timeout_;
  std::array<uint8_t, kLengthSize> len_{};
  std::vector<uint8_t> body_;
  std::optional<Status> status_;
};

}  // namespace

Status call_parts(const std::string& socket_path, Request request, const PartHandler& on_part,
                  std::chrono::milliseconds timeout) {
  request.set_accept_parts(true);
  auto encoded = encode_message(request, kMaxRequestSize);
  if (!encoded) return encoded.error();
  Exchange exchange(socket_path, std::move(encoded.value()), on_part, timeout);
  return exchange.run();
}

Result<Response> call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout) {
  Response whole;
  auto st = call_parts(
      socket_path, request, [&whole](Response&& part) { whole.MergeFrom(part); }, timeout);
  if (!st) return st.error();
  whole.clear_more();
  return whole;
}

}  // namespace fpm_sink::control
