#include "app/fpm_session.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/write.hpp>

#include "app/fpm_server.hpp"
#include "app/offload_feedback.hpp"

namespace fpm_sink {

std::string endpoint_text(const boost::asio::ip::tcp::endpoint& ep) {
  const auto addr = ep.address();
  return (addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string()) + ":" +
         std::to_string(ep.port());
}

FpmSession::FpmSession(boost::asio::ip::tcp::socket socket, FpmServer& server, Ingest ingest)
    : socket_(std::move(socket)), server_(server), ingest_(std::move(ingest)) {
  boost::system::error_code ec;
  const auto remote = socket_.remote_endpoint(ec);
  peer_ = ec ? std::string("?") : endpoint_text(remote);
}

void FpmSession::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ec;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
}

void FpmSession::read_more() {
  const auto space = ingest_.prepare();
  socket_.async_read_some(
      boost::asio::buffer(space.data(), space.size()),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
        if (self->closed_) return;
        if (ec) {
          const bool eof = ec == boost::asio::error::eof;
          self->server_.on_session_end(*self, eof ? "peer closed" : ec.message());
          return;
        }
        self->server_.on_activity();
        if (auto st = self->ingest_.commit(n); !st) {
          // The header cannot be trusted, so neither can anything after it:
          // close and let zebra reconnect and replay from a clean stream.
          spdlog::error("{} peer={}", st.error().to_string(), self->peer_);
          self->server_.on_session_end(*self, st.error().id);
          return;
        }
        self->write_replies();
        self->read_more();
      });
}

void FpmSession::write_replies() {
  if (closed_ || writing_ || !server_.feedback_) return;
  replies_.clear();
  if (server_.feedback_->fill(replies_, kReplyBatch) == 0) return;
  writing_ = true;
  boost::asio::async_write(
      socket_, boost::asio::buffer(replies_),
      [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
        self->writing_ = false;
        if (self->closed_) return;
        if (ec) {
          self->server_.on_session_end(*self, "write: " + ec.message());
          return;
        }
        self->write_replies();
      });
}

}  // namespace fpm_sink
