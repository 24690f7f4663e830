#include "app/service_notify.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <cstring>
#include <ctime>
#include <string>

namespace fpm_sink {

ServiceNotifier::ServiceNotifier(boost::asio::io_context& io) : watchdog_timer_(io) {}

ServiceNotifier::~ServiceNotifier() {
  stop_watchdog();
}

void ServiceNotifier::send(const std::string& state) {
  // 0: not told to notify (no NOTIFY_SOCKET); the environment stays, so
  // every later message goes to the same socket.
  const int rc = sd_notify(0, state.c_str());
  if (rc < 0)
    spdlog::warn("service.notify {}: {}", state.substr(0, state.find('\n')), std::strerror(-rc));
}

void ServiceNotifier::ready(std::string_view status) {
  send("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::reloading() {
  // MONOTONIC_USEC lets systemd >= 253 (Type=notify-reload) match the reload
  // to this message; older versions ignore it.
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  const long long usec = static_cast<long long>(now.tv_sec) * 1000000 + now.tv_nsec / 1000;
  send("RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=" + std::to_string(usec));
}

void ServiceNotifier::stopping() {
  send("STOPPING=1\nSTATUS=stopping");
}

void ServiceNotifier::status(std::string_view status) {
  send("STATUS=" + std::string(status));
}

void ServiceNotifier::start_watchdog() {
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
  // Half the interval, as sd_watchdog_enabled(3) advises: one late tick is not fatal.
  watchdog_interval_ = std::chrono::microseconds(usec / 2);
  spdlog::info("service.watchdog ping every {} ms (WatchdogSec={} ms)",
               watchdog_interval_.count() / 1000, usec / 1000);
  send("WATCHDOG=1");
  arm_watchdog();
}

void ServiceNotifier::stop_watchdog() {
  watchdog_interval_ = std::chrono::microseconds(0);
  watchdog_timer_.cancel();
}

void ServiceNotifier::arm_watchdog() {
  watchdog_timer_.expires_after(watchdog_interval_);
  watchdog_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec || watchdog_interval_.count() == 0) return;
    send("WATCHDOG=1");
    arm_watchdog();
  });
}

}  // namespace fpm_sink
