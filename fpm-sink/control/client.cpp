#include "control/client.hpp"

#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <optional>
#include <vector>

#include "control/codec.hpp"

namespace fpm_sink::control {
namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// Async operations on a private io_context give the whole exchange one
// deadline, which blocking socket calls cannot.
class Exchange {
 public:
  Exchange(const std::string& path, std::string request)
      : path_(path), request_(std::move(request)) {}

  Result<Response> run(std::chrono::milliseconds timeout) {
    socket_.async_connect(local::endpoint(path_), [this](auto ec) {
      if (ec) return fail("control.client.connect", path_ + ": " + ec.message());
      asio::async_write(socket_, asio::buffer(request_), [this](auto ec, size_t) {
        if (ec) return fail("control.client.io", "write: " + ec.message());
        read_length();
      });
    });
    io_.run_for(timeout);
    if (result_) return std::move(*result_);
    return fpm_sink::Error{"control.client.timeout", "no response from " + path_ + " within " +
                                                         std::to_string(timeout.count()) + " ms"};
  }

 private:
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
        result_.emplace(std::move(resp));
        io_.stop();
      });
    });
  }

  void fail(const char* id, std::string message) {
    result_.emplace(fpm_sink::Error{id, std::move(message)});
    io_.stop();
  }

  asio::io_context io_;
  local::socket socket_{io_};
  std::string path_;
  std::string request_;
  std::array<uint8_t, kLengthSize> len_{};
  std::vector<uint8_t> body_;
  std::optional<Result<Response>> result_;
};

}  // namespace

Result<Response> call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout) {
  auto encoded = encode_message(request, kMaxRequestSize);
  if (!encoded) return encoded.error();
  Exchange exchange(socket_path, std::move(encoded.value()));
  return exchange.run(timeout);
}

}  // namespace fpm_sink::control
